"""The benchmark helpers: ratios, medians, interleaving, the AWS meter, the table and results.json.

Fast checks of the measuring code only; no benchmark runs here and nothing is timed.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest

from bench import figures, timing
from bench.__main__ import GROUPS, parse_args
from bench.world import KnownSources, fast_dynamodb_responses, post_slug, post_source
from blogctl.stage import PROJECT_DIR
from chalicelib import aws, indexer, posts, render, transitions
from chalicelib.store import PostIndex


def test_ratio_and_median():
    assert timing.ratio(3.0, 2.0) == 1.5
    assert timing.median([5.0, 1.0, 3.0, 100.0, 2.0]) == 3.0
    with pytest.raises(timing.NotMeasured, match="no measurements"):
        timing.median([])


@pytest.mark.parametrize("numerator, denominator", [(0.0, 0.0), (0.0, 2.0), (1.0, 0.0), (-1.0, 2.0),
                                                    (float("nan"), 1.0), (1.0, float("inf"))])
def test_a_ratio_of_a_zero_or_missing_measurement_is_refused(numerator, denominator):
    with pytest.raises(timing.NotMeasured, match="not a measurement"):
        timing.ratio(numerator, denominator)


def test_a_zero_measurement_fails_the_figure_and_says_why():
    def build() -> figures.Figure:
        value = timing.ratio(0.0, 0.0)  # nothing was timed: would be "0.00×", under every goal
        return figures.judged("r.x", "X", figures.times(value), "≤ 1.50×", value <= 1.5)

    figure = figures.guarded("r.x", "X", "≤ 1.50×", build)
    assert figure.status == figures.ERROR and figure.status != figures.PASS
    assert figure.measured == "not measured: the numerator of a ratio is 0.0, not a measurement"
    assert figures.guarded("r.y", "Y", "g", lambda: figures.reported("r.y", "Y", "1")).status == figures.INFO


def test_interleave_alternates_the_order_every_round():
    order = []
    samples = timing.interleave({"a": lambda: order.append("a") or 1, "b": lambda: order.append("b") or 2}, 3)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert samples == {"a": [1, 1, 1], "b": [2, 2, 2]}


def test_seconds_keeps_the_collector_paused_and_restores_it():
    import gc

    seen = []
    took = timing.seconds(lambda: seen.append(gc.isenabled()) or sum(range(200_000)))
    assert seen == [False] and gc.isenabled()
    assert 0 < took < 10  # the CPU time of real work, in seconds


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
    assert set(GROUPS) == {"calls", "listing", "render", "markdown", "startup", "ingest", "writes", "throughput",
                           "package", "search", "scale", "localstack"}


def test_describe_calls():
    assert timing.describe_calls(Counter()) == "none"
    assert timing.describe_calls(Counter({("s3", "GetObject"): 2, ("dynamodb", "GetItem"): 1})) == \
        "dynamodb GetItem ×1, s3 GetObject ×2"


def test_generated_posts_parse_and_sort_newest_first():
    first, second = (posts.parse_post(f"posts/{post_slug(n)}.md", post_source(n)) for n in (0, 1))
    assert first.slug == "bench-post-00000" and first.date > second.date
    assert [t.slug for t in first.tags] == ["python"]


def test_meter_counts_times_and_keeps_scanned_counts(index: PostIndex):
    with timing.meter().recording(aws.client("dynamodb")) as meter:
        total, own = timing.own_seconds(lambda: (index.post("nothing"), index.listing("9999", 10)), meter)
        assert meter.count() == Counter({("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1})
        assert meter.scanned() == [0] and meter.writes() == []
        assert 0 < meter.aws_seconds <= total and own == pytest.approx(total - meter.aws_seconds)
        index.put_site({"x": 1})
        assert meter.writes() == [("dynamodb", "PutItem")]
        meter.clear()
        assert meter.count() == Counter() and meter.aws_seconds == 0


def test_the_readme_table_is_the_committed_run():
    """`make bench` writes bench/results.json and README.md's table from one run: they must agree."""
    document = json.loads((PROJECT_DIR / "bench" / "results.json").read_text(encoding="utf-8"))
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert figures.table_in_readme(readme) == figures.readme_table(document)
    assert document["commit"] and document["commit"] in figures.table_in_readme(readme)


