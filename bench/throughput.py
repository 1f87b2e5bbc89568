"""Local stack: an upload's time to live, and requests per second for the seed post's page at 1, 8 and 32 clients.

The stack is `make run`'s (`python -m blogctl serve`: moto server, setup, queue pump,
`chalice local`), started on free loopback ports (never 8000 or 4566, which someone may
be using) and stopped with Ctrl-C as a person would. Each level sends a fixed number of
requests over keep-alive connections, one per client thread (as browsers do), and stops
by itself. One more run at one client opens a new connection per request: `chalice local`
writes a response's headers and body separately, so on a kept-alive connection Nagle's
algorithm meets the client's delayed ACK and each response waits about 40 ms.
"""
from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import IO

from bench.figures import Figure, failed, judged
from blogctl.localstack import start_child, wait_for_http

CLIENTS = (1, 8, 32)
REQUESTS_PER_LEVEL = 400
LEVEL_TIMEOUT_SECONDS = 60.0  # a level stops here even if requests remain
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 10
POST_PATH = "/posts/global-prayer-gathering-2013"
RESERVED_PORTS = (8000, 4566)
GOAL = "0 errors"
# An editor's upload is live within two seconds (the queue pump waits up to one second per receive).
LIVE_GOAL_SECONDS = 2.0
LIVE_UPLOADS = 5
LIVE_TIMEOUT_SECONDS = 30.0
LIVE_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Level:
    """What one concurrency level did."""

    clients: int
    requests: int
    errors: int
    seconds: float
    keep_alive: bool = True

    @property
    def per_second(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def free_port() -> int:
    """A free loopback port that is neither 8000 nor 4566."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def load(port: int, clients: int, total: int, keep_alive: bool = True) -> Level:
    """`total` GETs of the post page from `clients` threads, each on its own connection (kept alive or not)."""
    remaining = iter(range(total))
    lock = threading.Lock()
    counts = {"requests": 0, "errors": 0}
    deadline = time.monotonic() + LEVEL_TIMEOUT_SECONDS

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        while time.monotonic() < deadline:
            with lock:
                if next(remaining, None) is None:
                    break
            try:
                connection.request("GET", POST_PATH)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
            if not ok or not keep_alive:
                connection.close()  # the next request connects again
            with lock:
                counts["requests"] += 1
                counts["errors"] += not ok
        connection.close()

    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Level(clients, counts["requests"], counts["errors"], time.monotonic() - started, keep_alive)


def upload_to_live(port: int, aws_port: int, number: int) -> float:
    """Wall seconds from an editor's upload to the post's page answering 200 (LIVE_TIMEOUT_SECONDS at most)."""
    import boto3

    from blogctl.stage import load_stage

    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{aws_port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    slug = f"live-{number}"
    body = f"---\ntitle: Live {number}\ndate: 2024-01-02\n---\nUploaded by the benchmark.\n".encode()
    started = time.monotonic()
    s3.put_object(Bucket=load_stage("dev").bucket, Key=f"posts/{slug}.md", Body=body)
    while time.monotonic() - started < LIVE_TIMEOUT_SECONDS:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            connection.request("GET", f"/posts/{slug}")
            if connection.getresponse().status == 200:
                return time.monotonic() - started
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(LIVE_POLL_SECONDS)
    return float("inf")


def live_figure(seconds: list[float]) -> Figure:
    """Upload to live: the slowest of the uploads against the 2-second goal."""
    slowest = max(seconds)
    shown = "never" if slowest == float("inf") else f"{slowest:.2f} s"
    return judged("throughput.upload_to_live", "Local stack: upload to live post page (slowest of "
                  f"{len(seconds)})", f"{shown} (median {sorted(seconds)[len(seconds) // 2]:.2f} s)",
                  f"≤ {LIVE_GOAL_SECONDS:.1f} s", slowest <= LIVE_GOAL_SECONDS,
                  seconds=[round(value, 3) for value in seconds])


def start_stack(port: int, aws_port: int, log: IO[str], *options: str) -> subprocess.Popen[bytes]:
    """`python -m blogctl serve` on the given ports (and `options`), with none of this shell's AWS or blog settings."""
    return start_child(port, aws_port, *options, stdout=log, stderr=subprocess.STDOUT)


def stop_stack(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a person stops `make run`; kill it only if it does not stop in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(world: object = None) -> list[Figure]:
    """One figure per concurrency level: requests per second and errors."""
    port, aws_port = free_port(), free_port()
    with tempfile.TemporaryFile(mode="w+") as log:  # chalice local logs every request: never a pipe
        process = start_stack(port, aws_port, log)
        try:
            if not wait_for_http(f"http://127.0.0.1:{port}{POST_PATH}", START_TIMEOUT_SECONDS, process):
                log.seek(0)
                reason = (log.read().strip().splitlines() or ["no output"])[-1]
                return [failed("throughput.start", "Local stack throughput", GOAL,
                               f"stack did not start: {reason}")]
            live = live_figure([upload_to_live(port, aws_port, number) for number in range(LIVE_UPLOADS)])
            load(port, 1, 20)  # warm: the page rendered and cached once
            levels = [load(port, clients, REQUESTS_PER_LEVEL) for clients in CLIENTS]
            levels.append(load(port, 1, REQUESTS_PER_LEVEL, keep_alive=False))
        finally:
            stop_stack(process)
    return [live, *(judged(f"throughput.clients_{level.clients}" + ("" if level.keep_alive else "_new_connections"),
                   f"Local stack: post page, {level.clients} client(s)"
                   + ("" if level.keep_alive else ", a new connection per request"),
                   f"{level.per_second:.0f} req/s, {level.errors} errors of {level.requests}", GOAL,
                   level.errors == 0 and level.requests == REQUESTS_PER_LEVEL,
                   requests=level.requests, errors=level.errors, seconds=round(level.seconds, 2),
                   requests_per_second=round(level.per_second, 1))
            for level in levels)]
