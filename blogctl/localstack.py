"""The local stack behind `make run`: AWS on loopback, the blog on http://127.0.0.1:8000.

1. moto's server plays S3, DynamoDB, SQS and SSM on 127.0.0.1:4566, sending the S3
   notifications real S3 sends, delete markers' too (blogctl/s3events.py);
2. with a state folder (`make run`: .local/state), what moto held when the stack last
   stopped is loaded first, and saved as it changes (blogctl/localstate.py);
3. the idempotent setup creates the dev stage's bucket, table, queues and preview secret
   (finding them in place after a restart);
4. on a fresh start, the sample posts from content/ are uploaded, as an editor would;
5. a pump drains the queue into the same ingest handler AWS runs (app.ingest_uploads),
   and a timer fires the scheduled rebuild (app.rebuild_index) every 30 s (the schedule's
   work: scheduled posts, repairs). As on AWS, where they are separate functions, ingest
   never waits for the rebuild, and the rebuild runs in a process of its own (`python -m
   blogctl.localstack rebuild`): at archive size it computes for minutes, and in this
   process it would hold the interpreter's lock that moto and ingest need, so that an
   upload took seconds to go live. A tick that finds the last rebuild still running is
   skipped, not queued;
6. `chalice local` serves the routes (blogctl/devserver.py: restarted by code changes only,
   and gone when this process is).
Ctrl-C stops all of it.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blogctl.devserver import EXIT_WITH_PARENT
from blogctl.localstate import SAVE_EVERY_SECONDS, Gate, LocalState, StateError, gated_server
from blogctl.pump import Batch, QueuePump, queue_url, scheduled_event, sqs_event  # noqa: F401  (sqs_event: the tests')
from blogctl.s3events import delete_marker_notifications
from blogctl.stage import LOCAL_REGION, PROJECT_DIR, load_stage

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing"}
REBUILD_EVERY_SECONDS = 30
RECEIVE_WAIT_SECONDS = 1
RETRY_AFTER_SECONDS = 5  # a message whose ingest failed comes back this soon
SAVE_SHARE = 0.2  # the most of the time the state saver may hold moto's requests back...
# ...but it never waits longer than this: a save pickles what changed since the last one, so while a
# merge writes faster than a fifth of the time can save, each longer wait made a longer save (1.74 s
# holding every request back at 10,000 posts on a quiet machine, 3.67 s on a busy one). Capped, a
# save holds requests back for what a merge writes in a couple of seconds.
MAX_SAVE_PAUSE_SECONDS = 2.0
# glibc's malloc gives threads arenas of their own (up to 8 a core) and keeps what is freed in
# them: moto answers each request in a thread, and the rebuild's Scans and Queries make
# responses of megabytes, so the stack's process grew with the work done, not with the data
# held. Fewer arenas, and what is freed given back to the system every TRIM_EVERY_SECONDS.
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter (malloc.h)
TRIM_EVERY_SECONDS = 10
# CPython's collector walks every object it tracks in each full pass, and makes one each time the
# survivors grow by a quarter: moto's data is most of them (2 million objects at 10,000 posts), so
# a pass stopped every request for 1.7 s. Every SETTLE_EVERY_SECONDS, with no request in flight
# (between the pump's receives: `LocalStack.settle`), what was made since the last time is
# collected and the survivors frozen (gc.freeze): passes then walk only the newest objects.
# moto's data has no reference cycles (an item or object replaced is freed by its count), so
# nothing frozen waits on the collector to be freed. A pass holds requests back while it walks
# what the last interval made: every 10 s, beside a merge at 10,000 posts, up to 0.3 s.
SETTLE_EVERY_SECONDS = 2


def local_environment(stage_name: str, aws_port: int, web_port: int | None = None) -> dict[str, str]:
    """The variables that point the blog's code at the local stack (and never at AWS)."""
    stage = load_stage(stage_name)
    return {
        **stage.env,
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "BLOG_SITE_URL": f"http://127.0.0.1:{web_port}" if web_port else stage.env.get("BLOG_SITE_URL", ""),
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "BLOG_REGION": LOCAL_REGION,
    }


