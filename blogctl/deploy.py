"""A stage on AWS in one command each: `make deploy`, `make destroy`, `make package`.

deploy   brings `.chalice/policy-<stage>.json` up to date with config.json, runs the one
         idempotent setup (`ensure_resources`) against AWS in the stage's region, then
         `chalice deploy --stage <stage>`: the queue must exist before Chalice connects
         the ingest function to it.
destroy  `chalice delete --stage <stage>`: the functions, the API, the schedule and the
         roles go. The bucket, the table and the queues stay (no command of this project
         deletes content); it prints how to remove them by hand.
package  `chalice package --stage <stage> <dir>`: a SAM/CloudFormation template and the
         zip; then cfn-lint on the template and a size check of the zip.

`--dry-run` prints every step and does none of them: no AWS call, no subprocess.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from blogctl import policy
from blogctl.resources import ensure_resources, plan
from blogctl.stage import PROJECT_DIR, Stage, load_stage

# boto3 is not bundled (the Lambda runtime has it), so the zip stays small; 5 MB is the goal.
MAX_ZIP_BYTES = 5 * 1024 * 1024
TEMPLATE = "sam.json"
ZIP = "deployment.zip"


class StepFailed(Exception):
    """A step could not be done; the steps after it are not attempted."""


@dataclass(frozen=True)
class Step:
    """One thing a command does: what it says it will do, and doing it (returns what it did)."""

    says: str
    run: Callable[[], list[str]]


def run_steps(title: str, steps: list[Step], dry_run: bool, out: Callable[[str], None] = print) -> int:
    """Print each step and (unless a dry run) do it, in order; 1 at the first failure."""
    out(title + (" (dry run: nothing is called)" if dry_run else ""))
    for number, step in enumerate(steps, 1):
        out(f"{number}. {step.says}")
        if dry_run:
            continue
        try:
            for line in step.run():
                out(f"   {line}")
        except (StepFailed, BotoCoreError, ClientError, RuntimeError) as err:  # setup raises RuntimeError
            out(f"error in step {number}: {err}")
            return 1
    return 0


def tool(name: str) -> str:
    """A command-line tool from this virtualenv (else from PATH)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run a command in the project folder; return its exit status (tests replace this)."""
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, check=False).returncode


def command_step(stage: Stage, args: list[str], why: str = "") -> Step:
    """A step that runs a tool in the project folder, in the stage's region."""
    env = {**os.environ, "AWS_DEFAULT_REGION": stage.region}
    shown = f"cd {shlex.quote(str(PROJECT_DIR))} && AWS_DEFAULT_REGION={stage.region} {shlex.join(args)}"

    def run() -> list[str]:
        status = run_command(args, env)
        if status != 0:
            raise StepFailed(f"{shlex.join([Path(args[0]).name, *args[1:]])} exited with status {status}")
        return []

    return Step(f"run: {shown}" + (f"\n   ({why})" if why else ""), run)


def policy_step(stage: Stage) -> Step:
    """Rewrite the stage's policy files if config.json changed the names they must grant."""
    stale = policy.stale_policies(stage)
    if not stale:
        return Step(f"policy: .chalice/policy-{stage.name}-<function>.json match config.json", lambda: [])
    shown = ", ".join(f".chalice/{path.name}" for path in stale)
    return Step(f"policy: write {shown} from config.json (they do not match)",
                lambda: [f"wrote {path}" for path in policy.write_policies(stage)])


def setup_step(stage: Stage) -> Step:
    """The idempotent setup of the stage's bucket, table, queues and notification, on AWS."""
    names = policy.resource_names(stage)
    timeout = stage.function_setting("ingest_uploads", "lambda_timeout", 60)
    says = "\n".join([f"set up (creates what is missing, deletes nothing) in {stage.region}:",
                      *(f"   ensure: {line}" for line in plan(names, timeout))])

    def run() -> list[str]:
        if os.environ.get("AWS_ENDPOINT_URL"):
            raise StepFailed("AWS_ENDPOINT_URL is set (a local stack): unset it to deploy to AWS")
        session = boto3.session.Session(region_name=stage.region)
        clients = [session.client(service) for service in ("s3", "dynamodb", "sqs")]
        return ensure_resources(*clients, names, timeout) or ["everything was already in place"]

    return Step(says, run)


