"""The rehearsal's parts: API Gateway's routing, the local Lambda runtime, moto's two local changes.

The rehearsal itself (`make rehearse`: a real `chalice deploy` to a local stack, publish,
smoke test, destroy) runs in CI after `make test`.
"""
from __future__ import annotations

import io
import json
import types
import zipfile

import boto3
import moto
import pytest

from blogctl import emulator
from blogctl.rehearsal import RehearsalFailed, route

RESOURCES = [{"path": p} for p in ("/", "/posts/{slug}", "/tags/{tag}/feed.xml", "/tags/{tag}", "/feed.xml",
                                   "/assets/{slug}/{name}", "/{proxy+}")]


@pytest.mark.parametrize("path, resource, params", [
    ("/", "/", {}),
    ("/posts/hello", "/posts/{slug}", {"slug": "hello"}),
    ("/feed.xml", "/feed.xml", {}),  # a literal beats {proxy+}
    ("/tags/python/feed.xml", "/tags/{tag}/feed.xml", {"tag": "python"}),
    ("/assets/a/cat.png", "/assets/{slug}/{name}", {"slug": "a", "name": "cat.png"}),
    ("/no/such/page.html", "/{proxy+}", {"proxy": "no/such/page.html"}),
])
def test_requests_are_routed_as_api_gateway_routes_them(path, resource, params):
    assert route(RESOURCES, path) == (resource, params)


def test_a_path_no_resource_matches_fails_the_rehearsal():
    with pytest.raises(RehearsalFailed, match="no resource for /posts/a/b"):
        route([{"path": "/posts/{slug}"}], "/posts/a/b")


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def function(handler: str, code: bytes, **env: str) -> types.SimpleNamespace:
    """What the runtime reads of moto's LambdaFunction."""
    return types.SimpleNamespace(
        region="us-east-1", function_name="fn", memory_size=128, timeout=30, handler=handler, code_bytes=code,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn", environment_vars=env)


APP = """
import os, boto3, logging
logging.getLogger("app").warning("starting %s", os.environ["GREETING"])

def handler(event, context):
    print("to the log, not the result")
    return {"got": event["n"] + 1, "name": context.function_name, "region": boto3.session.Session().region_name,
            "endpoint": os.environ["AWS_ENDPOINT_URL"], "greeting": os.environ["GREETING"]}

def needs_yaml(event, context):
    import yaml  # installed here, but not in the zip: Lambda would not have it
"""


@pytest.fixture
def runtime(tmp_path):
    return emulator.LambdaRuntime(tmp_path, "http://127.0.0.1:9")


def test_a_function_runs_from_its_zip_with_its_environment(runtime):
    result, failed, logs = runtime.run(function("app.handler", zipped({"app.py": APP}), GREETING="hi"), {"n": 1})
    assert not failed
    assert json.loads(result) == {"got": 2, "name": "fn", "region": "us-east-1",
                                  "endpoint": "http://127.0.0.1:9", "greeting": "hi"}
    assert "starting hi" in logs and "to the log, not the result" in logs


def test_a_function_whose_module_freezes_the_heap_still_answers(runtime):
    frozen = "import gc\n\ndef handler(event, context):\n    return {'ok': True}\n\ngc.freeze()\n"  # as app.py does
    result, failed, logs = runtime.run(function("frozen.handler", zipped({"frozen.py": frozen})), {})
    assert not failed, logs
    assert json.loads(result) == {"ok": True}


def test_a_function_has_only_the_runtimes_packages_besides_its_zip(runtime):
    result, failed, logs = runtime.run(function("app.needs_yaml", zipped({"app.py": APP}), GREETING="hi"), {})
    assert failed and "No module named 'yaml'" in logs


def test_moto_is_changed_only_inside_the_rehearsal(tmp_path):
    from moto.apigateway.models import APIGatewayBackend
    from moto.awslambda.models import LambdaFunction

    before = (APIGatewayBackend.import_rest_api, LambdaFunction._invoke_lambda)
    chalice_like = {"swagger": "2.0", "info": {"title": "blog", "version": "1.0"},  # no description
                    "paths": {"/posts/{slug}": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    with emulator.patched_moto(emulator.LambdaRuntime(tmp_path, "http://127.0.0.1:9")), moto.mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api = client.import_rest_api(body=json.dumps(chalice_like).encode())
        paths = {r["path"] for r in client.get_resources(restApiId=api["id"])["items"]}
        assert "/posts/{slug}" in paths
    assert (APIGatewayBackend.import_rest_api, LambdaFunction._invoke_lambda) == before