def port_is_free(port: int) -> bool:
    """Can we listen on 127.0.0.1:port?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def aws_cli_line(aws_port: int) -> str:
    """The one line to paste into a shell so that `awslocal s3 cp …` talks to the local stack."""
    return (f"alias awslocal='AWS_ENDPOINT_URL=http://127.0.0.1:{aws_port} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_REGION={LOCAL_REGION} aws'")


class Handlers:
    """The deployed ingest and rebuild handlers as the local stack calls them, from its pump and its timer.

    On AWS they are two functions that run side by side, so here ingest takes no lock: an
    upload never waits for a rebuild (the rebuild at 10,000 posts runs longer than its
    30-second schedule). Only one rebuild runs at a time, as the schedule's single
    concurrency would have it: a rebuild asked for while one runs is skipped, not queued.
    """

    def __init__(self, app: Any, log: Callable[[str], None] = print) -> None:
        self.app = app  # the deployed module (app.py), or a stand-in with its two handlers
        self.log = log
        self._rebuilding = threading.Lock()

    def ingest(self, event: dict[str, Any], context: Any) -> Any:
        """Deliver one SQS batch to app.ingest_uploads, whatever the rebuild is doing."""
        return self.app.ingest_uploads(event, context)

    def rebuild(self) -> bool:
        """Run app.rebuild_index once; False, at once, if a rebuild is already running."""
        if not self._rebuilding.acquire(blocking=False):
            self.log("rebuild skipped: the last one is still running")
            return False
        try:
            self.app.rebuild_index(scheduled_event(), None)
        finally:
            self._rebuilding.release()
        return True


def _glibc() -> Any:
    """glibc, or None where malloc is another (macOS): then the stack runs with the system's defaults."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas() -> bool:
    """Use MALLOC_ARENAS arenas in this process (call before its threads start); False if not glibc."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))


def settle_heap() -> int:
    """Collect what was made since the last call and freeze what survives (call with no request in flight).

    Returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def return_freed_memory() -> bool:
    """Give the memory malloc holds freed back to the system; True if some was."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


def pause_after_save(seconds: float) -> float:
    """How long the saver waits after a save that took `seconds`: a save holds every request back, so
    saving may take SAVE_SHARE of the time, but a wait is at most MAX_SAVE_PAUSE_SECONDS."""
    return min(MAX_SAVE_PAUSE_SECONDS, max(SAVE_EVERY_SECONDS, seconds * (1 - SAVE_SHARE) / SAVE_SHARE))


class Rebuilder:
    """app.rebuild_index in a process of its own each time (`python -m blogctl.localstack rebuild`), as
    EventBridge starts the rebuild function apart from ingest; its log lines go to this stack's output."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # the function's own limit (.chalice/config.json)
        self._process: subprocess.Popen | None = None

    def rebuild_index(self, event: dict[str, Any], context: Any) -> None:
        """Run one rebuild to its end; raise if it failed or ran out of time."""
        self._process = subprocess.Popen([sys.executable, "-m", "blogctl.localstack", "rebuild"], cwd=PROJECT_DIR,
                                         stdin=subprocess.DEVNULL)  # the environment points it at the local stack
        try:
            status = self._process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the rebuild ran longer than its {self.timeout:.0f} s and was stopped") from None
        if status != 0:
            raise RuntimeError(f"the rebuild exited with status {status}")

    def stop(self) -> None:
        """Stop a rebuild under way (Ctrl-C reaches it from a terminal, not from a signal to this process)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def next_tick(due: float, now: float, every: float) -> float:
    """The timer's next tick after the one `due`: the first on its schedule later than `now` (ticks missed
    while a rebuild ran are dropped, not made up)."""
    missed = max(0, int((now - due) // every))
    return due + (missed + 1) * every


class LocalStack:
    """moto + saved state + setup + queue pump + rebuild timer; `chalice local` runs beside it."""

    def __init__(self, port: int = 8000, aws_port: int = 4566, stage: str = "dev",
                 content_dir: Path | None = None, rebuild_every: float = REBUILD_EVERY_SECONDS,
                 autoreload: bool = True, log=print, state_dir: Path | None = None, fresh: bool = False) -> None:
        self.port = port
        self.aws_port = aws_port
        self.stage = stage
        self.content_dir = content_dir or PROJECT_DIR / "content"
        self.rebuild_every = rebuild_every
        self.autoreload = autoreload
        self.log = log
        self.fresh = fresh
        self._gate = Gate(on_slow=self._log_slow)
        self.state = LocalState(state_dir, self._gate) if state_dir is not None else None
        self._stop = threading.Event()
        self._slow_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._moto: Any = None  # moto's server, once started
        self._patches = contextlib.ExitStack()
        self._server: subprocess.Popen | None = None
        self._rebuilder: Rebuilder | None = None

    def _log_slow(self, text: str) -> None:
        # requests held back together end together: their lines, printed from their threads, would mix
        with self._slow_lock:
            self.log(f"slow: {text}")

    def start(self) -> None:
        """Start AWS on loopback (with its saved data), set it up, load the samples if new, start the pump and timer."""
        for port in (self.port, self.aws_port):
            if not port_is_free(port):
                raise SystemExit(f"port {port} on 127.0.0.1 is in use; set PORT=… or AWS_PORT=… to another one")
        os.environ.update(local_environment(self.stage, self.aws_port, self.port))
        from blogctl import motomemory, motopatch

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto would log every request
        limit_malloc_arenas()
        motopatch.install()  # no table copies per transaction, one DynamoDB request at a time
        motomemory.install()  # S3 bytes packed, DynamoDB values without dicts of their own
        motomemory.drop_ec2_data()

        restored = self._restore()
        motopatch.warm_index_maps()  # before moto serves: at 10,000 posts the walk takes a second or more
        self._patches.enter_context(delete_marker_notifications())
        self._moto = gated_server("127.0.0.1", self.aws_port, self.state, self._gate)
        self._moto.start()
        self.log(f"local AWS (moto) on http://127.0.0.1:{self.aws_port}; for the aws CLI, paste: "
                 f"{aws_cli_line(self.aws_port)}")

        from chalicelib import aws, services
        from blogctl.resources import ensure_resources
        from blogctl.publishing import upload_tree

        services.reset()
        stage = load_stage(self.stage)
        names = _names(stage)
        ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names,
                         stage.function_setting("ingest_uploads", "lambda_timeout", 60), ssm=aws.client("ssm"))
        if restored and self.state is not None:
            self.log(f"bucket {names.bucket}: kept from the last run ({self.state.path}); content/ is not "
                     "uploaded again (`blogctl publish` does that; `make reset` starts from scratch)")
            from blogctl.reindex import start_over_if_old

            for line in start_over_if_old(aws.client("dynamodb"), names.table, services.index(), services.content()):
                self.log(f"search index from before document ids: {line}")
        else:
            uploaded = upload_tree(services.content(), self.content_dir)
            self.log(f"bucket {names.bucket}: uploaded {len(uploaded)} sample file(s) from {self.content_dir}")

        import app as blog  # the deployed module, unchanged

        self._rebuilder = Rebuilder(stage.function_setting("rebuild_index", "lambda_timeout", 900))
        self.handlers = Handlers(types.SimpleNamespace(ingest_uploads=blog.ingest_uploads,
                                                       rebuild_index=self._rebuilder.rebuild_index), self.log)
        sqs = aws.client("sqs")
        self._pump = QueuePump(sqs, queue_url(sqs, names.queue), self.handlers.ingest,
                               visibility_timeout=RETRY_AFTER_SECONDS)
        self.drain()
        if not restored:  # a new stack's samples are indexed before its first page is served
            self.rebuild()
        self._spawn(self._pump_forever, "queue-pump")
        # A kept archive's pages are built: its first rebuild (after an import, merges of up to
        # 11 minutes at 10,000 posts) runs beside the site, not before it.
        self._spawn(lambda: self._rebuild_forever(at_once=restored), "rebuild-timer")
        self._spawn(self._trim_forever, "memory-trim")
        if self.state is not None:
            self.state.save()
            self._spawn(self._save_forever, "state-saver")

    def _restore(self) -> bool:
        """Load the saved state into moto, unless starting fresh; True if there was one."""
        if self.state is None:
            return False
        if self.fresh:
            self.state.forget()
            self.log(f"starting from scratch: forgot {self.state.path}")
            return False
        if not self.state.exists:
            return False
        try:
            self.state.load()
        except StateError as err:
            raise SystemExit(str(err)) from None
        return True

    def drain(self) -> int:
        """Deliver every queued message to the ingest handler now; return how many."""
        return self._pump.drain(on_error=self._retry_later)

    def pump_once(self, wait_seconds: int = RECEIVE_WAIT_SECONDS) -> int:
        """Receive one batch and hand it to the ingest handler, as Lambda's SQS trigger does."""
        batch = self._pump.pump_once(wait_seconds)
        if batch.error is not None:
            self._retry_later(batch)
        return batch.received

    def _retry_later(self, batch: Batch) -> None:
        # As on AWS: the batch comes back after the visibility timeout.
        self.log(f"ingest failed, will retry in {RETRY_AFTER_SECONDS} s: {batch.error}")

    def rebuild(self) -> bool:
        """Fire the scheduled rebuild once; False if the last one is still running (this one is skipped)."""
        return self.handlers.rebuild()

    def _pump_forever(self) -> None:
        settled = time.monotonic()
        while not self._stop.is_set():
            try:
                self.pump_once()
            except Exception as err:
                if not self._stop.is_set():
                    self.log(f"queue pump: {err}")
                    time.sleep(1)
            if time.monotonic() - settled >= SETTLE_EVERY_SECONDS:
                self.settle()
                settled = time.monotonic()

    def settle(self) -> int:
        """Collect and freeze the heap with no request in flight (settle_heap); returns the objects frozen.

        The pump calls it between its receives: a receive passes beside the gate, and the objects
        of one frozen half-way (werkzeug's request and environ hold each other) would never be freed."""
        with self._gate.exclusive("the collector"):
            return settle_heap()

    def _rebuild_forever(self, at_once: bool = False) -> None:
        due = time.monotonic() + (0.0 if at_once else self.rebuild_every)
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            try:
                self.rebuild()
            except Exception as err:
                if not self._stop.is_set():  # not the one stop() ended
                    self.log(f"rebuild failed: {err}")
            due = next_tick(due, time.monotonic(), self.rebuild_every)

    def _trim_forever(self) -> None:
        while not self._stop.wait(TRIM_EVERY_SECONDS):
            return_freed_memory()

    def _save_forever(self) -> None:
        assert self.state is not None
        pause = SAVE_EVERY_SECONDS
        while not self._stop.wait(pause):
            started = time.monotonic()
            try:
                self.state.save()
            except Exception as err:  # a full disk must not stop the blog; say so and try again
                self.log(f"could not save the local stack's data: {err}")
            pause = pause_after_save(time.monotonic() - started)

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def serve(self) -> int:
        """Run `chalice local` until it exits or Ctrl-C; then stop everything."""
        # `chalice local` with API Gateway's greedy routes, watching code only (blogctl/devserver.py).
        command = [sys.executable, "-m", "blogctl.devserver", "--host", "127.0.0.1", "--port", str(self.port),
                   "--stage", self.stage]
        if not self.autoreload:
            command.append("--no-autoreload")
        # Its stdin is a pipe only this process writes to: when this process dies, however it
        # dies, the server reads end-of-file and exits, freeing the port.
        self._server = subprocess.Popen(command, cwd=PROJECT_DIR, stdin=subprocess.PIPE,
                                        env={**os.environ, EXIT_WITH_PARENT: "1"})
        try:
            if wait_for_http(f"http://127.0.0.1:{self.port}/", timeout=60, process=self._server):
                self.log(f"the blog is at http://127.0.0.1:{self.port}/ (Ctrl-C stops everything)")
            return self._server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the web server, the pump, the timer (and a rebuild under way); save the data; stop moto."""
        self._stop.set()
        if self._rebuilder is not None:
            self._rebuilder.stop()
        if self._server and self._server.poll() is None:
            # End-of-file on its stdin stops it (blogctl/devserver.py): no second Ctrl-C on top of
            # the one the terminal already sent it.
            if self._server.stdin is not None:
                self._server.stdin.close()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
        for thread in self._threads:
            thread.join(timeout=RECEIVE_WAIT_SECONDS + 5)
        if self._moto is not None:
            if self.state is not None:
                try:
                    if self.state.save():
                        self.log(f"saved the local stack's data in {self.state.path}")
                except Exception as err:
                    self.log(f"could not save the local stack's data: {err}")
            self._moto.stop()
            self._moto = None
        self._patches.close()
        self.log("stopped")


def _names(stage):
    from blogctl.resources import Names

    return Names(bucket=stage.bucket, table=stage.table, queue=stage.queue, region=LOCAL_REGION)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """Poll `url` until it answers (any status) or `timeout` passes or `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def start_child(port: int, aws_port: int, *options: str, **popen: Any) -> subprocess.Popen:
    """`python -m blogctl serve` on these ports (and `options`) as a child of a test or a benchmark:
    without autoreload, with none of this process's AWS or blog settings, and stopped by Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLOG_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "blogctl", "serve", "--port", str(port), "--aws-port", str(aws_port),
         "--no-autoreload", *options], cwd=PROJECT_DIR, env=env,
        # A shell starts a background job (`make bench &`) with SIGINT ignored; the stack would inherit
        # that, and Ctrl-C (how it is stopped) would not stop it.
        preexec_fn=_default_sigint, **popen)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(port: int, aws_port: int, stage: str, autoreload: bool, state_dir: Path | None = None,
         fresh: bool = False) -> int:
    """`make run`: start the local stack and serve until Ctrl-C."""
    # Ingest's and the rebuild's JSON log lines, as CloudWatch would show them.
    logging.basicConfig(level=logging.WARNING, format="[%(name)s] %(message)s")
    logging.getLogger("chalicelib").setLevel(logging.INFO)
    stack = LocalStack(port=port, aws_port=aws_port, stage=stage, autoreload=autoreload,
                       log=lambda text: print(f"[local] {text}", flush=True), state_dir=state_dir, fresh=fresh)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack.serve()


def rebuild_once() -> int:
    """`python -m blogctl.localstack rebuild`: the scheduled rebuild, once, in this process (Rebuilder runs it)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint.startswith("http://127.0.0.1:"):  # never AWS: only a local stack starts this
        raise SystemExit("the local stack's rebuild runs only against a local stack (AWS_ENDPOINT_URL on 127.0.0.1)")
    logging.basicConfig(level=logging.WARNING, format="[%(name)s] %(message)s")
    logging.getLogger("chalicelib").setLevel(logging.INFO)
    import app

    try:
        app.rebuild_index(scheduled_event(), None)
    except KeyboardInterrupt:  # Ctrl-C on `make run` reaches this process too
        return 130
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["rebuild"]:
        raise SystemExit("usage: python -m blogctl.localstack rebuild   (the local stack runs it; `make run` "
                         "starts the stack)")
    sys.exit(rebuild_once())
