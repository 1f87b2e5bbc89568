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
from pathlib import Path

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


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (Debian's package), driven by Selenium through Debian's chromedriver."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("BLOG_REQUIRE_BROWSER"):  # CI installs them: missing there is a failure
            pytest.fail("chromium and chromium-driver are not installed")
        pytest.skip("install Debian's chromium and chromium-driver to run the browser test")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", f"--user-data-dir={tmp_path}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_seed_post_loads_in_a_real_browser_without_console_errors(stack, browser):
    from selenium.webdriver.common.by import By

    browser.get(stack["base"] + "/posts/global-prayer-gathering-2013")
    assert browser.title == "Global Prayer Gathering 2013 · The Blog"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Global Prayer Gathering 2013"
    # The stylesheet loaded and applied (no CSP or MIME problem): the text column has its max width.
    assert browser.execute_script("return getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_ctrl_c_stops_everything(stack):
    process = stack["process"]
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "[local] stopped" in output
    with pytest.raises(OSError):
        fetch(stack["base"] + "/")
