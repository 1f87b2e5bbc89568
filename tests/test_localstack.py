"""`make run`'s code path for real: moto server + setup + pump + `chalice local`, over HTTP."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from blogctl.localstack import start_child
from blogctl.stage import PROJECT_DIR, load_stage
from conftest import source

START_TIMEOUT = 90
LIVE_TIMEOUT = 60  # eventually live: how fast is `make bench`'s business (throughput.upload_to_live)
STOP_TIMEOUT = 30


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


class Stack:
    """`python -m blogctl serve` on free ports; its output read as it comes (a full pipe would block it)."""

    def __init__(self, *options: str) -> None:
        self.port, self.aws_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = start_child(
            self.port, self.aws_port, *options, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)  # its own process group: `kill` reaches `chalice local` too
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="stack-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if fetch(self.base + "/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.close()
        pytest.fail("local stack did not start:\n" + self.output)

    def stop(self) -> int:
        """Ctrl-C, as a person stops `make run`; the exit status."""
        self.process.send_signal(signal.SIGINT)
        status = self.process.wait(timeout=STOP_TIMEOUT)
        self._reader.join(timeout=STOP_TIMEOUT)
        return status

    def close(self) -> None:
        """Stop it if it still runs: Ctrl-C, or kill the whole process group if that does not work."""
        if self.process.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None or self._reader.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self._reader.join(timeout=STOP_TIMEOUT)


def started_stack(*options: str) -> Iterator[Stack]:
    stack = Stack(*options)
    try:
        stack.wait_until_serving()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The local stack on free ports, started as `make run` starts it, shared by the tests that use it."""
    yield from started_stack()


@pytest.fixture
def own_stack() -> Iterator[Stack]:
    """A local stack for one test alone (one that stops it)."""
    yield from started_stack()


def test_seed_post_is_served(stack):
    status, html = fetch(stack.base + "/")
    assert status == 200
    assert "Global Prayer Gathering 2013" in html
    status, html = fetch(stack.base + "/posts/global-prayer-gathering-2013")
    assert status == 200
    assert "Anisha is such a clear example of the importance of aftercare" in html


