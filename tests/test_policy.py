"""`.chalice/policy-<stage>.json` grants what the deployed code calls, and nothing more.

For each stage, a workload drives the deployed code through everything it does on AWS
(every route; ingest of uploads, edits, a slug change, broken files and deletions; the
rebuild; search; assets) on moto under the stage's own names. Every call it makes is
recorded with botocore's hooks (tests/iam.py) and checked against the committed policy
file; and every grant of the file must be needed by some call. The check stands alone:
it does not depend on which other tests ran. (conftest's `within_policy` also holds every
other test's calls to the policy.)
"""
from __future__ import annotations

import json

import pytest

from blogctl import policy
from blogctl.sandbox import Sandbox, sandbox
from blogctl.stage import Stage, load_stage
from chalicelib import aws, pages
from conftest import source
from iam import (
    ACCOUNT, Call, OperationLog, action_matches, allows, arn_matches, denied, requests_of, unused_grants,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
BROKEN = b"---\ntitle: [unclosed\n---\n"

# Every route of app.py, with the paths the workload asks for (expected status).
VISITS = {
    "/": [("/", 200)],
    "/posts/{slug}": [("/posts/hello", 200), ("/posts/hi", 301), ("/posts/second", 301),
                      ("/posts/second-post", 200), ("/posts/gone", 410), ("/posts/draft", 404)],
    "/tags": [("/tags", 200)],
    "/tags/{tag}": [("/tags/python", 200)],
    "/tags/{tag}/feed.xml": [("/tags/python/feed.xml", 200)],
    "/archive": [("/archive", 200)],
    "/archive/{year}/{month}": [("/archive/2024/01", 200)],
    "/search": [("/search?q=again", 200)],
    "/feed.xml": [("/feed.xml", 200)],
    "/sitemap.xml": [("/sitemap.xml", 200)],
    "/robots.txt": [("/robots.txt", 200)],
    "/api/posts": [("/api/posts", 200)],
    "/api/posts/{slug}": [("/api/posts/hello", 200)],
    "/static/{name}": [(f"/static/{pages.stylesheet()[0]}", 200)],
    "/assets/{slug}/{name}": [("/assets/hello/cat.png", 200), ("/assets/hello/missing.png", 404)],
    "/{proxy+}": [("/2019/04/hi.html", 301), ("/no/such/page", 404)],
}


def drive(blog: Sandbox) -> dict[str, int]:
    """Everything the deployed code does on AWS, at least once; the status of each page visited."""
    blog.upload("assets/hello/cat.png", PNG, "image/png")
    blog.upload("posts/hello.md", source("Hello", tags=["Python", "AWS"], aliases=["hi", "/2019/04/hi.html"]))
    blog.upload("posts/second.md", source("Second", date="2024-01-03", tags=["Python"]))
    blog.upload("posts/gone.md", source("Gone"))
    blog.upload("posts/draft.md", source("Draft", draft=True))
    blog.deliver()
    blog.rebuild()
    blog.upload("posts/hello.md", source("Hello again", tags=["Python"], aliases=["hi", "/2019/04/hi.html"]))
    blog.upload("posts/second.md", source("Second", date="2024-01-03", tags=["Python"], slug="second-post"))
    blog.upload("posts/broken.md", BROKEN)
    blog.deliver()
    blog.upload("posts/hello.md", BROKEN)  # readers keep "Hello again", read by its VersionId
    blog.delete("posts/gone.md")
    blog.notify("ObjectRemoved:DeleteMarkerCreated", "posts/gone.md")
    blog.deliver()
    blog.delete("posts/draft.md")  # no event at all: the rebuild finds it
    blog.rebuild()
    blog.upload("posts/late.md", source("Late", tags=["Python"]))
    blog.deliver()
    blog.rebuild()  # merges into the previous search index
    return {path: blog.get(path, {"Accept": "image/png"} if path.endswith(".png") else None).status_code
            for visits in VISITS.values() for path, _ in visits}


@pytest.fixture(scope="module", params=["dev", "prod"])
def workload(request, operations: OperationLog) -> tuple[Stage, list[Call], dict[str, int]]:
    """A stage, the calls its deployed code made during the workload, and the pages' statuses."""
    stage = load_stage(request.param)
    start = len(operations.calls)
    with sandbox(stage) as blog:
        statuses = drive(blog)
    return stage, operations.calls[start:], statuses


def committed(stage: Stage) -> dict:
    return json.loads(policy.policy_path(stage).read_text(encoding="utf-8"))


def invisible_requests(stage: Stage) -> list[tuple[str, str]]:
    """Requests made with the functions' roles but not by our code, so botocore never sees them."""
    region, prefix = stage.region, policy.function_prefix(stage)
    # Lambda's event source mapping polls the queue with the ingest function's role.
    queue = f"arn:aws:sqs:{region}:{ACCOUNT}:{stage.queue}"
    requests = [(f"sqs:{action}", queue) for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")]
    # The Lambda runtime creates each function's log group (the request ARN comes with or
    # without ":*"), then writes a stream into it. Chalice names the API function `<prefix>`.
    for function in stage.config["lambda_functions"]:
        group = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/" + (
            prefix if function == "api_handler" else f"{prefix}-{function}")
        stream = f"{group}:log-stream:2026/06/01/[$LATEST]0123456789abcdef"
        requests += [("logs:CreateLogGroup", group), ("logs:CreateLogGroup", f"{group}:*"),
                     ("logs:CreateLogStream", stream), ("logs:PutLogEvents", stream)]
    return requests


def test_the_workload_visits_every_route():
    import app

    assert set(VISITS) == set(app.app.routes)


def test_the_workload_did_what_it_says(workload):
    _, calls, statuses = workload
    assert statuses == {path: status for visits in VISITS.values() for path, status in visits}
    operations = {(c.service, c.operation) for c in calls}
    assert {("dynamodb", "TransactWriteItems"), ("dynamodb", "BatchGetItem"), ("s3", "ListObjectsV2")} <= operations
    merges = [c for c in calls if c.operation == "UpdateItem" and "REMOVE" in c.params["UpdateExpression"]]
    assert len(merges) >= 4  # the search queue, merged by both rebuilds


def test_only_the_deployed_code_is_recorded(workload):
    stage, calls, _ = workload
    uploads = [c for c in calls if c.operation == "PutObject" and not c.params["Key"].startswith("_site/")]
    assert uploads == []  # the workload's own uploads are not the code's calls
    assert {c.names.bucket for c in calls} == {stage.bucket}


def test_the_policy_allows_every_call_the_code_makes(workload):
    stage, calls, _ = workload
    assert denied(calls, committed(stage)) == []


def test_the_policy_allows_lambda_to_poll_the_queue_and_write_logs(workload):
    stage, _, _ = workload
    assert [r for r in invisible_requests(stage) if not allows(committed(stage), *r)] == []


def test_the_policy_grants_nothing_the_code_does_not_use(workload):
    stage, calls, _ = workload
    used = [request for call in calls for request in requests_of(call)] + invisible_requests(stage)
    assert unused_grants(committed(stage), used) == []


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_committed_policies_match_the_config(name):
    stage = load_stage(name)
    assert policy.is_current(stage), "run `python -m blogctl policy` and commit the result"


def test_a_missing_grant_is_caught(workload):
    stage, calls, _ = workload
    document = committed(stage)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "ReadPostVersions"]
    assert any("s3:GetObjectVersion on arn:aws:s3:::" in problem for problem in denied(calls, document))


