"""The one recorder of AWS calls: what the blog's boto3 clients asked of AWS, counted and timed.

The tests (tests/conftest.py's `calls`), the benchmarks (bench/) and the cost model
(blogctl/cost.py) all attach a `CallRecorder` to clients and read the same records:

    recorder = CallRecorder()
    recorder.attach(aws.client("dynamodb"))
    ...
    recorder.count()        # Counter({("dynamodb", "GetItem"): 1})
    recorder.writes()       # the calls that change data
    recorder.aws_seconds    # time spent inside calls (our own time is the rest)

It listens to botocore's client events, so nothing is mocked and nothing changes what
the client does. A call is one API operation as the code asked for it (botocore's own
retries are inside it); it is recorded when it ends, with or without an error. Calls that
botocore refuses before sending (bad parameters) are not AWS calls and are not recorded.

Others can build on it: `keep_params=True` keeps each call's parameters, `on_call`
callbacks see every finished `Call`, and `recording_new_clients()` records every client
made meanwhile (tests/iam.py can check the calls against a policy that way).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers

# Operations whose names start so change data (S3, DynamoDB, SQS).
WRITE_PREFIXES = ("Put", "Update", "Delete", "TransactWrite", "BatchWrite", "Copy", "Restore",
                  "Send", "Purge", "Create")
_KEY = "call-recorder"  # where a call's start is kept in botocore's per-request context


@dataclass(frozen=True)
class Call:
    """One finished AWS call through a recorded client."""

    service: str  # "s3", "dynamodb", "sqs"
    operation: str  # "GetItem", "PutObject", ...
    region: str
    seconds: float  # from the first client event to the answer, by the recorder's clock
    error: str = ""  # the AWS error code, or the exception's type name; "" for success
    response_bytes: int = 0  # size of the HTTP response body
    scanned: int | None = None  # a Query's or Scan's ScannedCount
    params: dict[str, Any] | None = field(default=None, compare=False)  # with keep_params=True

    @property
    def key(self) -> tuple[str, str]:
        """(service, operation), as counted."""
        return self.service, self.operation

    @property
    def is_write(self) -> bool:
        """Does this operation change data?"""
        return self.operation.startswith(WRITE_PREFIXES)


class CallRecorder:
    """Records every call made through the clients it is attached to.

    `clock` is what `seconds` and `aws_seconds` are measured with: time.perf_counter for
    wall time, time.thread_time for the CPU time of the calling thread (the benchmarks).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter, keep_params: bool = False) -> None:
        self.clock = clock
        self.keep_params = keep_params
        self.calls: list[Call] = []
        self.on_call: list[Callable[[Call], None]] = []
        self._id = f"{_KEY}-{id(self)}"
        self._hooking_new = False

    # -- attaching --

    def attach(self, client: Any) -> Any:
        """Record every call `client` makes from now on (attaching twice changes nothing); returns it."""
        events = client.meta.events
        events.register("provide-client-params", self._started, unique_id=f"{self._id}-start")
        events.register("after-call", self._answered, unique_id=f"{self._id}-answer")
        events.register("after-call-error", self._failed, unique_id=f"{self._id}-error")
        return client

    def detach(self, client: Any) -> None:
        """Stop recording `client`'s calls."""
        events = client.meta.events
        events.unregister("provide-client-params", unique_id=f"{self._id}-start")
        events.unregister("after-call", unique_id=f"{self._id}-answer")
        events.unregister("after-call-error", unique_id=f"{self._id}-error")

    @contextmanager
    def recording_new_clients(self) -> Iterator[CallRecorder]:
        """Record the calls of every client made while inside (by any code), for as long as inside.

        botocore registers its BUILTIN_HANDLERS on each new session, and chalicelib.aws makes
        a session per client; clients made before are not affected (attach those).
        """
        entries = [("provide-client-params", self._started_if_hooking), ("after-call", self._answered),
                   ("after-call-error", self._failed)]
        botocore.handlers.BUILTIN_HANDLERS.extend(entries)
        self._hooking_new = True
        try:
            yield self
        finally:
            self._hooking_new = False
            for entry in entries:
                botocore.handlers.BUILTIN_HANDLERS.remove(entry)

    # -- botocore's events --

    def _started_if_hooking(self, **kwargs: Any) -> None:
        if self._hooking_new:
            self._started(**kwargs)

    def _started(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        # The context dict lives exactly as long as this one call, so no stack is needed,
        # and a call refused before sending leaves nothing behind.
        context.setdefault(_KEY, {})[self._id] = (
            self.clock(), model.service_model.service_name, model.name,
            context.get("client_region") or "", dict(params) if self.keep_params else None)

    def _answered(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
                  **_: Any) -> None:
        error = ""
        if http_response.status_code >= 300:
            error = parsed.get("Error", {}).get("Code", "") or f"HTTP {http_response.status_code}"
        if model.has_streaming_output:  # the body is the caller's to read: reading it here would empty it
            size = int(http_response.headers.get("content-length") or 0)
        else:
            size = len(http_response.content or b"")
        self._finish(context, error=error, response_bytes=size, scanned=parsed.get("ScannedCount"))

    def _failed(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        self._finish(context, error=type(exception).__name__)

    def _finish(self, context: dict[str, Any], **outcome: Any) -> None:
        started = context.get(_KEY, {}).pop(self._id, None)
        if started is None:  # attached in the middle of this call
            return
        began, service, operation, region, params = started
        call = Call(service, operation, region, self.clock() - began, params=params, **outcome)
        self.calls.append(call)
        for callback in self.on_call:
            callback(call)

    # -- reading --

    def clear(self) -> None:
        """Forget every call recorded so far."""
        self.calls.clear()

    def count(self) -> Counter[tuple[str, str]]:
        """Calls by (service, operation)."""
        return Counter(call.key for call in self.calls)

    def keys(self) -> list[tuple[str, str]]:
        """(service, operation) of each call, in order."""
        return [call.key for call in self.calls]

    def writes(self) -> list[tuple[str, str]]:
        """The calls that change data, in order."""
        return [call.key for call in self.calls if call.is_write]

    def errors(self) -> list[tuple[str, str, str]]:
        """(service, operation, error) of each call that failed."""
        return [(call.service, call.operation, call.error) for call in self.calls if call.error]

    def scanned(self) -> list[int]:
        """The ScannedCount of each Query and Scan, in order."""
        return [call.scanned for call in self.calls if call.scanned is not None]

    @property
    def aws_seconds(self) -> float:
        """Time spent inside the recorded calls."""
        return sum(call.seconds for call in self.calls)

    def own_seconds(self, work: Callable[[], Any]) -> tuple[float, float]:
        """(time, time outside recorded AWS calls) of one call of `work`; the calls stay recorded."""
        self.clear()
        started = self.clock()
        work()
        total = self.clock() - started
        return total, total - self.aws_seconds

    @contextmanager
    def recording(self, *clients: Any) -> Iterator[CallRecorder]:
        """Attach to `clients` while inside, starting from no calls."""
        self.clear()
        for client in clients:
            self.attach(client)
        try:
            yield self
        finally:
            for client in clients:
                self.detach(client)


def describe(counts: Counter[tuple[str, str]] | dict[tuple[str, str], float]) -> str:
    """'dynamodb GetItem ×1, s3 GetObject ×0.25', or 'none'."""
    described = (f"{service} {operation} ×{n:g}" for (service, operation), n in sorted(counts.items()) if n)
    return ", ".join(described) or "none"
