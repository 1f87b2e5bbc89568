"""Where a blogctl command connects, and one line saying what to do when it cannot.

A command talks to the local stack (`make run`'s moto on 127.0.0.1:$AWS_PORT) or, with
`--stage NAME`, to AWS with the caller's credentials. Before it does anything, `check_local`
or `check_aws` makes sure the other end is there and is the blog's (one HeadBucket);
whatever still goes wrong with AWS later is put in one line by `explain`. Nobody should
have to read a botocore traceback to learn that `make run` is not running.
"""
from __future__ import annotations

import socket
from typing import Any

from botocore.exceptions import (
    BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError, NoCredentialsError,
    NoRegionError, PartialCredentialsError, ReadTimeoutError, TokenRetrievalError,
)

CONNECT_TIMEOUT_SECONDS = 1.0  # the local stack is on this machine: it answers at once or not at all
CREDENTIALS_HELP = ("run `aws configure sso` and `export AWS_PROFILE=…`, or set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY")
EXPIRED_CODES = ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
                 "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch")


class CommandError(Exception):
    """A command cannot go on; the message is the one line the person at the terminal reads."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def no_local_stack(port: int) -> str:
    """What to do when nothing listens on the local stack's port."""
    return (f"no local stack on 127.0.0.1:{port}: start it with `make run` in another terminal, "
            f"or pass --aws-port (or set AWS_PORT) to the port it runs on")


def check_local_port(port: int) -> None:
    """Something listens on the local stack's port; CommandError if nothing does."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError:
        raise CommandError(no_local_stack(port)) from None


def check_local(port: int, s3: Any, bucket: str) -> None:
    """The local stack answers on `port` and holds the blog's bucket; CommandError if not."""
    check_local_port(port)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        if _code(err) in ("404", "NoSuchBucket"):
            raise CommandError(f"the local stack on 127.0.0.1:{port} has no bucket {bucket}: it is not this "
                               "project's `make run` (restart that, or pass --aws-port)") from None
        raise CommandError(_not_the_stack(port)) from None
    except BotoCoreError:
        raise CommandError(_not_the_stack(port)) from None


def _not_the_stack(port: int) -> str:
    return (f"something answers on 127.0.0.1:{port}, but not the local stack: pass --aws-port with the AWS "
            "port `make run` printed (4566 unless AWS_PORT was set)")


def check_aws(stage: str, session: Any, s3: Any, bucket: str, region: str) -> None:
    """Credentials exist, AWS answers and the stage's bucket is there; CommandError if not."""
    if session.get_credentials() is None:
        raise CommandError(f"no AWS credentials for stage {stage}: {CREDENTIALS_HELP}")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        code = _code(err)
        if code in ("404", "NoSuchBucket"):
            raise CommandError(f"stage {stage} has no bucket {bucket} in {region}: deploy it first "
                               f"(`make deploy STAGE={stage}`)") from None
        if code in ("403", "AccessDenied"):
            raise CommandError(f"AWS refuses your credentials access to bucket {bucket} of stage {stage}: use "
                               f"credentials of the account the stage is deployed in ({CREDENTIALS_HELP})") from None
        raise CommandError(explain(err, stage)) from None
    except BotoCoreError as err:
        raise CommandError(explain(err, stage)) from None


def explain(err: Exception, stage: str | None, port: int | None = None) -> str:
    """One line for an AWS error that reached a command: what happened and what to do."""
    where = f"stage {stage}" if stage else f"the local stack on 127.0.0.1:{port}"
    if isinstance(err, (NoCredentialsError, PartialCredentialsError)):
        return f"no AWS credentials for {where}: {CREDENTIALS_HELP}"
    if isinstance(err, TokenRetrievalError):
        return f"your AWS sign-in has expired: run `aws sso login` and try again ({where})"
    if isinstance(err, NoRegionError):
        return f"no AWS region for {where}: set BLOG_REGION in .chalice/config.json"
    if isinstance(err, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        if stage is None and port is not None:
            return no_local_stack(port)
        return f"cannot reach AWS ({err}): check your network connection and try again"
    if isinstance(err, ClientError):
        code = _code(err)
        message = err.response.get("Error", {}).get("Message") or code
        if code in EXPIRED_CODES:
            return f"AWS refused your credentials ({code}) for {where}: refresh them ({CREDENTIALS_HELP})"
        if code in ("ResourceNotFoundException", "NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist", "ParameterNotFound"):
            setup = f"blogctl setup --stage {stage}" if stage else "make run"
            return f"{where} lacks a resource ({message}): run `{setup}` to create what is missing"
        if code in ("AccessDenied", "AccessDeniedException", "403"):
            return f"AWS denied {err.operation_name} for {where} ({message}): your credentials lack that permission"
        return f"AWS answered {err.operation_name} with {code}: {message}"
    return f"AWS call failed for {where}: {err}"
