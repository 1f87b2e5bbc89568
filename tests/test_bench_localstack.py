"""The local stack benchmark's archive and its judgement (fast checks; a stack is started once, and killed at once)."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest

from bench import localstack as bench
from bench import throughput
from bench.figures import ERROR, FAIL, PASS
from bench.search import Corpus
from chalicelib import posts

GB = 10 ** 9


def test_archive_posts_are_deterministic_valid_posts():
    corpus = Corpus()
    slug, text, image = bench.archive_post(corpus, bench.IMAGE_EVERY)
    assert bench.archive_post(corpus, bench.IMAGE_EVERY) == (slug, text, image)
    assert image is not None and image.startswith(b"\x89PNG")
    post = posts.parse_post(f"posts/{slug}.md", text)
    assert post.slug == slug and 1 <= len(post.tags) <= 4
    assert 500 <= len(text.split()) and "figure.png" in text.decode()
    assert bench.archive_post(corpus, 1)[2] is None  # most posts have no image


def test_memory_is_judged_at_the_archive_size_from_the_growth_per_post():
    waves = [(200, int(0.5 * GB)), (400, int(0.6 * GB)), (600, int(0.7 * GB))]  # 0.5 MB more per post
    figure = bench.memory_figure(600, int(0.8 * GB), waves, {200: 10}, after_ingest=0, after_serving=0)
    assert figure.status == FAIL
    assert figure.data["projected_bytes"] == pytest.approx(0.8 * GB + 0.5e6 * (bench.ARCHIVE_POSTS - 600), rel=1e-6)
    flat = [(200, int(0.5 * GB)), (400, int(0.5 * GB))]
    assert bench.memory_figure(400, int(0.6 * GB), flat, {200: 10}, after_ingest=0, after_serving=0).status == PASS


def test_a_page_that_did_not_answer_fails_the_memory_figure():
    flat = [(200, int(0.5 * GB)), (400, int(0.5 * GB))]
    assert bench.memory_figure(400, int(0.6 * GB), flat, {200: 9, 0: 1}, after_ingest=0,
                               after_serving=0).status == FAIL


def test_memory_without_a_growth_to_measure_is_an_error_row():
    figure = bench.guarded(bench.MEMORY_KEY, "memory", bench.MEMORY_GOAL, lambda: bench.memory_figure(
        200, int(0.5 * GB), [(200, int(0.5 * GB))], {200: 1}, after_ingest=0, after_serving=0))
    assert figure.status == ERROR


def test_a_rebuild_is_seen_running_by_its_process_under_the_stack():
    import os
    import shlex
    import signal
    import subprocess
    import sys
    import time
    from types import SimpleNamespace

    def stack_running(*arguments: str) -> subprocess.Popen:
        child = shlex.join([sys.executable, "-c", "import time; time.sleep(30)", *arguments])
        return subprocess.Popen(["sh", "-c", f"{child} & wait"])

    rebuilding, other = stack_running("blogctl.localstack", "rebuild"), stack_running("blogctl.devserver")
    try:
        deadline = time.monotonic() + 10
        while not bench.rebuilding(SimpleNamespace(process=rebuilding)) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the shell has started its child
        assert bench.rebuilding(SimpleNamespace(process=rebuilding))
        assert not bench.rebuilding(SimpleNamespace(process=other))
    finally:
        for process in (rebuilding, other):
            for child in bench.process_tree(process.pid)[1:]:
                os.kill(child, signal.SIGTERM)
            process.wait()
    assert not bench.rebuilding(SimpleNamespace(process=rebuilding))


def test_a_stack_started_in_the_background_still_stops_at_ctrl_c(tmp_path):
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under `make bench &`
    try:
        with open(tmp_path / "log", "w") as log:
            process = throughput.start_stack(throughput.free_port(), throughput.free_port(), log)
    finally:
        signal.signal(signal.SIGINT, ignored)
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
        ignoring = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
        assert not ignoring & (1 << (signal.SIGINT - 1))  # Ctrl-C reaches it
    finally:
        process.kill()
        process.wait()
