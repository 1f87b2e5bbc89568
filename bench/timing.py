"""Timing that survives a noisy machine: interleaved repetitions, medians, ratios, and a
meter that counts and times AWS calls through botocore's event hooks.

Every figure `make bench` reports is a ratio or a count from one run, so what matters
here is that the things compared are measured the same way, side by side. Times are the
CPU time of the measuring thread: on a shared machine, wall time also counts whatever
else runs meanwhile, and the in-process benchmarks (moto included) only use this thread.
"""
from __future__ import annotations

import gc
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Sample = TypeVar("Sample")

clock = time.thread_time
WRITE_OPERATIONS = ("Put", "Update", "Delete", "TransactWrite", "BatchWrite", "Copy", "Restore")


def median(values: list[float]) -> float:
    """The median of some measurements (robust to the odd slow run)."""
    if not values:
        raise ValueError("no measurements")
    return statistics.median(values)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; infinity when the denominator is zero and the numerator is not."""
    if denominator == 0:
        return 0.0 if numerator == 0 else float("inf")
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


def interleave(cases: dict[str, Callable[[], Sample]], rounds: int) -> dict[str, list[Sample]]:
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


class AwsMeter:
    """Counts and times the calls made through some boto3 clients, and keeps each Query's ScannedCount.

    A call is timed from `provide-client-params` (the first event botocore emits, before
    validating and serializing) to `after-call` or `after-call-error`, so the time outside
    calls is the blog's own code and not botocore's.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str, str]] = []  # (service, operation, error code)
        self.scanned: list[int] = []
        self.seconds = 0.0
        self._started: list[float] = []

    def attach(self, client: Any) -> None:
        """Meter every call `client` makes from now on."""
        service = client.meta.service_model.service_name
        events = client.meta.events
        events.register("provide-client-params", self._start, unique_id=f"bench-start-{id(self)}")
        events.register("after-call", lambda model, parsed, **_: self._stop(service, model.name, parsed),
                        unique_id=f"bench-stop-{id(self)}")
        events.register("after-call-error", lambda **_: self._stop(service, "error", {}),
                        unique_id=f"bench-error-{id(self)}")

    def _start(self, **_: Any) -> None:
        self._started.append(clock())

    def _stop(self, service: str, operation: str, parsed: dict[str, Any]) -> None:
        if not self._started:
            return
        self.seconds += clock() - self._started.pop()
        if operation != "error":
            self.calls.append((service, operation))
        if "Error" in parsed:
            self.errors.append((service, operation, parsed["Error"].get("Code", "")))
        if "ScannedCount" in parsed:
            self.scanned.append(parsed["ScannedCount"])

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self.calls.clear()
        self.errors.clear()
        self.scanned.clear()
        self.seconds = 0.0
        self._started.clear()

    def count(self) -> Counter[tuple[str, str]]:
        """Calls by (service, operation)."""
        return Counter(self.calls)

    def writes(self) -> list[tuple[str, str]]:
        """The calls that change data."""
        return [call for call in self.calls if call[1].startswith(WRITE_OPERATIONS)]


def describe_calls(counts: Counter[tuple[str, str]]) -> str:
    """'dynamodb GetItem ×1, s3 GetObject ×2', or 'none'."""
    described = (f"{service} {operation} ×{n}" for (service, operation), n in sorted(counts.items()))
    return ", ".join(described) or "none"


def own_seconds(work: Callable[[], Any], meter: AwsMeter) -> tuple[float, float]:
    """(time, time outside the metered AWS calls) of one call of `work`."""
    meter.reset()
    total = seconds(work)
    return total, total - meter.seconds
