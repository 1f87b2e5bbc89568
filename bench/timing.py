"""Timing that survives a noisy machine: interleaved repetitions, medians, ratios, and the
AWS call recorder (blogctl/recorder.py) set to time calls in CPU time.

Every figure `make bench` reports is a ratio or a count from one run, so what matters
here is that the things compared are measured the same way, side by side. Times are the
CPU time of the measuring thread: on a shared machine, wall time also counts whatever
else runs meanwhile, and the in-process benchmarks (moto included) only use this thread.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from blogctl.recorder import CallRecorder, describe

Sample = TypeVar("Sample")

clock = time.thread_time


class NotMeasured(ValueError):
    """A measurement is missing or zero: nothing was timed, so no goal can be met (the table says why)."""


def median(values: list[float]) -> float:
    """The median of some measurements (robust to the odd slow run); NotMeasured if there are none."""
    if not values:
        raise NotMeasured("no measurements")
    return statistics.median(values)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator of two real measurements; NotMeasured if either is zero, negative or missing.

    A zero time means the clock saw nothing (the work did not run, or ran outside the
    measured thread): 0 / 0 or 0 / x would pass every "at most" goal, so it is refused.
    """
    for name, value in (("numerator", numerator), ("denominator", denominator)):
        if not (value > 0 and math.isfinite(value)):  # also refuses NaN
            raise NotMeasured(f"the {name} of a ratio is {value!r}, not a measurement")
    return numerator / denominator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the garbage collector out of the timed code (as timeit does): its pauses depend on
    everything else in the process (moto's tables), not on the code being timed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def seconds(work: Callable[[], Any]) -> float:
    """CPU seconds of one call of `work`, the garbage collector paused."""
    with collector_paused():
        started = clock()
        work()
        return clock() - started


def interleave(cases: Mapping[str, Callable[[], Sample]], rounds: int) -> dict[str, list[Sample]]:
    """Run each case once per round, in an order that flips every round; each call returns one sample.

    Alternating the cases spreads the machine's slow moments over all of them, so their
    medians stay comparable even when the absolute numbers drift.
    """
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    names = list(cases)
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            samples[name].append(cases[name]())
    return samples


def meter() -> CallRecorder:
    """The benchmarks' AWS call recorder: calls timed in this thread's CPU time, like everything else here."""
    return CallRecorder(clock=clock)


def describe_calls(counts: Counter[tuple[str, str]]) -> str:
    """'dynamodb GetItem ×1, s3 GetObject ×2', or 'none'."""
    return describe(counts)


def own_seconds(work: Callable[[], Any], recorder: CallRecorder) -> tuple[float, float]:
    """(time, time outside the recorded AWS calls) of one call of `work`, the collector paused.

    The recorder is cleared first and keeps the calls `work` made, to be read after.
    """
    recorder.clear()
    total = seconds(work)
    return total, total - recorder.aws_seconds


EVICT_BYTES = 64 * 1024 * 1024  # copied after each AWS call (ColdCaches): twice the L3 cache of our machines


class ColdCaches:
    """The CPU caches flushed at the end of every AWS call, whichever blog made it.

    moto answers in this process, and inside a call it walks structures that grow with the blog: a
    larger blog's calls evicted more of our code's data from the caches, and our code then ran slower
    for the same work (at 10,000 posts the post page, which makes five calls, measured 1.10x and the
    home page 1.14x; flushed at both sizes, 1.01x and 1.02x). On AWS that work is done elsewhere. A
    copy of EVICT_BYTES after each call's answer is parsed (inside the call, so not in own time) leaves
    our code the same cold caches after every call at both sizes.
    """

    HANDLER_ID = "bench-cold-caches"

    def __init__(self, size: int = EVICT_BYTES) -> None:
        self._source, self._target = bytearray(size), bytearray(size)
        self.flushes = 0

    @contextmanager
    def attached(self, clients: list[Any]) -> Iterator["ColdCaches"]:
        """Flush after every call these clients make, until the block ends."""
        for client in clients:
            client.meta.events.register("response-received", self._flush, unique_id=self.HANDLER_ID)
        try:
            yield self
        finally:
            for client in clients:
                client.meta.events.unregister("response-received", unique_id=self.HANDLER_ID)

    def _flush(self, **_: Any) -> None:
        self._target[:] = self._source
        self.flushes += 1