def deploy_steps(stage: Stage) -> list[Step]:
    """Policy, resources, then Chalice."""
    return [policy_step(stage), setup_step(stage),
            command_step(stage, [tool("chalice"), "deploy", "--stage", stage.name])]


def kept_resources(stage: Stage) -> list[str]:
    """What destroy leaves in place, and the commands that would remove it for good."""
    region = f"--region {stage.region}"
    queue_url = f'"$(aws sqs get-queue-url {region} --queue-name {{}} --query QueueUrl --output text)"'
    return [
        "kept: nothing below is deleted; remove it by hand only to lose the blog's content for good:",
        f"   S3 bucket {stage.bucket} (every version of every post and asset): empty it in the",
        f"      S3 console (Empty removes old versions too), then: aws s3 rb s3://{stage.bucket} {region}",
        f"   DynamoDB table {stage.table}: aws dynamodb delete-table --table-name {stage.table} {region}",
        *(f"   SQS queue {queue}: aws sqs delete-queue {region} --queue-url {queue_url.format(queue)}"
          for queue in (stage.queue, policy.resource_names(stage).dead_letter_queue)),
    ]


def destroy_steps(stage: Stage) -> list[Step]:
    """Chalice's resources only."""
    return [command_step(stage, [tool("chalice"), "delete", "--stage", stage.name],
                         "removes the functions, the API, the schedule, the queue trigger and the roles")]


def check_zip(path: Path, limit: int = MAX_ZIP_BYTES) -> list[str]:
    """Fail when the deployment zip is missing or over `limit` bytes."""
    if not path.exists():
        raise StepFailed(f"{path} was not made")
    size = path.stat().st_size
    report = f"{path.name}: {size / 1e6:.2f} MB ({size:,} bytes; limit {limit:,})"
    if size > limit:
        raise StepFailed(report + ": too big; is something bundled that the Lambda runtime has?")
    return [report]


def package_steps(stage: Stage, out_dir: Path) -> list[Step]:
    """Policy, `chalice package`, cfn-lint on the template, the zip's size."""
    zip_path = out_dir / ZIP
    return [
        policy_step(stage),
        command_step(stage, [tool("chalice"), "package", "--stage", stage.name, str(out_dir)]),
        command_step(stage, [tool("cfn-lint"), str(out_dir / TEMPLATE)]),
        Step(f"check: {zip_path} is at most {MAX_ZIP_BYTES / 1024 / 1024:.0f} MB", lambda: check_zip(zip_path)),
    ]


def cmd_deploy(args: argparse.Namespace) -> int:
    """Set up the stage's resources on AWS, then `chalice deploy`."""
    stage = load_stage(args.stage)
    return run_steps(f"deploy stage {stage.name} to AWS ({stage.region})", deploy_steps(stage), args.dry_run)


def cmd_destroy(args: argparse.Namespace) -> int:
    """`chalice delete`; keep the bucket, the table and the queues."""
    stage = load_stage(args.stage)
    status = run_steps(f"destroy stage {stage.name} on AWS ({stage.region})", destroy_steps(stage), args.dry_run)
    print("\n".join(kept_resources(stage)))
    return status


def cmd_package(args: argparse.Namespace) -> int:
    """A CloudFormation template and zip for the stage, linted and size-checked."""
    stage = load_stage(args.stage)
    out_dir = Path(args.out) if args.out else PROJECT_DIR / "build" / stage.name
    return run_steps(f"package stage {stage.name} into {out_dir}", package_steps(stage, out_dir), args.dry_run)
