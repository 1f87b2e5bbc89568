"""`make run`'s code path for real: moto server + setup + pump + `chalice local`, over HTTP."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest

from blogctl.stage import PROJECT_DIR, load_stage
from conftest import source

START_TIMEOUT = 90
LIVE_WITHIN_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def stack():
    """The local stack on free ports, started as `make run` starts it."""
    port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "AWS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "blogctl", "serve", "--port", str(port), "--aws-port", str(aws_port),
         "--no-autoreload"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if fetch(base + "/")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("local stack did not start:\n" + (process.stdout.read() if process.stdout else ""))
    yield {"base": base, "aws_port": aws_port, "process": process}
    if process.poll() is None:
        process.kill()


def test_seed_post_is_served(stack):
    status, html = fetch(stack["base"] + "/")
    assert status == 200
    assert "Global Prayer Gathering 2013" in html
    status, html = fetch(stack["base"] + "/posts/global-prayer-gathering-2013")
    assert status == 200
    assert "Anisha is such a clear example of the importance of aftercare" in html


def test_uploaded_post_is_live_within_two_seconds(stack):
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack['aws_port']}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = load_stage("dev").bucket
    s3.put_object(Bucket=bucket, Key="posts/hello-local.md", Body=source("Hello, local stack"))
    started = time.monotonic()
    while time.monotonic() - started < LIVE_WITHIN_SECONDS:
        status, html = fetch(stack["base"] + "/posts/hello-local")
        if status == 200:
            break
        time.sleep(0.05)
    assert status == 200, f"not live after {LIVE_WITHIN_SECONDS}s"
    assert "Hello, local stack" in html


def test_unknown_page_is_a_404_html_page(stack):
    status, html = fetch(stack["base"] + "/posts/nothing-here")
    assert status == 404
    assert "<!doctype html>" in html


def test_ctrl_c_stops_everything(stack):
    process = stack["process"]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "[local] stopped" in output
    with pytest.raises(OSError):
        fetch(stack["base"] + "/")
