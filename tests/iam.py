"""IAM as far as the tests need it: what each AWS call asks of IAM, and what a policy allows.

`requests_of` turns a botocore call into the (action, resource ARN) pairs IAM authorizes,
as the AWS Service Authorization Reference documents them. `allows` evaluates a policy
of Allow statements with IAM's wildcards (`*`, `?`, within each ARN segment).

`OperationLog` records the calls the deployed functions make, each under the function that
made it. Attribution is explicit: while a Lambda handler of app.py runs, a Chalice middleware
names its function (`acting_as`); a call made outside any function (the tests' own uploads,
blogctl's setup) is not the deployed code's and is not recorded.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers
from chalice.app import Request

from blogctl.policy import policy_document
from blogctl.resources import Names
from chalicelib import config

ACCOUNT = "123456789012"  # moto's account
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}
API_FUNCTION = "api_handler"
# The Lambda function whose code is running now (None: the tests' own code).
_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("lambda_function", default=None)


@dataclass(frozen=True)
class Call:
    """One AWS operation by one function, with its parameters and the stage names in force."""

    function: str
    service: str
    operation: str
    params: dict[str, Any] = field(hash=False, compare=False)
    region: str
    names: Names


def _s3_object(params: dict[str, Any]) -> str:
    return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"


def _read(params: dict[str, Any]) -> list[tuple[str, str]]:
    # A read of one version by its id is a different action from a read of the current one.
    if params.get("VersionId"):
        return [("s3:GetObjectVersion", _s3_object(params))]
    # A read by key may find nothing: only with ListBucket does S3 say 404 rather than 403.
    return [("s3:GetObject", _s3_object(params)), ("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}")]


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
    if call.service == "cloudfront" and call.operation == "CreateInvalidation":
        return [("cloudfront:CreateInvalidation", f"arn:aws:cloudfront::{ACCOUNT}:distribution/{params['DistributionId']}")]
    if call.service == "ssm" and "Name" in params:
        name = params["Name"].lstrip("/")
        return [(f"ssm:{call.operation}", f"arn:aws:ssm:{call.region}:{ACCOUNT}:parameter/{name}")]
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
def _function_policy(function: str, names: Names) -> dict[str, Any]:
    return policy_document(function, names, f"serverless-blog-test-{function}")


def denied(calls: list[Call], policy: dict[str, Any] | None = None) -> list[str]:
    """The calls a policy does not allow (by default: the generated policy of each call's function)."""
    problems = []
    for call in calls:
        try:
            needed = requests_of(call)
        except LookupError as err:
            problems.append(str(err))
            continue
        for action, arn in needed:
            if not allows(policy or _function_policy(call.function, call.names), action, arn):
                problems.append(f"{call.function}: {call.service}:{call.operation} needs {action} on {arn}")
    return sorted(set(problems))


@contextlib.contextmanager
def acting_as(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside to the Lambda function `function`."""
    token = _FUNCTION.set(function)
    try:
        yield
    finally:
        _FUNCTION.reset(token)


def handler_functions(chalice_app: Any) -> dict[type, str]:
    """Which function an event-source handler's event belongs to, by the event's class."""
    functions: dict[type, str] = {}
    for source in chalice_app.event_sources:
        event_class = chalice_app.handler_map[source.name].event_class
        if event_class in functions:
            raise ValueError(f"{source.name} and {functions[event_class]} take the same events: "
                             "name them apart in tests/iam.py")
        functions[event_class] = source.name
    return functions


def naming_middleware(chalice_app: Any) -> Any:
    """A Chalice middleware that runs each handler as its function (API requests: the API function)."""
    functions = handler_functions(chalice_app)

    def name_the_function(event: Any, get_response: Any) -> Any:
        function = API_FUNCTION if isinstance(event, Request) else functions[type(event)]
        with acting_as(function):
            return get_response(event)

    return name_the_function


class OperationLog:
    """AWS calls made by the deployed functions, each under the function that made it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """botocore's before-parameter-build hook: keep the call if a function is running."""
        function = _FUNCTION.get()
        if function is None:
            return
        # Inside a function the settings were read already (its client was made from them).
        settings = config.get_settings()
        # A presigned URL (no region in its context) is authorized, when used, as the call it signs.
        self.calls.append(Call(function, model.service_model.service_name, model.name, dict(params),
                               context.get("client_region", settings.region),
                               Names(settings.bucket, settings.table, settings.queue, settings.region)))


@contextlib.contextmanager
def recording(log: OperationLog) -> Iterator[OperationLog]:
    """Record, on every botocore client made while inside, the calls of app.py's functions."""
    import app

    hook = ("before-parameter-build", log.record)
    middleware = (naming_middleware(app.app), "all")
    # botocore copies BUILTIN_HANDLERS into each new session (moto hooks in the same way), and
    # chalicelib.aws makes a session per client: every client made from now on carries the hook.
    botocore.handlers.BUILTIN_HANDLERS.append(hook)
    app.app.middleware_handlers.append(middleware)
    try:
        yield log
    finally:
        app.app.middleware_handlers.remove(middleware)
        botocore.handlers.BUILTIN_HANDLERS.remove(hook)
