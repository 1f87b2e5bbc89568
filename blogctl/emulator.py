"""The rehearsal's AWS: moto's server on loopback, with two changes that exist only here.

Nothing here changes what is sent to AWS: both changes are made to moto's server-side code,
in the process that runs the local stack, and nowhere else.

1. moto 5.2's ImportRestApi reads `info.description` from the OpenAPI document (KeyError ->
   500 when it is missing) and refuses Swagger 2.0 documents; Chalice sends Swagger 2.0 without
   a description, so `chalice deploy` would stop at "Creating Rest API". Here moto gets an
   empty description and reads the paths it understands.
2. moto runs Lambda code in Docker, which the rehearsal does not have. Here a function runs as
   Lambda would run it: its deployed zip, unpacked, in a fresh Python process with only the
   runtime's own boto3 besides it, its configured environment variables, and an endpoint
   pointing back at this server. So S3 -> SQS -> ingest (moto's event source mapping) and
   `lambda invoke` run the deployed code with the deployed configuration.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blogctl.target import LOCAL_CREDENTIALS

# The Python runtime's own packages: Lambda provides boto3 and what it needs, nothing else.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

# Runs in the function's process: import the handler, read the event from stdin, call it with
# a context like Lambda's, write the result as the last line of stdout (logs go to stderr).
BOOTSTRAP = r"""
import json, logging, os, sys, time, uuid
sys.path[:0] = [os.getcwd(), os.environ.pop("BLOG_LAMBDA_RUNTIME_DIR")]
logging.basicConfig(format="[%(levelname)s]\t%(asctime)s\t%(message)s")  # Lambda's runtime logs to CloudWatch
module_name, _, name = sys.argv[1].rpartition(".")
started = time.monotonic()

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = str(uuid.uuid4())
    invoked_function_arn = os.environ["BLOG_LAMBDA_ARN"]
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "local"
    def get_remaining_time_in_millis(self):
        timeout = int(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
        return max(0, int((timeout - (time.monotonic() - started)) * 1000))

event = json.loads(sys.stdin.read() or "{}")
result_stream, sys.stdout = sys.stdout, sys.stderr
handler = getattr(__import__(module_name), name)
result = handler(event, Context())
result_stream.write("\n" + json.dumps(result) + "\n")
result_stream.flush()  # not left to exit: app.py freezes the objects made before it (gc.freeze), this stream too
"""


def runtime_dir(root: Path) -> Path:
    """A folder holding only the Lambda runtime's packages (links into this virtualenv)."""
    folder = root / "runtime"
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed: `make install`")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


class LambdaRuntime:
    """Runs moto's Lambda functions from their zips, each invocation in a new process."""

    def __init__(self, root: Path, endpoint_url: str) -> None:
        self.root = root
        self.endpoint_url = endpoint_url
        self.runtime = runtime_dir(root)
        self._lock = threading.Lock()

    def unpacked(self, code: bytes) -> Path:
        """The function's zip, unpacked once per content."""
        folder = self.root / "code" / hashlib.sha256(code).hexdigest()[:16]
        with self._lock:
            if not folder.exists():
                partial = folder.with_suffix(".partial")
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(partial)
                partial.rename(folder)
        return folder

    def run(self, function: Any, event: Any) -> tuple[str, bool, str]:
        """Invoke `function` (moto's LambdaFunction) with `event`: (result, failed, logs)."""
        env = {
            "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "TZ": "UTC",
            **LOCAL_CREDENTIALS,
            "AWS_REGION": function.region, "AWS_DEFAULT_REGION": function.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "BLOG_LAMBDA_ARN": function.function_arn,
            "BLOG_LAMBDA_RUNTIME_DIR": str(self.runtime),
            **{k: str(v) for k, v in function.environment_vars.items()},
        }
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-S", "-c", BOOTSTRAP, function.handler],
                input=json.dumps(event or {}), cwd=self.unpacked(function.code_bytes), env=env,
                capture_output=True, text=True, timeout=int(function.timeout))
        except subprocess.TimeoutExpired as err:
            return json.dumps({"errorType": "Timeout"}), True, f"Task timed out after {err.timeout} seconds"
        logs = done.stderr
        lines = done.stdout.strip().splitlines()
        failed = done.returncode != 0 or not lines
        result = json.dumps({"errorType": "Error", "errorMessage": logs[-2000:]}) if failed else lines[-1]
        return result, failed, logs


@contextlib.contextmanager
def patched_moto(runtime: LambdaRuntime) -> Iterator[None]:
    """While inside, moto imports Chalice's API and runs Lambda code (see the module's docstring)."""
    from moto.apigateway.models import APIGatewayBackend
    from moto.awslambda.models import LambdaFunction

    original_import, original_put = APIGatewayBackend.import_rest_api, APIGatewayBackend.put_rest_api

    def as_moto_reads_it(api_doc: dict[str, Any]) -> dict[str, Any]:
        doc = {k: v for k, v in api_doc.items() if k != "swagger"}
        doc["info"] = {"description": "", **api_doc.get("info", {})}
        if "swagger" in api_doc:
            doc["openapi"] = "3.0.1"  # moto reads paths and integrations alike from both versions
        return doc

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return original_import(self, as_moto_reads_it(api_doc), fail_on_warnings)

    def put_rest_api(self: Any, function_id: str, api_doc: dict[str, Any], fail_on_warnings: bool,
                     mode: str = "merge") -> Any:
        return original_put(self, function_id, as_moto_reads_it(api_doc), fail_on_warnings, mode)

    def invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        self.logs_backend.ensure_log_group(self.logs_group_name)
        result, failed, logs = runtime.run(self, event)
        if logs.strip():
            self.save_logs(logs)
        return result, failed, logs

    original_invoke = LambdaFunction._invoke_lambda
    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]
    LambdaFunction._invoke_lambda = invoke_lambda  # type: ignore[method-assign]
    try:
        yield
    finally:
        APIGatewayBackend.import_rest_api = original_import  # type: ignore[method-assign]
        APIGatewayBackend.put_rest_api = original_put  # type: ignore[method-assign]
        LambdaFunction._invoke_lambda = original_invoke  # type: ignore[method-assign]


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_aws(port: int | None = None) -> Iterator[str]:
    """moto's server on 127.0.0.1 (a free port by default), patched as above; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="blog-lambda-") as root, \
            patched_moto(LambdaRuntime(Path(root), endpoint)):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield endpoint
        finally:
            server.stop()
