"""`.chalice/policy-<stage>-<function>.json` grants what that function calls, and nothing more.

For each stage, a workload drives the deployed code through everything it does on AWS
(every route; ingest of uploads, edits, a slug change, broken files and deletions; the
rebuild; search; assets) on moto under the stage's own names. Every call is recorded with
botocore's hooks under the function that made it (tests/iam.py) and checked against that
function's committed policy file; and every grant of each file must be needed by some call
of that function. The check stands alone: it does not depend on which other tests ran.
(conftest's `within_policy` also holds every other test's calls to the policies.)
"""
from __future__ import annotations

import functools
import json
import re
import struct
import time

import pytest

from blogctl import policy
from blogctl.sandbox import Sandbox, sandbox
from blogctl.stage import Stage, load_stage
from chalicelib import aws, pages, templates
from conftest import source
from iam import (
    ACCOUNT, Call, OperationLog, acting_as, action_matches, allows, arn_matches, denied, handler_functions,
    requests_of, unused_grants,
)

FUNCTIONS = ["api_handler", "ingest_uploads", "rebuild_index"]
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
          "dynamodb:BatchWriteItem", "s3:PutObject", "s3:DeleteObject", "sqs:DeleteMessage", "sqs:SendMessage")

PNG = b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sIIBBBBB", 13, b"IHDR", 640, 480, 8, 2, 0, 0, 0) + bytes(64)
BROKEN = b"---\ntitle: [unclosed\n---\n"

# Every route of app.py, with the paths the workload asks for (expected status).
VISITS = {
    "/": [("/", 200)],
    "/posts/{slug}": [("/posts/hello", 200), ("/posts/hi", 301), ("/posts/second", 301),
                      ("/posts/second-post", 200), ("/posts/gone", 410), ("/posts/draft", 404)],
    "/tags": [("/tags", 200)],
    "/tags/{tag}": [("/tags/python", 200)],
    "/tags/{tag}/feed.xml": [("/tags/python/feed.xml", 200)],
    "/authors/{author}": [("/authors/ada", 200)],
    "/authors/{author}/feed.xml": [("/authors/ada/feed.xml", 200)],
    "/archive": [("/archive", 200)],
    "/archive/{year}/{month}": [("/archive/2024/01", 200)],
    "/search": [("/search?q=again", 200)],
    "/feed.xml": [("/feed.xml", 200)],
    "/sitemap.xml": [("/sitemap.xml", 200)],
    "/sitemaps/{name}": [("/sitemaps/pages.xml", 200), ("/sitemaps/posts-2024-01.xml", 200)],
    "/robots.txt": [("/robots.txt", 200)],
    "/api/posts": [("/api/posts", 200)],
    "/api/posts/{slug}": [("/api/posts/hello", 200)],
    "/static/{name}": [(f"/static/{templates.stylesheet()[0]}", 200)],
    "/assets/{slug}/{name}": [("/assets/hello/cat.png", 302), ("/assets/nobody/cat.png", 404),
                              ("/assets/hello/missing.png", 404)],
    "/{proxy+}": [("/2019/04/hi.html", 301), ("/no/such/page", 404), ("/index.xml", 301),
                  ("/images/logo.png", 302), ("/assets/bundle/figures/5.png", 302)],
    # `{token:SLUG}` is a live preview link to SLUG, signed when the workload runs
    "/preview/{slug}/{token}": [("/preview/sneak/{token:sneak}", 200), ("/preview/hello/{token:hello}", 200),
                                ("/preview/broken/{token:broken}", 200), ("/preview/sneak/{token:hello}", 404)],
    "/preview/{slug}/{token}/{name}": [("/preview/sneak/{token:sneak}/shot.png", 302)],
}


def drive(blog: Sandbox) -> dict[str, int]:
    """Everything the deployed code does on AWS, at least once; the status of each page visited."""
    from chalicelib import services
    from chalicelib.model import SITE_FILES_PREFIX, SiteConfig

    # An imported site: its config (read by ingest and the site), a file at its old path, a bundle.
    services.index().put_site_config(SiteConfig(generator="hugo", base_url="https://old.example/",
                                                files_prefix=SITE_FILES_PREFIX, feed_paths=("/index.xml",)))
    blog.upload(SITE_FILES_PREFIX + "images/logo.png", PNG, "image/png")
    blog.upload("posts/bundle/index.md", source("Bundle"))
    blog.upload("posts/bundle/figures/5.png", PNG, "image/png")
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
    blog.upload("posts/copycat.md", source("Copycat", slug="hello"))  # the slug is taken: it waits
    blog.deliver()
    blog.upload("posts/hello.md", BROKEN)  # readers keep "Hello again", read by its VersionId
    blog.delete("posts/gone.md")
    blog.notify("ObjectRemoved:DeleteMarkerCreated", "posts/gone.md")
    blog.deliver()
    blog.delete("posts/draft.md")  # no event at all: the rebuild finds it
    blog.upload("posts/missed.md", source("Missed", aliases=["/old/missed"]))
    blog.upload("assets/missed/chart.png", PNG, "image/png")
    blog.rebuild()  # repairs what the queue has not delivered yet (the image's size too)
    blog.upload("posts/late.md", source("Late", tags=["Python"], author="Ada"))
    blog.upload("assets/sneak/shot.png", PNG, "image/png")
    blog.upload("posts/sneak.md", source("Sneak peek", draft=True, body="![shot](shot.png)"))
    blog.deliver()
    blog.rebuild()  # merges into the previous search index
    return {path: blog.get(signed(blog, path)).status_code for visits in VISITS.values() for path, _ in visits}


