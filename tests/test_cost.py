"""The cost model: calls per view measured on moto, times the prices."""
from __future__ import annotations

from collections import Counter

import pytest

from blogctl import cost
from blogctl.cli import main
from blogctl.stage import load_stage

PROD = load_stage("prod")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "PutObject")


@pytest.fixture(scope="module")
def measured() -> tuple[dict[str, cost.Measure], cost.Measure]:
    """Views and an unchanged rebuild of a 12-post blog (more than a home page holds)."""
    return cost.measure_blog(PROD, posts=12, repeats=3)


def one_get_item(response_bytes: int = 10_000, own_ms: float = 1.0) -> cost.Measure:
    return cost.Measure(Counter({("dynamodb", "GetItem"): 1}), 0.5, response_bytes, own_ms)


def test_a_warm_post_view_reads_the_index_only_and_listings_one_query(measured):
    views, _ = measured
    assert views["post"].calls == Counter({("dynamodb", "Query"): 4})  # the post with its image sizes, 3 listings
    for listing in ("home", "tag", "feed"):
        assert views[listing].calls == Counter({("dynamodb", "Query"): 1}), listing
    assert views["post, first view in a new container"].count("GetObject") == 1
    assert all(m.read_units >= 0.5 and m.response_bytes > 1000 for m in views.values())


def test_an_unchanged_rebuild_reads_and_writes_nothing(measured):
    _, rebuild = measured
    assert rebuild.count("Scan") == 0 and rebuild.count("ListObjectsV2") >= 1
    assert rebuild.count(*WRITES) == 0


def test_a_million_views_cost_the_listed_prices():
    views = {name: one_get_item() for name in cost.VIEW_MIX}
    lines = cost.cost_of_views(views, 512, hit_ratio=0.9)
    assert lines["CloudFront requests (HTTPS)"] == pytest.approx(1.00)
    assert lines["data out to readers"] == pytest.approx(10 * cost.CLOUDFRONT_PER_GB)  # 10 GB
    assert lines["API Gateway REST requests"] == pytest.approx(0.35)
    assert lines["Lambda requests"] == pytest.approx(0.02)
    assert lines["DynamoDB on-demand reads"] == pytest.approx(100_000 * 0.5 * 0.125 / 1e6)
    assert lines["S3 GETs"] == 0
    direct = cost.cost_of_views(views, 512, hit_ratio=0.0)
    assert direct["API Gateway REST requests"] == pytest.approx(3.50)
    assert direct["CloudFront requests (HTTPS)"] == 0
    assert direct["data out to readers"] == pytest.approx(10 * cost.INTERNET_PER_GB)


def test_no_views_cost_nothing():
    views = {name: one_get_item() for name in cost.VIEW_MIX}
    assert set(cost.cost_of_views(views, 512, hit_ratio=0.9, count=0).values()) == {0}


def test_billed_time_follows_the_cpu_share_and_adds_aws_latency():
    view = one_get_item(own_ms=10)
    assert view.billed_ms(512) == 40  # 10 ms x 1769/512, plus 5 ms for the GetItem
    assert view.billed_ms(2048) == 15  # a full vCPU and more: no slower than here
    assert view.gb_seconds(2048) == pytest.approx(0.030)  # 15 ms at 2 GB


def test_dollars_keep_small_amounts_readable():
    assert [cost.dollars(a) for a in (0, 2.5, 1234.567, 0.0054, 0.0000081)] == [
        "$0.00", "$2.50", "$1,234.57", "$0.0054", "$0.0000081"]


def test_the_report_shows_the_tables_and_idle_at_zero(measured):
    views, rebuild = measured
    text = cost.report(PROD, views, rebuild, 0.9)
    assert "| post | Query ×4 |" in text
    assert "| **total** |" in text
    assert "Idle, no readers: $0.00 in request charges" in text
    assert "4,320 runs a month" in text


def test_the_command_refuses_an_impossible_hit_ratio(capsys):
    assert main(["cost", "--cdn-hit-ratio", "1.5"]) == 2
    assert "--cdn-hit-ratio" in capsys.readouterr().out


def test_cloudfront_sends_compressed_pages_and_api_gateway_does_not():
    views = {name: cost.Measure(Counter({("dynamodb", "GetItem"): 1}), 0.5, 10_000, 1.0, 2_000)
             for name in cost.VIEW_MIX}
    assert cost.cost_of_views(views, 512, hit_ratio=0.95)["data out to readers"] == pytest.approx(2 * cost.CLOUDFRONT_PER_GB)
    assert cost.cost_of_views(views, 512, hit_ratio=0.0)["data out to readers"] == pytest.approx(10 * cost.INTERNET_PER_GB)


def test_pages_compress_well(measured):
    views, _ = measured
    assert all(0 < m.compressed_bytes < m.response_bytes / 2 for m in views.values())


def test_invalidations_are_free_up_to_a_thousand_paths_a_month():
    assert cost.cost_of_invalidations(60, 15) == 0
    assert cost.cost_of_invalidations(100, 15) == pytest.approx(500 * 0.005)


def test_a_publish_is_invalidated_path_by_path():
    from chalicelib import cdn

    assert 1 < cost.invalidation_paths_per_publish() <= cdn.MAX_PATHS_PER_RUN


def test_the_default_hit_ratio_is_the_cdns_with_instant_edits(measured, monkeypatch, capsys):
    monkeypatch.setattr(cost, "measure_blog", lambda stage: measured)
    assert main(["cost"]) == 0
    assert "behind CloudFront, 95% cache hits" in capsys.readouterr().out
