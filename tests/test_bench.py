"""The benchmark helpers: ratios, medians, interleaving, the AWS meter, the table and results.json.

Fast checks of the measuring code only; no benchmark runs here and nothing is timed.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from bench import figures, timing
from bench.__main__ import GROUPS, parse_args
from bench.world import KnownSources, fast_dynamodb_responses, post_slug, post_source
from chalicelib import aws, ingest, posts
from chalicelib.store import PostIndex


def test_ratio_and_median():
    assert timing.ratio(3.0, 2.0) == 1.5
    assert timing.ratio(0.0, 0.0) == 0.0
    assert timing.ratio(1.0, 0.0) == float("inf")
    assert timing.median([5.0, 1.0, 3.0, 100.0, 2.0]) == 3.0
    with pytest.raises(ValueError):
        timing.median([])


def test_interleave_alternates_the_order_every_round():
    order = []
    samples = timing.interleave({"a": lambda: order.append("a") or 1, "b": lambda: order.append("b") or 2}, 3)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert samples == {"a": [1, 1, 1], "b": [2, 2, 2]}


def test_seconds_keeps_the_collector_paused_and_restores_it():
    import gc

    seen = []
    assert timing.seconds(lambda: seen.append(gc.isenabled())) >= 0
    assert seen == [False] and gc.isenabled()


def test_figures_judge_report_and_fail():
    assert figures.judged("a.b", "A", "1", "≤ 2", True).status == figures.PASS
    assert figures.judged("a.b", "A", "3", "≤ 2", False).status == figures.FAIL
    assert figures.reported("a.c", "C", "7").goal == figures.NO_GOAL
    broken = figures.failed("a.d", "D", "≤ 5 MB", "no network")
    assert broken.status == figures.ERROR and broken.measured == "not measured: no network"
    assert figures.times(1.234) == "1.23×" and figures.ms(0.0123) == "12.3 ms"


def test_tables_line_up_and_escape_pipes():
    rows = [figures.judged("x.y", "Short", "1 | 2", "goal", True), figures.reported("x.z", "A longer label", "3")]
    text = figures.text_table(rows).splitlines()
    assert text[0].startswith("figure") and set(text[1]) <= {"-", " "}
    column = text[0].index("measured")
    assert text[2][column:].startswith("1 | 2") and text[3][column:].startswith("3 ")
    markdown = figures.markdown_table(rows).splitlines()
    assert markdown[0] == "| figure | measured | goal | result |"
    assert "1 \\| 2" in markdown[2] and markdown[3].endswith("| info |")


def test_results_are_stable_json(tmp_path):
    rows = [figures.judged("b.two", "B", "2", "g", True, value=2), figures.reported("a.one", "A", "1")]
    started = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    document = figures.results(rows, ["b", "a"], started, 12.34, tmp_path,
                               machine_info=lambda: {"cpus": 2, "processor": "test"})
    path = tmp_path / "results.json"
    figures.write_results(path, document)
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert loaded["date"] == "2026-01-02" and loaded["duration_seconds"] == 12.3
    assert list(loaded["figures"]) == ["a.one", "b.two"]  # sorted keys: runs diff cleanly
    assert loaded["figures"]["b.two"]["data"] == {"value": 2}
    assert loaded["summary"] == {"FAIL": 0, "error": 0, "info": 1, "pass": 1}
    assert loaded["commit"] == ""  # tmp_path is no git checkout
    assert figures.from_results(loaded) == rows  # in the table's order, for `--show`


def test_machine_info_names_the_cpus():
    info = figures.machine()
    assert info["cpus"] and info["python"] and info["platform"]


def test_command_line_groups():
    assert parse_args([]).groups == []
    assert parse_args(["calls", "render"]).groups == ["calls", "render"]
    with pytest.raises(SystemExit):
        parse_args(["nonsense"])
    assert set(GROUPS) == {"calls", "listing", "render", "startup", "ingest", "throughput", "package", "search"}


def test_describe_calls():
    assert timing.describe_calls(Counter()) == "none"
    assert timing.describe_calls(Counter({("s3", "GetObject"): 2, ("dynamodb", "GetItem"): 1})) == \
        "dynamodb GetItem ×1, s3 GetObject ×2"


def test_generated_posts_parse_and_sort_newest_first():
    first, second = (posts.parse_post(f"posts/{post_slug(n)}.md", post_source(n)) for n in (0, 1))
    assert first.slug == "bench-post-00000" and first.date > second.date
    assert [t.slug for t in first.tags] == ["python"]


def test_meter_counts_times_and_keeps_scanned_counts(index: PostIndex):
    meter = timing.AwsMeter()
    meter.attach(aws.client("dynamodb"))
    index.get_post("nothing")
    index.listing("9999", 10)
    assert meter.count() == Counter({("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1})
    assert meter.scanned == [0] and meter.seconds > 0 and meter.writes() == []
    index.put_site({"x": 1})
    assert meter.writes() == [("dynamodb", "PutItem")]
    meter.reset()
    assert meter.count() == Counter() and meter.seconds == 0


def test_fast_dynamodb_responses_are_the_same_json(index: PostIndex, content):
    """moto's own serializer and the bench's json.dumps shortcut give the client the same answer."""
    client = aws.client("dynamodb")
    for number in range(3):
        key, data = f"posts/{post_slug(number)}.md", post_source(number)
        item = ingest.post_item(posts.parse_post(key, data), content.put(key, data, "text/markdown"),
                                dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc), rev=1)
        tx = index.transaction()
        tx.put(item)
        index.commit(tx)
    requests = [("scan", {"TableName": index.table}),
                ("query", {"TableName": index.table, "IndexName": "listing", "Limit": 2,
                           "KeyConditionExpression": "listing = :p",
                           "ExpressionAttributeValues": {":p": {"S": "PUBLIC"}}}),
                ("get_item", {"TableName": index.table, "Key": {"pk": {"S": "POST#bench-post-00001"},
                                                                "sk": {"S": "POST"}}})]
    for operation, params in requests:
        slow = getattr(client, operation)(**params)
        with fast_dynamodb_responses():
            fast = getattr(client, operation)(**params)
        for answer in (slow, fast):
            answer.pop("ResponseMetadata")
        assert fast == slow


def test_known_sources_answer_from_memory_and_fall_back(content):
    content.put("posts/stored.md", b"stored", "text/markdown")
    known = KnownSources(content, {"posts/known.md": b"known"})
    assert known.read_version("posts/known.md", "v1") == b"known"
    assert known.read_version("posts/stored.md", None) == b"stored"
    assert known.bucket == content.bucket