def signed(blog: Sandbox, path: str) -> str:
    """`path` with each `{token:SLUG}` replaced by a live preview token for SLUG."""
    from chalicelib import preview, services

    secret, expires = services.preview_secret().read(), int(time.time()) + 3600
    return re.sub(r"\{token:([a-z0-9-]+)\}", lambda m: preview.sign(secret, m.group(1), expires), path)


@pytest.fixture(scope="module", params=["dev", "prod"])
def workload(request, operations: OperationLog) -> tuple[Stage, list[Call], dict[str, int]]:
    """A stage, the calls its deployed code made during the workload, and the pages' statuses."""
    stage = load_stage(request.param)
    start = len(operations.calls)
    with sandbox(stage) as blog:
        statuses = drive(blog)
    return stage, operations.calls[start:], statuses


def committed(stage: Stage, function: str) -> dict:
    return json.loads(policy.policy_path(stage, function).read_text(encoding="utf-8"))


def calls_of(calls: list[Call], function: str) -> list[Call]:
    return [c for c in calls if c.function == function]


def invisible_requests(stage: Stage, function: str) -> list[tuple[str, str]]:
    """Requests made with a function's role but not by our code, so botocore never sees them."""
    region = stage.region
    requests = []
    if function == "ingest_uploads":  # Lambda's event source mapping polls the queue with its role
        queue = f"arn:aws:sqs:{region}:{ACCOUNT}:{stage.queue}"
        requests += [(f"sqs:{action}", queue) for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")]
    # The Lambda runtime creates the function's log group (the request ARN comes with or
    # without ":*"), then writes a stream into it.
    group = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{stage.function_name(function)}"
    stream = f"{group}:log-stream:2026/06/01/[$LATEST]0123456789abcdef"
    return requests + [("logs:CreateLogGroup", group), ("logs:CreateLogGroup", f"{group}:*"),
                       ("logs:CreateLogStream", stream), ("logs:PutLogEvents", stream)]


def used(stage: Stage, calls: list[Call], function: str) -> list[tuple[str, str]]:
    return [r for call in calls_of(calls, function) for r in requests_of(call)] + invisible_requests(stage, function)


def test_the_workload_visits_every_route():
    import app

    assert set(VISITS) == set(app.app.routes)


def test_the_workload_did_what_it_says(workload):
    _, calls, statuses = workload
    assert statuses == {path: status for visits in VISITS.values() for path, status in visits}
    operations = {(c.function, c.service, c.operation) for c in calls}
    assert {("ingest_uploads", "dynamodb", "TransactWriteItems"), ("rebuild_index", "s3", "ListObjectsV2"),
            ("api_handler", "dynamodb", "GetItem"), ("api_handler", "dynamodb", "BatchGetItem")} <= operations
    assert not any(c.operation == "Scan" for c in calls)  # nothing deployed scans the table
    merges = [c for c in calls if c.operation == "UpdateItem" and "REMOVE" in c.params["UpdateExpression"]]
    assert len(merges) >= 4 and {c.function for c in merges} == {"rebuild_index"}  # the search queue, merged


def test_every_function_was_driven(workload):
    _, calls, _ = workload
    assert {c.function for c in calls} == set(FUNCTIONS)


def test_only_the_deployed_code_is_recorded(workload):
    stage, calls, _ = workload
    uploads = [c for c in calls if c.operation == "PutObject" and not c.params["Key"].startswith("_site/")]
    assert uploads == []  # the workload's own uploads are not the code's calls
    assert {c.names.bucket for c in calls} == {stage.bucket}


def test_calls_outside_a_function_are_not_recorded(resources, operations):
    from chalicelib import aws

    start = len(operations.calls)
    aws.client("s3").head_bucket(Bucket=resources.bucket)
    with acting_as("rebuild_index"):
        aws.client("s3").list_objects_v2(Bucket=resources.bucket)
    assert [(c.function, c.operation) for c in operations.calls[start:]] == [("rebuild_index", "ListObjectsV2")]


def test_handlers_are_named_after_their_functions():
    import app

    assert sorted(handler_functions(app.app).values()) == ["ingest_uploads", "rebuild_index"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_policy_allows_every_call_its_function_makes(workload, function):
    stage, calls, _ = workload
    assert denied(calls_of(calls, function), committed(stage, function)) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_policy_allows_lambda_to_write_its_logs(workload, function):
    stage, _, _ = workload
    document = committed(stage, function)
    assert [r for r in invisible_requests(stage, function) if not allows(document, *r)] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_policy_grants_nothing_its_function_does_not_use(workload, function):
    stage, calls, _ = workload
    assert unused_grants(committed(stage, function), used(stage, calls, function)) == []


def test_the_api_function_only_reads(workload):
    stage, _, _ = workload
    grants = [a for s in committed(stage, "api_handler")["Statement"] for a in s["Action"]]
    assert [a for a in grants if a in WRITES or a.startswith("sqs:")] == []


def test_one_function_cannot_do_what_another_does(workload):
    stage, calls, _ = workload
    # The API function's role would deny the rebuild's writes; the rebuild's would deny polling the queue.
    assert any("s3:PutObject" in p for p in denied(calls_of(calls, "rebuild_index"), committed(stage, "api_handler")))
    assert any("dynamodb:TransactWriteItems" in p or "dynamodb:PutItem" in p
               for p in denied(calls_of(calls, "ingest_uploads"), committed(stage, "api_handler")))
    polling = invisible_requests(stage, "ingest_uploads")[0]
    assert not allows(committed(stage, "rebuild_index"), *polling)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_committed_policies_match_the_config(name):
    stage = load_stage(name)
    assert policy.stale_policies(stage) == [], "run `python -m blogctl policy` and commit the result"


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_every_function_has_its_own_policy_file(name):
    stage = load_stage(name)
    paths = [policy.policy_path(stage, function) for function in stage.functions]
    assert stage.functions == FUNCTIONS and len(set(paths)) == len(FUNCTIONS)
    assert all(path.exists() for path in paths)


def test_a_function_without_a_policy_file_is_an_error(tmp_path):
    config = json.loads(policy.CONFIG_FILE.read_text())
    del config["stages"]["dev"]["lambda_functions"]["api_handler"]["iam_policy_file"]
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    stage = load_stage("dev", tmp_path / ".chalice" / "config.json")
    with pytest.raises(ValueError, match="lambda_functions.api_handler.iam_policy_file"):
        policy.policy_path(stage, "api_handler")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_missing_grant_is_caught(workload, function):
    stage, calls, _ = workload
    document = committed(stage, function)
    dropped = document["Statement"].pop(0)
    problems = denied(calls_of(calls, function), document)
    assert any(f" needs {dropped['Action'][0]} on " in p for p in problems), dropped["Sid"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_unneeded_grant_is_caught(workload, function):
    stage, calls, _ = workload
    document = committed(stage, function)
    extra = f"arn:aws:s3:::{stage.bucket}/posts/*"
    document["Statement"].append({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": extra})
    assert unused_grants(document, used(stage, calls, function)) == [("s3:DeleteObject", extra)]


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
    call = functools.partial(Call, "api_handler")
    versioned = call("s3", "GetObject", {"Bucket": "b", "Key": "posts/a.md", "VersionId": "v1"}, "us-east-1", names)
    assert requests_of(versioned) == [("s3:GetObjectVersion", "arn:aws:s3:::b/posts/a.md")]
    current = call("s3", "GetObject", {"Bucket": "b", "Key": "assets/a/x.png"}, "us-east-1", names)
    assert requests_of(current) == [("s3:GetObject", "arn:aws:s3:::b/assets/a/x.png"), ("s3:ListBucket", "arn:aws:s3:::b")]
    listing = call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "posts/"}, "us-east-1", names)
    assert requests_of(listing) == [("s3:ListBucket", "arn:aws:s3:::b")]
    transaction = call("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": {}}}, {"Delete": {"TableName": "t", "Key": {}}}]}, "us-east-1", names)
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t"
    assert requests_of(transaction) == [("dynamodb:PutItem", table), ("dynamodb:DeleteItem", table)]
    query = call("dynamodb", "Query", {"TableName": "t", "IndexName": "listing"}, "us-east-1", names)
    assert requests_of(query) == [("dynamodb:Query", f"{table}/index/listing")]


def test_the_invalidation_grant_covers_one_distribution():
    names = policy.resource_names(load_stage("dev"))
    call = Call("ingest_uploads", "cloudfront", "CreateInvalidation",
                {"DistributionId": "E1", "InvalidationBatch": {}}, "us-east-1", names)
    document = {"Statement": [policy.invalidation_statement("arn:aws:cloudfront::*:distribution/E1")]}
    assert denied([call], document) == []
    other = Call("ingest_uploads", "cloudfront", "CreateInvalidation", {"DistributionId": "E2"}, "us-east-1", names)
    assert denied([other], document) == [
        f"ingest_uploads: cloudfront:CreateInvalidation needs cloudfront:CreateInvalidation on "
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2"]
    assert "api_handler" not in policy.INVALIDATING_FUNCTIONS