def test_readme_table_is_replaced_between_its_markers_only():
    rows = [figures.judged("a.b", "A", "1", "g", True)]
    document = figures.results(rows, ["a"], dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc), 1.0, PROJECT_DIR,
                               machine_info=lambda: {"cpus": 2, "processor": "test", "python": "3.11"})
    readme = f"# Title\n\n{figures.README_BEGIN}\nold table\n{figures.README_END}\n\nNotes.\n"
    updated = figures.readme_with_table(readme, document)
    assert updated.startswith(f"# Title\n\n{figures.README_BEGIN}\nMeasured 2026-01-02 on test, 2 CPUs")
    assert updated.endswith(f"| A | 1 | g | pass |\n{figures.README_END}\n\nNotes.\n")
    assert "old table" not in updated
    with pytest.raises(ValueError, match="markers"):
        figures.readme_with_table("# no markers\n", document)


def test_fast_dynamodb_responses_are_the_same_json(index: PostIndex, content):
    """moto's own serializer and the bench's json.dumps shortcut give the client the same answer."""
    client = aws.client("dynamodb")
    for number in range(3):
        key, data = f"posts/{post_slug(number)}.md", post_source(number)
        post = posts.parse_post(key, data)
        record = indexer.record_of(post, render.render_markdown(post.body), content.put(key, data, "text/markdown"),
                                  dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc), rev=1)
        index.commit([transitions.Put(record.to_item())])
    requests: list[tuple[str, dict[str, Any]]] = [("scan", {"TableName": index.table}),
                ("query", {"TableName": index.table, "IndexName": "listing", "Limit": 2,
                           "KeyConditionExpression": "listing = :p",
                           "ExpressionAttributeValues": {":p": {"S": "PUBLIC"}}}),
                ("query", {"TableName": index.table, "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "POST#bench-post-00001"}}}),
                ("query", {"TableName": index.table, "KeyConditionExpression": "pk = :p", "ScanIndexForward": False,
                           "ExpressionAttributeValues": {":p": {"S": "POST#nothing"}}}),
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


def test_writes_per_upload_count_the_actions_of_each_transaction(index: PostIndex, publish):
    from bench.writes import weigh
    from blogctl.recorder import CallRecorder
    from chalicelib import aws
    from conftest import source

    recorder = CallRecorder(keep_params=True)
    with recorder.recording(aws.client("dynamodb")):
        outcome = publish("posts/w.md", source("W", tags=["a", "b"]))
    weighed = weigh(recorder, outcome.action)
    transactions = [c for c in recorder.calls if c.operation == "TransactWriteItems"]
    assert weighed.write_calls == 1 and weighed.calls["Query"] == 1
    assert weighed.items == len((transactions[0].params or {})["TransactItems"]) >= 6  # post, 2 tags, 2 counts, month…


def test_a_post_view_is_judged_by_its_calls_pages_and_renders():
    from bench.calls import POST_PAGE_ITEMS, Seen, cases, problems
    from blogctl.recorder import Call

    def query(limit, scanned, index="listing", pk=None):
        params = {"TableName": "t", "ExpressionAttributeValues": {":p": {"S": pk or "PUBLIC"}}}
        params.update({"Limit": limit} if limit is not None else {})
        params.update({"IndexName": index} if index else {})
        return Call("dynamodb", "Query", "us-east-1", 0.001, scanned=scanned, params=params)

    post = query(None, 2, index=None, pk="POST#a")
    designed = [post, query(1, 1), query(1, 1), query(POST_PAGE_ITEMS, POST_PAGE_ITEMS, index=None, pk="TAG#x")]
    view, revalidation, home = cases("a")[:3]
    assert problems(view, Seen(200, designed)) == []
    assert problems(revalidation, Seen(304, designed)) == []
    assert problems(revalidation, Seen(200, designed)) == ["HTTP 200"]
    s3 = Call("s3", "GetObject", "us-east-1", 0.001)
    assert problems(view, Seen(200, [*designed, s3])) == ["not a Query: s3 GetObject ×1"]
    assert problems(view, Seen(200, [*designed, query(1, 1)])) == ["5 Queries"]
    assert problems(view, Seen(200, [post, query(None, 40), query(1, 1)])) == \
        ["Query 2 has no Limit", "Query 2 read 40 items"]
    assert problems(view, Seen(200, [query(None, 7, index=None, pk="POST#a")])) == ["Query 1 read 7 items"]
    assert problems(view, Seen(200, [query(100, 100)])) == ["Query 1 has Limit 100", "Query 1 read 100 items"]
    assert problems(view, Seen(200, designed, Counter({"Markdown": 1}))) == ["rendered: Markdown ×1"]
    assert problems(home, Seen(200, [query(11, 11)], Counter({"template": 1}))) == []  # a listing fills its template
    assert problems(home, Seen(200, [query(11, 11)], Counter({"Markdown": 2}))) == ["rendered: Markdown ×2"]