def test_uploaded_post_goes_live_by_itself(stack):
    """S3 put → moto's notification → SQS → the stack's pump → ingest: no rebuild, no restart."""
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    slug = f"hello-local-{uuid.uuid4().hex[:8]}"  # the module's stack is shared: a name of this test's own
    s3.put_object(Bucket=load_stage("dev").bucket, Key=f"posts/{slug}.md", Body=source("Hello, local stack"))
    deadline = time.monotonic() + LIVE_TIMEOUT
    while (status := fetch(f"{stack.base}/posts/{slug}"))[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status[0] == 200, f"not live after {LIVE_TIMEOUT} s:\n{stack.output}"
    assert "Hello, local stack" in status[1]


def test_unknown_page_is_a_404_html_page(stack):
    status, html = fetch(stack.base + "/posts/nothing-here")
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

    browser.get(stack.base + "/posts/global-prayer-gathering-2013")
    assert browser.title == "Global Prayer Gathering 2013 · The Blog"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Global Prayer Gathering 2013"
    # The stylesheet loaded and applied (no CSP or MIME problem): the text column has its max width.
    assert browser.execute_script("return getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_ctrl_c_stops_everything(own_stack):
    assert own_stack.stop() == 0, own_stack.output
    assert "[local] stopped" in own_stack.output
    with pytest.raises(OSError):
        fetch(own_stack.base + "/")
    with pytest.raises(OSError):  # moto too
        fetch(f"http://127.0.0.1:{own_stack.aws_port}/")


def s3_of(stack: Stack):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def until(status: int, url: str, timeout: float) -> float:
    """Seconds until `url` answers `status` (fails after `timeout`)."""
    started = time.monotonic()
    while fetch(url)[0] != status:
        assert time.monotonic() - started < timeout, f"{url} did not answer {status} within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


DELETE_TIMEOUT = 2.0  # the promise: a deletion takes effect locally within 2 s


def test_a_deleted_post_answers_410_within_two_seconds(stack):
    slug = f"short-lived-{uuid.uuid4().hex[:8]}"
    s3 = s3_of(stack)
    bucket = load_stage("dev").bucket
    s3.put_object(Bucket=bucket, Key=f"posts/{slug}.md", Body=source("Short lived"))
    until(200, f"{stack.base}/posts/{slug}", LIVE_TIMEOUT)
    s3.delete_object(Bucket=bucket, Key=f"posts/{slug}.md")  # a delete marker: the bucket is versioned
    until(410, f"{stack.base}/posts/{slug}", DELETE_TIMEOUT)


def test_it_prints_the_line_to_paste_for_the_aws_cli(stack):
    assert (f"alias awslocal='AWS_ENDPOINT_URL=http://127.0.0.1:{stack.aws_port} AWS_ACCESS_KEY_ID=testing "
            "AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 aws'") in stack.output


def test_a_restart_keeps_the_bucket_its_versions_and_the_index(tmp_path):
    state = str(tmp_path / "state")
    bucket, key = load_stage("dev").bucket, "posts/kept-across-restarts.md"
    for stack in started_stack("--state-dir", state):
        s3 = s3_of(stack)
        s3.put_object(Bucket=bucket, Key=key, Body=source("First version"))
        s3.put_object(Bucket=bucket, Key=key, Body=source("Second version"))
        until(200, f"{stack.base}/posts/kept-across-restarts", LIVE_TIMEOUT)
        versions = s3.list_object_versions(Bucket=bucket, Prefix="posts/")["Versions"]
        assert stack.stop() == 0
    for stack in started_stack("--state-dir", state):
        assert "kept from the last run" in stack.output
        status, html = fetch(f"{stack.base}/posts/kept-across-restarts")
        assert status == 200 and "Second version" in html
        again = s3_of(stack).list_object_versions(Bucket=bucket, Prefix="posts/")["Versions"]
        assert [(v["Key"], v["VersionId"]) for v in again] == [(v["Key"], v["VersionId"]) for v in versions]
        assert stack.stop() == 0
    for stack in started_stack("--state-dir", state, "--fresh"):
        assert fetch(f"{stack.base}/posts/kept-across-restarts")[0] == 404
        assert fetch(f"{stack.base}/posts/global-prayer-gathering-2013")[0] == 200  # the samples, uploaded again


PORTS_FREED_TIMEOUT = 10


def test_when_the_serve_process_dies_nothing_holds_the_ports(own_stack):
    os.kill(own_stack.process.pid, signal.SIGKILL)  # only it: `chalice local` must go by itself
    own_stack.process.wait(timeout=STOP_TIMEOUT)
    deadline = time.monotonic() + PORTS_FREED_TIMEOUT
    from blogctl.localstack import port_is_free

    while not (port_is_free(own_stack.port) and port_is_free(own_stack.aws_port)):
        assert time.monotonic() < deadline, "a port is still held after the serve process died"
        time.sleep(0.1)


REBUILD_HELD_TIMEOUT = 30  # how long the test holds a rebuild open at most


def test_an_upload_goes_live_while_a_rebuild_runs(resources, content, queue_url, http):
    """Ingest takes no turn behind the rebuild (at 10,000 posts it runs longer than its schedule)."""
    import app
    from chalicelib import aws
    from blogctl.localstack import Handlers
    from blogctl.pump import QueuePump

    running, release = threading.Event(), threading.Event()

    def held_rebuild(event, context):
        running.set()
        release.wait(REBUILD_HELD_TIMEOUT)
        return app.rebuild_index(event, context)

    handlers = Handlers(types.SimpleNamespace(ingest_uploads=app.ingest_uploads, rebuild_index=held_rebuild),
                        log=lambda text: None)
    rebuild = threading.Thread(target=handlers.rebuild, name="held-rebuild")
    rebuild.start()
    try:
        assert running.wait(REBUILD_HELD_TIMEOUT)
        content.put("posts/during-rebuild.md", source("Uploaded during a rebuild"), "text/markdown")
        pump = QueuePump(aws.client("sqs"), queue_url, handlers.ingest)
        delivered: list[int] = []
        ingest = threading.Thread(target=lambda: delivered.append(pump.drain()), name="ingest", daemon=True)
        ingest.start()
        ingest.join(REBUILD_HELD_TIMEOUT / 2)
        assert not ingest.is_alive(), "ingest waited for the rebuild"
        assert delivered and delivered[0] >= 1  # the upload's message (after setup's test event, if any)
        assert rebuild.is_alive()
        page = http.get("/posts/during-rebuild")
        assert page.status_code == 200 and "Uploaded during a rebuild" in page.text
    finally:
        release.set()
        rebuild.join(REBUILD_HELD_TIMEOUT)


def test_a_rebuild_asked_for_while_one_runs_is_skipped(resources):
    import app
    from blogctl.localstack import Handlers

    running, release, calls = threading.Event(), threading.Event(), []

    def held_rebuild(event, context):
        calls.append(event)
        running.set()
        release.wait(REBUILD_HELD_TIMEOUT)
        return app.rebuild_index(event, context)

    said: list[str] = []
    handlers = Handlers(types.SimpleNamespace(ingest_uploads=app.ingest_uploads, rebuild_index=held_rebuild),
                        log=said.append)
    first = threading.Thread(target=handlers.rebuild, name="first-rebuild")
    first.start()
    try:
        assert running.wait(REBUILD_HELD_TIMEOUT)
        assert handlers.rebuild() is False  # at once: not queued behind the first
        assert said == ["rebuild skipped: the last one is still running"]
    finally:
        release.set()
        first.join(REBUILD_HELD_TIMEOUT)
    assert len(calls) == 1
    assert handlers.rebuild() is True and len(calls) == 2  # the next tick runs


def test_ticks_missed_during_a_long_rebuild_are_dropped():
    from blogctl.localstack import next_tick

    assert next_tick(30.0, 31.0, 30.0) == 60.0
    assert next_tick(30.0, 95.0, 30.0) == 120.0  # a 65-second rebuild: the ticks at 60 and 90 are not made up
    assert next_tick(30.0, 60.0, 30.0) == 90.0


def test_a_slow_save_spaces_out_the_next_one():
    from blogctl.localstack import MAX_SAVE_PAUSE_SECONDS, SAVE_SHARE, pause_after_save
    from blogctl.localstate import SAVE_EVERY_SECONDS

    assert pause_after_save(0.01) == SAVE_EVERY_SECONDS  # a small archive: saved every second
    took = 0.4  # a save at archive size
    assert took / (took + pause_after_save(took)) == pytest.approx(SAVE_SHARE)
    assert pause_after_save(5.0) == MAX_SAVE_PAUSE_SECONDS  # a longer wait would only make a longer save


def test_the_rebuild_process_reports_in_the_stacks_output(stack):
    # the stack's first rebuild, at start, ran as `python -m blogctl.localstack rebuild` against the stack's moto
    assert '[chalicelib.rebuild] {"event": "rebuild"' in stack.output
    assert "rebuild failed" not in stack.output


def test_a_rebuild_that_runs_out_of_time_is_stopped_and_said_so():
    from blogctl.localstack import Rebuilder

    with pytest.raises(RuntimeError, match="ran longer than its 0 s and was stopped"):
        Rebuilder(timeout=0.01).rebuild_index({}, None)


def _resident_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's malloc")
def test_memory_freed_between_live_objects_goes_back_to_the_system():
    from blogctl.localstack import return_freed_memory

    blocks = [bytes(2048) for _ in range(50_000)]  # 100 MB of malloc'd blocks (not Python's small-object arenas)
    kept = blocks[::100]  # one in a hundred stays: the freed ones are between live ones, not at the heap's end
    del blocks
    held = _resident_bytes()
    assert return_freed_memory()
    assert held - _resident_bytes() > 50_000_000 and len(kept) == 500


def timer_ticks(at_once: bool, within: float) -> int:
    """How many rebuilds the stack's timer fires within `within` seconds of starting (every 60 s)."""
    from blogctl.localstack import Handlers, LocalStack

    fired = threading.Event()
    local = LocalStack(rebuild_every=60.0, log=lambda text: None)
    local.handlers = Handlers(types.SimpleNamespace(ingest_uploads=None, rebuild_index=lambda event, context: fired.set()),
                              log=lambda text: None)
    timer = threading.Thread(target=local._rebuild_forever, kwargs={"at_once": at_once}, daemon=True)
    timer.start()
    try:
        return int(fired.wait(within))
    finally:
        local._stop.set()
        timer.join(REBUILD_HELD_TIMEOUT)


def test_a_kept_archives_first_rebuild_runs_at_once_beside_the_site():
    assert timer_ticks(at_once=True, within=REBUILD_HELD_TIMEOUT) == 1  # not one schedule later


def test_a_new_stacks_timer_waits_its_schedule():
    assert timer_ticks(at_once=False, within=0.5) == 0  # its first rebuild ran before it served


def test_the_pump_settles_the_heap_between_its_receives_never_during_one(monkeypatch):
    from blogctl import localstack

    monkeypatch.setattr(localstack, "SETTLE_EVERY_SECONDS", 0.02)
    events: list[str] = []
    local = localstack.LocalStack(log=lambda text: None)

    def receive(wait_seconds: int = 1) -> int:
        events.append("receive")
        time.sleep(0.01)  # a long poll, beside the gate
        events.append("received")
        return 0

    monkeypatch.setattr(local, "pump_once", receive)
    monkeypatch.setattr(localstack, "settle_heap", lambda: events.append("settle") or 0)
    pump = threading.Thread(target=local._pump_forever, daemon=True)
    pump.start()
    time.sleep(0.3)
    local._stop.set()
    pump.join(5)
    assert events.count("settle") >= 3
    assert all(events[at - 1] == "received" for at, event in enumerate(events) if event == "settle")


def test_slow_lines_from_many_threads_stay_whole():
    from blogctl import localstack

    written: list[str] = []

    def log(text: str) -> None:  # as print does: the text, then the line's end, in two writes
        written.append(text)
        time.sleep(0.001)
        written.append("\n")

    local = localstack.LocalStack(log=log)
    threads = [threading.Thread(target=local._gate.report, args=(1.0, lambda n=n: f"request {n} took 1.00 s"))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    lines = "".join(written).splitlines()
    assert sorted(lines) == sorted(f"slow: request {n} took 1.00 s" for n in range(8))


def test_settling_the_heap_collects_cycles_and_freezes_the_living():
    import gc
    import weakref

    from blogctl.localstack import settle_heap

    class Node:
        pass

    dead, alive = Node(), Node()
    dead.me, alive.me = dead, alive  # reference cycles: only the collector frees the one dropped
    gone = weakref.ref(dead)
    del dead
    try:
        frozen = settle_heap()
        assert gone() is None  # collected, not frozen for good
        # frozen objects may still be freed by their last reference going (another thread's, under
        # xdist): the count can only fall after the call, never rise
        assert 1 <= gc.get_freeze_count() <= frozen
        assert not any(o is alive for o in gc.get_objects())  # frozen: no later pass walks it
    finally:
        gc.unfreeze()
