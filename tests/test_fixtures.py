"""The fixtures' own promises: every test starts from fresh AWS and settings, and shared setups stay unshared."""
from __future__ import annotations

import os

import pytest

from chalicelib import aws, config, services
from conftest import publish_now, source
from fakeaws import MOTO, NAMES, SharedSetup, fresh_aws, isolation


def test_fresh_aws_holds_only_the_stages_resources(resources):
    s3, dynamodb, sqs = aws.client("s3"), aws.client("dynamodb"), aws.client("sqs")
    publish_now("posts/a.md", source("A"))
    s3.create_bucket(Bucket="another-bucket")
    with fresh_aws():
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [NAMES.bucket]
        assert dynamodb.list_tables()["TableNames"] == [NAMES.table]
        assert sorted(url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]) == \
            [NAMES.queue, NAMES.dead_letter_queue]
        versions = s3.list_object_versions(Bucket=NAMES.bucket)
        assert "Versions" not in versions and "DeleteMarkers" not in versions
        assert dynamodb.scan(TableName=NAMES.table)["Items"] == []
    with fresh_aws(names=None):
        assert s3.list_buckets()["Buckets"] == []


def test_isolation_restores_the_environment_settings_and_clients(resources):
    clients = {service: aws.client(service) for service in ("s3", "dynamodb", "sqs")}
    with isolation():
        os.environ["BLOG_TITLE"] = "Changed by this test"
        os.environ["AWS_REGION"] = "eu-west-1"
        services.reset()
        assert config.get_settings().title == "Changed by this test"
        assert aws.client("s3").meta.region_name == "eu-west-1"
        services.site()
    assert os.environ["BLOG_TITLE"] == "The Blog" and os.environ["AWS_REGION"] == "us-east-1"
    assert config.get_settings().title == "The Blog"
    assert services.site.cache_info().currsize == 0
    assert aws.client("s3").meta.region_name == "us-east-1"
    assert aws.client("s3") is not clients["s3"]  # made again, under the session's settings


def build_counted(counter: list[str]):
    def build() -> None:
        counter.append("built")
        publish_now("posts/shared.md", source("Shared"))
    return build


def test_a_shared_setup_is_built_once_while_nothing_else_touches_moto():
    built: list[str] = []
    setup = SharedSetup("counted", build_counted(built))
    MOTO.start(reset=False)
    try:
        for _ in range(3):
            setup.enter(NAMES)
            assert services.index().post("shared").card.title == "Shared"
            setup.leave()
        assert built == ["built"]
        with fresh_aws():  # another test
            pass
        setup.enter(NAMES)
        assert built == ["built", "built"]
        assert services.index().post("shared").card.title == "Shared"
        setup.leave()
    finally:
        MOTO.stop(remove_data=False)


def test_a_test_that_writes_to_a_shared_setup_fails():
    built: list[str] = []
    setup = SharedSetup("counted", build_counted(built))
    MOTO.start(reset=False)
    try:
        setup.enter(NAMES)
        publish_now("posts/other.md", source("Other"))
        with pytest.raises(pytest.fail.Exception, match="changed the shared setup 'counted'"):
            setup.leave()
        setup.enter(NAMES)  # built again for the next test
        assert built == ["built", "built"]
        assert services.index().post("other") is None
        setup.leave()
    finally:
        MOTO.stop(remove_data=False)
