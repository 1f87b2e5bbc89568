"""chalicelib/cdn.py: which paths a change invalidates, within CloudFront's limits, on moto."""
from __future__ import annotations

import boto3
import moto
import pytest
from botocore.exceptions import ClientError

from chalicelib import cdn


@pytest.fixture
def cloudfront():
    """A moto CloudFront with one distribution in front of an API-like origin."""
    with moto.mock_aws():
        client = boto3.client("cloudfront", region_name="us-east-1")
        distribution = client.create_distribution(DistributionConfig={
            "CallerReference": "test", "Comment": "blog", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "api", "DomainName": "abc.execute-api.us-east-1.amazonaws.com", "OriginPath": "/api",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https",
                                     "MinTTL": 0, "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}},
        })["Distribution"]
        yield client, distribution["Id"]


def sent_paths(client, distribution_id: str) -> list[list[str]]:
    summaries = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [client.get_invalidation(DistributionId=distribution_id, Id=s["Id"])["Invalidation"]
            ["InvalidationBatch"]["Paths"]["Items"] for s in summaries]


def test_a_post_change_maps_to_its_page_its_listings_tags_and_month():
    paths = cdn.paths_for_posts(["hello"], ["python"], ["2024-01"])
    assert paths == {"/posts/hello", "/api/posts/hello", "/tags/python", "/tags/python/feed.xml",
                     "/archive/2024/01", *cdn.LISTING_PATHS}
    assert {"/", "/feed.xml", "/sitemap.xml", "/search*"} <= paths


def test_paths_are_percent_encoded_as_cloudfront_wants():
    assert "/tags/c%2B%2B" in cdn.paths_for_posts([], ["c++"])
    assert "/posts/caf%C3%A9" in cdn.paths_for_posts(["café"])


def test_a_small_change_is_invalidated_exactly():
    paths = cdn.paths_for_posts(["hello"], ["python"], ["2024-01"])
    assert cdn.plan(paths) == sorted(paths)
    assert len(cdn.plan(paths)) <= cdn.MAX_PATHS_PER_RUN


def test_a_large_run_is_one_wildcard_path():
    many = cdn.paths_for_posts([f"post-{n}" for n in range(10_000)], [f"tag-{n}" for n in range(500)])
    assert cdn.plan(many) == [cdn.EVERYTHING]


def test_too_many_wildcards_are_one_wildcard_path():
    assert cdn.plan({"/search*", "/posts/a*", "/tags/b*"}) == [cdn.EVERYTHING]
    assert cdn.plan({"/search*", "/posts/a"}) == ["/posts/a", "/search*"]


def test_a_withdrawn_post_invalidates_everything():
    assert cdn.plan(cdn.WITHDRAWN | cdn.paths_for_posts(["secret"])) == [cdn.EVERYTHING]


@pytest.mark.parametrize("bad", ["posts/a", "/po*sts", "/" + "a" * cdn.MAX_PATH_LENGTH])
def test_malformed_paths_are_refused(bad):
    with pytest.raises(ValueError, match="not an invalidation path"):
        cdn.plan([bad])


def test_one_run_sends_one_invalidation(cloudfront):
    client, distribution_id = cloudfront
    paths = cdn.paths_for_posts(["hello"], ["python"], ["2024-01"]) | cdn.paths_for_posts(["second"])
    assert cdn.invalidate(client, distribution_id, paths, reference="run-1")
    assert sent_paths(client, distribution_id) == [sorted(paths)]


def test_a_huge_run_sends_one_path(cloudfront):
    client, distribution_id = cloudfront
    cdn.invalidate(client, distribution_id, cdn.paths_for_posts([f"p{n}" for n in range(5000)]), reference="bulk")
    assert sent_paths(client, distribution_id) == [[cdn.EVERYTHING]]


def test_nothing_to_invalidate_or_no_cdn_makes_no_call(cloudfront):
    client, distribution_id = cloudfront
    assert cdn.invalidate(client, distribution_id, [], reference="idle") is None
    assert cdn.invalidate(client, "", ["/"], reference="no-cdn") is None
    assert sent_paths(client, distribution_id) == []


class Busy:
    """A CloudFront that has too many invalidations in progress (moto does not model the limit)."""

    def create_invalidation(self, **_):
        raise ClientError({"Error": {"Code": "TooManyInvalidationsInProgress", "Message": "busy"}},
                          "CreateInvalidation")


def test_a_busy_distribution_leaves_pages_to_expire(caplog):
    assert cdn.invalidate(Busy(), "E123", ["/posts/a"], reference="r") is None
    assert "deferred to s-maxage" in caplog.text


def test_other_errors_are_raised(cloudfront):
    client, _ = cloudfront
    with pytest.raises(ClientError):
        cdn.invalidate(client, "ENOSUCHDISTRIBUTION", ["/"], reference="r")