def test_an_unneeded_grant_is_caught(workload):
    stage, calls, _ = workload
    document = committed(stage)
    extra = f"arn:aws:s3:::{stage.bucket}/posts/*"
    document["Statement"].append({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": extra})
    used = [request for call in calls for request in requests_of(call)] + invisible_requests(stage)
    assert unused_grants(document, used) == [("s3:DeleteObject", extra)]


def test_iam_wildcards_stay_within_an_arn_segment():
    assert arn_matches("arn:aws:s3:::b/posts/*", "arn:aws:s3:::b/posts/2024/a.md")
    assert not arn_matches("arn:aws:s3:::b/posts/*", "arn:aws:s3:::b/assets/a.png")
    assert arn_matches("arn:aws:dynamodb:us-east-1:*:table/t", "arn:aws:dynamodb:us-east-1:123456789012:table/t")
    assert not arn_matches("arn:aws:dynamodb:us-east-1:*:table/t", "arn:aws:dynamodb:us-east-1:1:table/t/index/i")
    assert not arn_matches("arn:aws:dynamodb:*:table/t", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert not arn_matches("arn:aws:dynamodb:eu-west-1:*:table/t", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert action_matches("s3:Get*", "s3:GetObjectVersion") and action_matches("S3:getobject", "s3:GetObject")
    assert not action_matches("s3:GetObject", "s3:GetObjectVersion")


def test_calls_map_to_the_actions_iam_checks():
    names = policy.resource_names(load_stage("dev"))
    versioned = Call("s3", "GetObject", {"Bucket": "b", "Key": "posts/a.md", "VersionId": "v1"}, "us-east-1", names)
    assert requests_of(versioned) == [("s3:GetObjectVersion", "arn:aws:s3:::b/posts/a.md")]
    listing = Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "posts/"}, "us-east-1", names)
    assert requests_of(listing) == [("s3:ListBucket", "arn:aws:s3:::b")]
    transaction = Call("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": {}}}, {"Delete": {"TableName": "t", "Key": {}}}]}, "us-east-1", names)
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"
    assert requests_of(transaction) == [("dynamodb:PutItem", table), ("dynamodb:DeleteItem", table)]
    query = Call("dynamodb", "Query", {"TableName": "t", "IndexName": "listing"}, "us-east-1", names)
    assert requests_of(query) == [("dynamodb:Query", f"{table}/index/listing")]
