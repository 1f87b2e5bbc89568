"""IAM as far as the tests need it: what each AWS call asks of IAM, and what a policy allows.

`requests_of` turns a botocore call into the (action, resource ARN) pairs IAM authorizes,
as the AWS Service Authorization Reference documents them. `allows` evaluates a policy
of Allow statements with IAM's wildcards (`*`, `?`, within each ARN segment).
`OperationLog` records the calls the deployed code makes: a call counts when app.py or
chalicelib's ingest, rebuild or site is on the stack, so the tests' own uploads and
blogctl's setup do not.
"""
from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from blogctl.policy import policy_document
from blogctl.resources import Names
from blogctl.stage import PROJECT_DIR
from chalicelib import aws, config

ACCOUNT = "123456789012"  # moto's account
DEPLOYED_FILES = frozenset(str(PROJECT_DIR / path) for path in (
    "app.py", "chalicelib/ingest.py", "chalicelib/rebuild.py", "chalicelib/site.py", "chalicelib/search_index.py"))
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}


@dataclass(frozen=True)
class Call:
    """One AWS operation with its parameters, and the stage names in force when it was made."""

    service: str
    operation: str
    params: dict[str, Any] = field(hash=False, compare=False)
    region: str
    names: Names


def _s3_object(params: dict[str, Any]) -> str:
    return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"


def _read(params: dict[str, Any]) -> list[tuple[str, str]]:
    # A read of one version by its id is a different action from a read of the current one.
    return [("s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject", _s3_object(params))]


S3_REQUESTS = {
    "GetObject": _read,
    "HeadObject": _read,
    "PutObject": lambda p: [("s3:PutObject", _s3_object(p))],
    "DeleteObject": lambda p: [("s3:DeleteObjectVersion" if p.get("VersionId") else "s3:DeleteObject",
                                _s3_object(p))],
    "ListObjectsV2": lambda p: [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}")],
    "ListObjects": lambda p: [("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}")],
    "ListObjectVersions": lambda p: [("s3:ListBucketVersions", f"arn:aws:s3:::{p['Bucket']}")],
}


def _table(region: str, name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def requests_of(call: Call) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs a call needs; LookupError for a call not modelled here."""
    params = call.params
    if call.service == "s3" and call.operation in S3_REQUESTS:
        return S3_REQUESTS[call.operation](params)
    if call.service == "dynamodb" and call.operation == "TransactWriteItems":
        # No action of its own: IAM authorizes each write it contains.
        return [(f"dynamodb:{TRANSACT_ACTIONS[kind]}", _table(call.region, body["TableName"]))
                for item in params["TransactItems"] for kind, body in item.items()]
    if call.service == "dynamodb" and call.operation == "BatchGetItem":
        return [("dynamodb:BatchGetItem", _table(call.region, name)) for name in params["RequestItems"]]
    if call.service == "dynamodb" and "TableName" in params:
        return [(f"dynamodb:{call.operation}", _table(call.region, params["TableName"], params.get("IndexName")))]
    if call.service == "sqs" and "QueueUrl" in params:
        # IAM authorizes a batch call as the single action it repeats.
        action = call.operation.removesuffix("Batch")
        return [(f"sqs:{action}", f"arn:aws:sqs:{call.region}:{ACCOUNT}:{params['QueueUrl'].rsplit('/', 1)[-1]}")]
    raise LookupError(f"no IAM mapping for {call.service}:{call.operation}: add one to tests/iam.py")


@functools.lru_cache(maxsize=None)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` one character, nothing else special."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Does a policy's Action entry cover `action`? (Action names are case-insensitive.)"""
    return _glob(pattern.lower()).fullmatch(action.lower()) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """Does a policy's Resource entry cover `arn`? Wildcards match within an ARN segment."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(
        _glob(w).fullmatch(a) is not None for w, a in zip(wanted, actual))


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    """(actions, resources) of each statement; ValueError for IAM this evaluator does not model."""
    found = []
    for statement in policy["Statement"]:
        extra = set(statement) - {"Sid", "Effect", "Action", "Resource"}
        if statement.get("Effect") != "Allow" or extra:
            raise ValueError(f"only plain Allow statements are evaluated here, not {statement}")
        found.append((_as_list(statement["Action"]), _as_list(statement["Resource"])))
    return found


def allows(policy: dict[str, Any], action: str, arn: str) -> bool:
    """Does some statement allow `action` on `arn`?"""
    return any(any(action_matches(a, action) for a in actions) and any(arn_matches(r, arn) for r in resources)
               for actions, resources in statements(policy))


def grants(policy: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (action, resource pattern) pair the policy grants."""
    return [(a, r) for actions, resources in statements(policy) for a in actions for r in resources]


def unused_grants(policy: dict[str, Any], used: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Grants no used (action, ARN) pair needed: what least privilege would take away."""
    return [(a, r) for a, r in grants(policy)
            if not any(action_matches(a, action) and arn_matches(r, arn) for action, arn in used)]


@functools.lru_cache(maxsize=None)
def _stage_policy(names: Names) -> dict[str, Any]:
    return policy_document(names, "serverless-blog-test")


def denied(calls: list[Call], policy: dict[str, Any] | None = None) -> list[str]:
    """The calls a policy does not allow (by default: the generated policy of each call's names)."""
    problems = []
    for call in calls:
        try:
            needed = requests_of(call)
        except LookupError as err:
            problems.append(str(err))
            continue
        for action, arn in needed:
            if not allows(policy or _stage_policy(call.names), action, arn):
                problems.append(f"{call.service}:{call.operation} needs {action} on {arn}")
    return sorted(set(problems))


def deployed_code_is_calling() -> bool:
    """Is app.py or chalicelib's ingest, rebuild or site on the stack?"""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename in DEPLOYED_FILES:
            return True
        frame = frame.f_back
    return False


class OperationLog:
    """AWS calls the deployed code makes through the clients it is hooked on."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def hook(self, client: Any, names: Names) -> None:
        """Record the deployed code's calls through `client`, made for a stage called `names`."""
        service, region = client.meta.service_model.service_name, client.meta.region_name

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            if deployed_code_is_calling():
                self.calls.append(Call(service, model.name, dict(params), region, names))

        client.meta.events.register("before-parameter-build", record, unique_id=f"iam-log-{id(self)}")


@contextlib.contextmanager
def recording(log: OperationLog) -> Iterator[OperationLog]:
    """Hook `log` on every client `chalicelib.aws.client` makes while inside."""
    original = aws.client

    @functools.lru_cache(maxsize=None)
    def client(service: str) -> Any:
        made = original.__wrapped__(service)
        # The settings the client was just made with: reading them again changes nothing
        # (reading them first would, and tests must behave as without the recorder).
        settings = config.get_settings()
        log.hook(made, Names(settings.bucket, settings.table, settings.queue, settings.region))
        return made

    aws.client = client  # aws.reset() clears whichever cache this name holds
    try:
        yield log
    finally:
        aws.client = original
        original.cache_clear()
