"""Local stack at archive size: its memory holding a generated archive, and uploads going live while the rebuild runs.

`make run`'s stack (`python -m blogctl serve`, with a state folder as `make run` keeps one) is
started on free loopback ports. A generated archive goes in as an editor's import would:
posts of 500 to 3,000 words with 1 to 4 of 300 tags over 15 years, one in IMAGE_EVERY with an
image beside it, uploaded to the stack's bucket (waves of UPLOAD_WAVE, so the queue stays
short) and ingested by the stack's own queue pump. Then:

- memory: the resident size of the stack's processes (moto + pump + state saver, the
  rebuild's own process while it runs, and `chalice local`), summed, after the ingest and
  after serving a sample of pages; the peak is the largest sum sampled every
  MEMORY_SAMPLE_SECONDS during the whole run. After each wave, the stack's own process alone,
  settled (the least of SETTLE_SAMPLES samples): it holds moto's data. Below ARCHIVE_POSTS the
  goal is judged at ARCHIVE_POSTS: the peak plus the rest of the archive at that process's
  growth per post over the import's second half (the rebuild process's own growth is the
  rebuild's, measured in-process by the other groups);
- upload to live while the rebuild runs: the rebuild's record of agreed shards is dropped
  (as after an import that outran it: its next run compares every shard, the longest kind of
  run) and posts are uploaded one after another, LIVE_SPACING_SECONDS apart, until they span
  a tick of the stack's own 30-second timer; each is timed until its page answers 200. The
  stack's log says when each rebuild ran, and the rebuild's process is looked for when each
  upload is made and when it goes live (a merge run can outlast the uploads): only uploads made
  inside a rebuild count, and fewer than LIVE_INSIDE_AT_LEAST of them is an error row.

`make bench` runs it at POSTS (`BENCH_LOCALSTACK_POSTS=N make bench` or
`python -m bench.localstack --posts N` for another size); the issue's archive is ARCHIVE_POSTS,
about 22 minutes on two shared cores (2026-11-27).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.figures import Figure, failed, guarded, judged, text_table, times
from bench.search import Corpus
from bench.timing import NotMeasured
from bench.throughput import (LIVE_GOAL_SECONDS, LIVE_POLL_SECONDS, REQUEST_TIMEOUT_SECONDS, free_port,
                              start_stack, stop_stack)
from blogctl.audit import png
from blogctl.localstack import LOCAL_CREDENTIALS, REBUILD_EVERY_SECONDS, wait_for_http
from blogctl.stage import LOCAL_REGION, load_stage

POSTS = int(os.environ.get("BENCH_LOCALSTACK_POSTS", "400"))  # make bench's default fits in about 3 minutes
ARCHIVE_POSTS = 10_000
IMAGE_EVERY = 10
UPLOAD_WAVE = 100           # posts uploaded before waiting for the queue to drain below QUEUE_LOW
QUEUE_LOW = 50
UPLOAD_THREADS = 4
MEMORY_GOAL_BYTES = 2 * 1024 ** 3
MEMORY_SAMPLE_SECONDS = 1.0
SETTLE_SAMPLES = 4          # after each wave: the least of these is the stack's settled size
SAMPLE_POSTS = 60           # post pages served after the ingest (plus listings, feeds, search)
LIVE_UPLOADS = 10           # at least; more until the uploads span a tick of the rebuild's timer
LIVE_SPACING_SECONDS = 2.0
MAX_SLOW_LINES = 20  # the stack's "slow: ..." lines kept with the figure (blogctl/localstate.py SLOW_SECONDS)
SLOW_LINE = re.compile(r"slow: (.*)")
LIVE_INSIDE_AT_LEAST = 3   # fewer uploads made inside a rebuild: not measured (an error row)
LIVE_TIMEOUT_SECONDS = 180.0
START_TIMEOUT_SECONDS = 180
INGEST_TIMEOUT_SECONDS = 4 * 3600
QUIET_POLLS = 3             # the queue looked empty this many times in a row: ingested
MEMORY_KEY, MEMORY_LABEL = "localstack.memory", "Local stack: memory holding {posts:,} posts (all processes)"
LIVE_KEY, LIVE_LABEL = "localstack.live_during_rebuild", "Local stack: upload to live while the rebuild runs"
MEMORY_GOAL = "≤ 2 GB at 10,000 posts"
LIVE_GOAL = f"≤ {LIVE_GOAL_SECONDS:.0f} s"
REBUILD_LINE = re.compile(r'\{"event": "rebuild".*\}')


def archive_post(corpus: Corpus, number: int) -> tuple[str, bytes, bytes | None]:
    """Post `number` of the generated archive: its slug, its Markdown file, and its image (or None)."""
    rng = random.Random(f"archive-{number}")
    title = " ".join(rng.choices(corpus.words[50:5000], k=rng.randint(3, 8))).capitalize()
    slug = f"{'-'.join(title.lower().split()[:4])}-{number:05d}"
    tags = ", ".join(rng.sample(corpus.tags, rng.randint(1, 4)))
    date = dt.datetime(2010, 1, 1, 9) + dt.timedelta(minutes=rng.randrange(15 * 365 * 24 * 60))
    body = corpus.body(rng, rng.randint(500, 3_000))
    image = None
    if number % IMAGE_EVERY == 0:
        image = png(rng.randint(320, 960), rng.randint(200, 540))
        body = f"![A figure for {title.lower()}](figure.png)\n\n{body}"
    text = f"---\ntitle: {title}\ndate: {date:%Y-%m-%dT%H:%M:%SZ}\ntags: [{tags}]\n---\n\n{body}\n"
    return slug, text.encode(), image


@dataclass
class Stack:
    """The running stack's ports, process, log and clients (boto3 pointed at its moto)."""

    port: int
    aws_port: int
    process: Any
    log: IO[str]
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A boto3 client of the stack's moto (one per service, shared by threads: boto3 clients are thread-safe)."""
        if service not in self.clients:
            import boto3

            self.clients[service] = boto3.client(
                service, endpoint_url=f"http://127.0.0.1:{self.aws_port}", region_name=LOCAL_REGION,
                aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        return self.clients[service]

    def output(self) -> str:
        """What the stack printed so far."""
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as file:
            return file.read()


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as file:
                    todo += [int(child) for child in file.read().split()]
        except OSError:
            continue
    return found


def resident_bytes(pid: int, descendants: bool = True) -> int:
    """The resident size of `pid` and (unless told not to) its descendants, summed (0 for a process gone meanwhile)."""
    total = 0
    for member in process_tree(pid) if descendants else [pid]:
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as file:
                for line in file:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def settled_bytes(pid: int) -> int:
    """The resident size of the stack's own process (moto's data, the pump, the saver) without what a save
    holds for a moment: the least of a few samples. Its children come and go (the rebuild) or are bounded
    (`chalice local`'s page cache)."""
    samples = []
    for _ in range(SETTLE_SAMPLES):
        samples.append(resident_bytes(pid, descendants=False))
        time.sleep(MEMORY_SAMPLE_SECONDS)
    return min(samples)


class MemoryWatch:
    """Samples the stack's resident size in a thread; keeps the largest sum seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_SECONDS):
            self.peak = max(self.peak, resident_bytes(self.pid))

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def queue_depth(stack: Stack) -> int:
    """Messages in the upload queue, visible or in flight."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=load_stage("dev").queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_for_queue(stack: Stack, below: int, timeout: float) -> None:
    """Until the queue holds fewer than `below` messages (QUIET_POLLS times in a row for 1: empty)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError("the stack stopped: " + stack.output()[-500:])
        quiet = quiet + 1 if queue_depth(stack) < below else 0
        if quiet >= (QUIET_POLLS if below <= 1 else 1):
            return
        time.sleep(1)
    raise TimeoutError(f"the queue still held {below} or more messages after {timeout:.0f} s")


def upload_archive(stack: Stack, count: int, log: Any = print) -> tuple[float, list[tuple[int, int]]]:
    """Upload the generated archive in waves and wait until the stack ingested it: the seconds it took,
    and (posts uploaded, resident bytes) after each wave."""
    s3 = stack.client("s3")
    bucket = load_stage("dev").bucket
    corpus = Corpus()

    def put(number: int) -> None:
        slug, text, image = archive_post(corpus, number)
        if image is not None:
            s3.put_object(Bucket=bucket, Key=f"assets/{slug}/figure.png", Body=image, ContentType="image/png")
        s3.put_object(Bucket=bucket, Key=f"posts/{slug}.md", Body=text, ContentType="text/markdown; charset=utf-8")

    started, waves = time.monotonic(), []
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        for wave in range(0, count, UPLOAD_WAVE):
            uploaded = min(count, wave + UPLOAD_WAVE)
            list(pool.map(put, range(wave, uploaded)))
            wait_for_queue(stack, QUEUE_LOW if uploaded < count else 1, INGEST_TIMEOUT_SECONDS)
            waves.append((uploaded, settled_bytes(stack.process.pid)))
            log(f"[bench] localstack: {uploaded:,} uploaded, {time.monotonic() - started:.0f} s, "
                f"{waves[-1][1] / 1e6:.0f} MB settled in the stack's process, "
                f"{resident_bytes(stack.process.pid) / 1e6:.0f} MB in all")
    return time.monotonic() - started, waves


def growth_per_post(waves: list[tuple[int, int]]) -> float:
    """Resident bytes added per post over the second half of the import (the first half pays for warm-up)."""
    (first_posts, first_bytes), (last_posts, last_bytes) = waves[(len(waves) - 1) // 2], waves[-1]
    if last_posts == first_posts:
        raise NotMeasured(f"one wave of {last_posts} posts: no growth to measure (upload more than {UPLOAD_WAVE})")
    return max(0.0, (last_bytes - first_bytes) / (last_posts - first_posts))


def get(port: int, path: str) -> int:
    """The status of one GET (0 when the connection failed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS * 6)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def sample_paths(count: int) -> list[str]:
    """The pages a reader of the archive might open: posts, their tags and months, listings, feeds, search."""
    corpus = Corpus()
    rng = random.Random(7)
    paths = ["/", "/?page=2", "/tags", "/archive", "/feed.xml", "/sitemap.xml", "/api/posts",
             f"/search?q={corpus.words[300]}", f"/search?q={corpus.words[40]}+{corpus.words[900]}"]
    for number in sorted(rng.sample(range(count), min(SAMPLE_POSTS, count))):
        slug, text, _ = archive_post(corpus, number)
        paths.append(f"/posts/{slug}")
        front = text.decode().split("---")[1]
        tag = re.search(r"tags: \[([^,\]]+)", front)
        if tag and len(paths) % 4 == 0:
            paths.append(f"/tags/{tag.group(1).strip().lower().replace(' ', '-')}")
        month = re.search(r"date: (\d{4})-(\d{2})", front)
        if month and len(paths) % 5 == 0:
            paths.append(f"/archive/{month.group(1)}/{month.group(2)}")
    return paths


def serve_sample(stack: Stack, count: int) -> dict[int, int]:
    """GET every sample page once; {status: how many}."""
    statuses: dict[int, int] = {}
    for path in sample_paths(count):
        status = get(stack.port, path)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def forget_agreed_shards(stack: Stack) -> None:
    """Drop the rebuild's record of agreed shards: its next run compares every shard, as after an import."""
    from chalicelib import model

    stack.client("dynamodb").delete_item(TableName=load_stage("dev").table,
                                         Key={name: {"S": value} for name, value in model.REBUILD_KEY.items()})


def rebuilds(output: str) -> list[tuple[float, float]]:
    """(start, end) in epoch seconds of every rebuild the stack logged."""
    found = []
    for match in REBUILD_LINE.finditer(output):
        report = json.loads(match.group(0))
        started = dt.datetime.strptime(report["started_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        found.append((started.timestamp(), started.timestamp() + report["duration_ms"] / 1000 + 1))
    return found


@dataclass(frozen=True)
class Upload:
    """One upload made to measure: when it was made and how long it took to go live."""

    started: float  # epoch seconds
    seconds: float
    beside_rebuild: bool = False  # a rebuild's process ran when it was made and when it went live


def rebuilding(stack: Stack) -> bool:
    """Is one of the stack's rebuilds running now (its process, `python -m blogctl.localstack rebuild`)?"""
    for member in process_tree(stack.process.pid)[1:]:
        try:
            with open(f"/proc/{member}/cmdline", "rb") as file:
                if b"blogctl.localstack\0rebuild" in file.read():
                    return True
        except OSError:
            continue
    return False


def upload_until_live(stack: Stack, number: int) -> Upload:
    """Upload one new post and poll its page until it answers 200."""
    slug = f"live-during-rebuild-{number}"
    body = f"---\ntitle: Live {number}\ndate: 2024-01-02\ntags: [Bench]\n---\nUploaded while the rebuild runs.\n"
    before = rebuilding(stack)
    started_at, started = time.time(), time.monotonic()
    stack.client("s3").put_object(Bucket=load_stage("dev").bucket, Key=f"posts/{slug}.md", Body=body.encode())
    while time.monotonic() - started < LIVE_TIMEOUT_SECONDS:
        if get(stack.port, f"/posts/{slug}") == 200:
            seconds = time.monotonic() - started
            return Upload(started_at, seconds, before and rebuilding(stack))
        time.sleep(LIVE_POLL_SECONDS)
    return Upload(started_at, float("inf"))


def live_during_rebuild(stack: Stack) -> tuple[list[Upload], list[tuple[float, float]]]:
    """Uploads timed while the stack's rebuild compares every shard; and the rebuilds the stack logged.

    The uploads span more than one tick of the rebuild's timer, so the full rebuild starts among them.
    """
    forget_agreed_shards(stack)
    uploads: list[Upload] = []
    started = time.monotonic()
    while len(uploads) < LIVE_UPLOADS or time.monotonic() - started < REBUILD_EVERY_SECONDS + LIVE_SPACING_SECONDS:
        uploads.append(upload_until_live(stack, len(uploads)))
        time.sleep(LIVE_SPACING_SECONDS)
    last = uploads[-1].started
    deadline = time.monotonic() + LIVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not any(end > last for _, end in rebuilds(stack.output())):
        time.sleep(1)  # the rebuild that was running logs when it ends
    return uploads, rebuilds(stack.output())


@contextmanager
def running_stack(state_dir: Path) -> Iterator[Stack]:
    """`blogctl serve` as `make run` starts it (with a state folder), on free ports; stopped with Ctrl-C."""
    port, aws_port = free_port(), free_port()
    with tempfile.NamedTemporaryFile(mode="w+", suffix=".log") as log:
        process = start_stack(port, aws_port, log, "--state-dir", str(state_dir))
        try:
            if not wait_for_http(f"http://127.0.0.1:{port}/", START_TIMEOUT_SECONDS, process):
                raise RuntimeError("the stack did not start: " + log.name)
            yield Stack(port, aws_port, process, log)
        finally:
            stop_stack(process)


def gigabytes(value: int) -> str:
    """Bytes as '1.23 GB' (10^9)."""
    return f"{value / 1e9:.2f} GB"


def memory_figure(posts: int, peak: int, waves: list[tuple[int, int]], statuses: dict[int, int],
                  **data: Any) -> Figure:
    """The stack's peak memory against the limit, at ARCHIVE_POSTS: below it, this run's peak plus the rest of
    the archive at the growth per post of the second half of this import."""
    growth = growth_per_post(waves) if posts < ARCHIVE_POSTS else 0.0
    projected = peak + growth * max(0, ARCHIVE_POSTS - posts)
    if not peak:
        raise NotMeasured("no resident size was read")
    served = sum(statuses.values())
    return judged(MEMORY_KEY, MEMORY_LABEL.format(posts=posts),
                  f"peak {gigabytes(peak)}; {gigabytes(data['after_ingest'])} after ingest, "
                  f"{gigabytes(data['after_serving'])} after serving {served} pages ({statuses.get(200, 0)} "
                  "answered 200)" + ("" if posts >= ARCHIVE_POSTS else
                                     f"; {gigabytes(int(projected))} at {ARCHIVE_POSTS:,} at {growth / 1e3:.0f} KB "
                                     "more per post")
                  + f": {times(projected / MEMORY_GOAL_BYTES)} the limit",
                  MEMORY_GOAL, projected <= MEMORY_GOAL_BYTES and statuses.get(200, 0) == served,
                  posts=posts, peak_bytes=peak, projected_bytes=int(projected), growth_bytes_per_post=round(growth),
                  waves=waves, statuses=statuses, **data)


def measure(posts: int, log: Any = print) -> list[Figure]:
    """Import `posts` into a fresh stack, then the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-localstack-") as folder, running_stack(Path(folder)) as stack:
        with MemoryWatch(stack.process.pid) as watch:
            empty = resident_bytes(stack.process.pid)
            ingest_seconds, waves = upload_archive(stack, posts, log)
            after_ingest = resident_bytes(stack.process.pid)
            statuses = serve_sample(stack, posts)
            after_serving = resident_bytes(stack.process.pid)
            log(f"[bench] localstack: ingested in {ingest_seconds:.0f} s; {gigabytes(after_ingest)}, "
                f"{gigabytes(after_serving)} after serving {statuses}")
            logged = len(stack.output())
            uploads, ran = live_during_rebuild(stack)
            slow = SLOW_LINE.findall(stack.output()[logged:])  # what held requests back meanwhile
        state_bytes = sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())
    during = [u for u in uploads if u.beside_rebuild
              or any(start <= u.started and u.started + u.seconds <= end for start, end in ran)]
    peak = max(watch.peak, after_ingest, after_serving)
    memory = guarded(MEMORY_KEY, MEMORY_LABEL.format(posts=posts), MEMORY_GOAL, lambda: memory_figure(
        posts, peak, waves, statuses, after_ingest=after_ingest, after_serving=after_serving, empty=empty,
        ingest_seconds=round(ingest_seconds, 1), state_file_bytes=state_bytes))
    live_label = LIVE_LABEL + f" ({posts:,} posts)"
    if len(during) < LIVE_INSIDE_AT_LEAST:  # no rebuild ran beside them: this run says nothing about the goal
        return [memory, failed(LIVE_KEY, live_label, LIVE_GOAL,
                               f"only {len(during)} of {len(uploads)} uploads fell inside a rebuild "
                               f"(rebuilds logged: {len(ran)})")]
    seconds = [u.seconds for u in during]
    slowest = max(seconds)
    live = judged(LIVE_KEY, live_label,
                  f"slowest {slowest:.2f} s, median {sorted(seconds)[len(seconds) // 2]:.2f} s of the {len(during)} "
                  f"uploads made inside a rebuild ({len(uploads)} made): {times(slowest / LIVE_GOAL_SECONDS)} the limit",
                  LIVE_GOAL, slowest <= LIVE_GOAL_SECONDS,
                  seconds_inside=[round(s, 3) for s in seconds], seconds=[round(u.seconds, 3) for u in uploads],
                  rebuild_seconds=[round(end - start, 1) for start, end in ran],
                  slow_moments=slow[:MAX_SLOW_LINES], slow_moments_logged=len(slow))
    return [memory, live]


def run(world: object = None) -> list[Figure]:
    """`make bench`'s figures, at POSTS."""
    try:
        return measure(POSTS, log=lambda text: print(text, file=sys.stderr, flush=True))
    except (OSError, RuntimeError, TimeoutError) as err:  # the stack did not start, stopped, or fell behind
        return [failed(MEMORY_KEY, MEMORY_LABEL.format(posts=POSTS), MEMORY_GOAL, str(err)),
                failed(LIVE_KEY, LIVE_LABEL + f" ({POSTS:,} posts)", LIVE_GOAL, str(err))]


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.localstack [--posts N]`: the figures at N posts, printed (results files untouched)."""
    parser = argparse.ArgumentParser(prog="python -m bench.localstack", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=POSTS, help=f"archive size (default {POSTS:,}; the "
                                                                 f"issue's: {ARCHIVE_POSTS:,})")
    args = parser.parse_args(argv)
    found = measure(args.posts, log=lambda text: print(text, file=sys.stderr, flush=True))
    print(text_table(found))
    print(json.dumps({f.key: f.data for f in found}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
