"""A stage on AWS in one command each: `make deploy`, `make destroy`, `make package`.

deploy   checks first (blogctl/preflight.py: credentials, account, region, bucket name, site URL,
         certificate; reads only), then brings `.chalice/policy-<stage>-<function>.json` up to
         date with config.json, runs the one idempotent setup (`ensure_resources`) in the
         stage's region, `chalice deploy --stage <stage>` (the queue must exist before Chalice
         connects the ingest function to it; run by blogctl/chalicecli.py, which gives the zip
         its bytecode before the upload), then the operations Chalice does not do: log
         retention and alarms, and with `blog_cdn` the CloudFront stack in front of the API.
destroy  the CDN stack, `chalice delete --stage <stage>` (the functions, the API, the schedule,
         the roles), the alarms and log groups. The bucket, the table and the queues stay (no
         command of this project deletes content); it prints how to remove them by hand.
package  `chalice package --stage <stage> --merge-template … <dir>`: one SAM/CloudFormation
         template with the CDN, alarms and log groups of blogctl/template.py, and the zip;
         then the modules' bytecode into the zip (blogctl/bytecode.py), cfn-lint on the
         template and a size check of the zip.

`--dry-run` runs the preflight (read-only calls) and prints every step; it changes nothing and
runs no subprocess. The same steps run against a local stack in the rehearsal
(blogctl/rehearsal.py): a `Target` with a loopback endpoint instead of AWS.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from blogctl import bytecode, operations, policy, preflight, template
from blogctl.resources import ensure_resources, plan
from blogctl.stage import PROJECT_DIR, Stage, load_stage
from blogctl.target import Target

# boto3 is not bundled (the Lambda runtime has it), so the zip stays small; 5 MB is the goal.
MAX_ZIP_BYTES = 5 * 1024 * 1024
TEMPLATE = "sam.json"
MERGE_TEMPLATE = "blog-operations.json"  # beside sam.json: what blogctl/template.py adds to it
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
    out(title + (" (dry run: nothing is changed)" if dry_run else ""))
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


def run_preflight(stage: Stage, target: Target, checks: list[preflight.Check],
                  out: Callable[[str], None] = print) -> bool:
    """Print what the checks found; False if any failed (each failure is one line)."""
    findings = preflight.run_checks(stage, target, os.environ, checks)
    out(f"preflight for stage {stage.name} on {target.where} (reads only):")
    for finding in findings:
        out(f"   ok: {finding.line}" if finding.ok else f"preflight failed: {finding.line}")
    return all(finding.ok for finding in findings)


def tool(name: str) -> str:
    """A command-line tool from this virtualenv (else from PATH)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def project_dir(stage: Stage) -> Path:
    """The project folder of the stage's config (Chalice runs there)."""
    return Path(stage.config_file).parent.parent


def run_command(command: list[str], env: dict[str, str], cwd: Path = PROJECT_DIR) -> int:
    """Run a command in a project folder; return its exit status (tests replace this)."""
    return subprocess.run(command, cwd=cwd, env=env, check=False).returncode


def command_step(stage: Stage, target: Target, args: list[str], why: str = "",
                 env: dict[str, str] | None = None) -> Step:
    """A step that runs a tool in the project folder, in the stage's region (and only there), with `env` added."""
    cwd = project_dir(stage)
    endpoint = f"AWS_ENDPOINT_URL={target.endpoint_url} " if target.local else ""
    added = "".join(f"{name}={shlex.quote(value)} " for name, value in (env or {}).items())
    shown = f"cd {shlex.quote(str(cwd))} && AWS_DEFAULT_REGION={stage.region} {endpoint}{added}{shlex.join(args)}"

    def run() -> list[str]:
        status = run_command(args, {**target.environment(), **(env or {})}, cwd)
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


def setup_step(stage: Stage, target: Target) -> Step:
    """The idempotent setup of the stage's bucket, table, queues, notification and preview secret."""
    names = policy.resource_names(stage)
    timeout = stage.function_setting("ingest_uploads", "lambda_timeout", 60)
    says = "\n".join([f"set up (creates what is missing, deletes nothing) in {stage.region}:",
                      *(f"   ensure: {line}" for line in plan(names, timeout))])

    def run() -> list[str]:
        s3, dynamodb, sqs, ssm = (target.client(service) for service in ("s3", "dynamodb", "sqs", "ssm"))
        return ensure_resources(s3, dynamodb, sqs, names, timeout, ssm=ssm) or ["everything was already in place"]

    return Step(says, run)


def operations_step(stage: Stage, target: Target) -> Step:
    """Log retention and alarms (Chalice's deploy makes neither for the API function)."""
    email = stage.chalice.alarm_email or "nobody (set blog_alarm_email)"
    return Step(f"operations: logs kept {stage.log_retention_days} days; alarms on the dead-letter queue and "
                f"the API function's errors, mailed to {email}", lambda: operations.ensure_operations(stage, target))


def deployed_api_url(stage: Stage) -> str | None:
    """The API's URL from Chalice's record of the deploy (None before the first one)."""
    for resource in preflight.deployed_record(stage).get("resources", []):
        if resource.get("resource_type") == "rest_api":
            return str(resource["rest_api_url"])
    return None


def rest_api_url(stage: Stage) -> str:
    """The API's URL, which must exist by now."""
    url = deployed_api_url(stage)
    if url is None:
        raise StepFailed(f"no REST API in .chalice/deployed/{stage.name}.json: did `chalice deploy` run?")
    return url


def cdn_step(stage: Stage, target: Target, redeploy: Step) -> Step:
    """The CloudFront stack in front of the API; the first time, tell the functions its id."""
    domain = f" for {stage.domain} (certificate {stage.chalice.certificate_arn})" if stage.domain else ""

    def run() -> list[str]:
        outputs = operations.ensure_cdn(stage, target, template.api_domain_of(rest_api_url(stage)))
        distribution, host = outputs["DistributionId"], outputs["DistributionDomainName"]
        done = [f"distribution {distribution} at https://{host}/"]
        if stage.domain:
            done.append(f"point DNS for {stage.domain} at {host} (a Route 53 alias, or a CNAME)")
        recorded = operations.record_distribution(stage, distribution, host)
        if recorded:
            done.append(f"recorded {', '.join(recorded)} in .chalice/config.json (commit it); deploying again so "
                        "the functions know it")
            done += redeploy.run()
        return done

    return Step(f"CDN: create or update stack {template.cdn_stack_name(stage)}{domain}", run)


def chalice_deploy_step(stage: Stage, target: Target) -> Step:
    """`chalice deploy`, through blogctl/chalicecli.py: the zip it uploads has its modules' bytecode."""
    cwd = project_dir(stage)
    # `-m` finds blogctl in the folder it runs in; the rehearsal deploys from a copy without it
    env = {} if cwd.resolve() == PROJECT_DIR.resolve() else {"PYTHONPATH": str(PROJECT_DIR)}
    return command_step(stage, target, [sys.executable, "-m", "blogctl.chalicecli", "deploy", "--stage", stage.name],
                        f"Chalice's deploy; its zip gets each module's .pyc for {bytecode.runtime()} before the "
                        "upload", env)


def deploy_steps(stage: Stage, target: Target) -> list[Step]:
    """Policies, resources, Chalice, operations, the CDN."""
    chalice_deploy = chalice_deploy_step(stage, target)
    steps = [policy_step(stage), setup_step(stage, target), chalice_deploy, operations_step(stage, target)]
    if stage.chalice.cdn:
        steps.append(cdn_step(stage, target, chalice_deploy))
    return steps


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


def destroy_steps(stage: Stage, target: Target) -> list[Step]:
    """The CDN stack, Chalice's resources, the alarms and log groups."""
    return [
        Step(f"CDN: delete stack {template.cdn_stack_name(stage)} if there is one (it holds a permission "
             "on the functions' roles)", lambda: operations.remove_cdn(stage, target) or ["there is none"]),
        command_step(stage, target, [tool("chalice"), "delete", "--stage", stage.name],
                     "removes the functions, the API, the schedule, the queue trigger and the roles"),
        Step("operations: delete the alarms, their topic and the functions' log groups",
             lambda: operations.remove_operations(stage, target)),
    ]


def check_zip(path: Path, limit: int = MAX_ZIP_BYTES) -> list[str]:
    """Fail when the deployment zip is missing or over `limit` bytes."""
    if not path.exists():
        raise StepFailed(f"{path} was not made")
    size = path.stat().st_size
    report = f"{path.name}: {size / 1e6:.2f} MB ({size:,} bytes; limit {limit:,})"
    if size > limit:
        raise StepFailed(report + ": too big; is something bundled that the Lambda runtime has?")
    return [report]


def write_merge_template(stage: Stage, path: Path) -> list[str]:
    """Write what blogctl/template.py adds to Chalice's template."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template.dumps(template.merge_template(stage)), encoding="utf-8")
    parts = ["log groups", "alarms"] + (["CloudFront distribution"] if stage.chalice.cdn else [])
    return [f"wrote {path} ({', '.join(parts)})"]


def compile_zip(template_path: Path, zip_path: Path) -> list[str]:
    """Add the modules' bytecode to Chalice's zip, for the runtime its template names."""
    try:
        bytecode.check_runtimes(bytecode.function_runtimes(json.loads(template_path.read_text(encoding="utf-8"))))
        return bytecode.add_bytecode(zip_path)
    except bytecode.FAILURES as err:
        raise StepFailed(f"bytecode: {err}") from err


def package_steps(stage: Stage, out_dir: Path) -> list[Step]:
    """Policies, the merge template, `chalice package`, bytecode, cfn-lint on the template, the zip's size."""
    zip_path, merge = out_dir / ZIP, out_dir / MERGE_TEMPLATE
    here = Target(stage.region)  # `chalice package` and cfn-lint call no AWS API
    return [
        policy_step(stage),
        Step(f"write {merge}: CDN, alarms and log groups (blogctl/template.py)",
             lambda: write_merge_template(stage, merge)),
        command_step(stage, here, [tool("chalice"), "package", "--stage", stage.name,
                                   "--merge-template", str(merge), str(out_dir)]),
        Step(f"bytecode: add to {zip_path} each module's .pyc for {bytecode.runtime()}, Pygments' lexers "
             "left as source (blogctl/bytecode.py)",
             lambda: compile_zip(out_dir / TEMPLATE, zip_path)),
        command_step(stage, here, [tool("cfn-lint"), str(out_dir / TEMPLATE)]),
        Step(f"check: {zip_path} is at most {MAX_ZIP_BYTES / 1024 / 1024:.0f} MB", lambda: check_zip(zip_path)),
    ]


def deploy(stage: Stage, target: Target, dry_run: bool = False, out: Callable[[str], None] = print) -> int:
    """Preflight, then the deploy steps; 0 when the stage is up."""
    if not run_preflight(stage, target, preflight.DEPLOY_CHECKS, out):
        return 1
    status = run_steps(f"deploy stage {stage.name} to {target.where}", deploy_steps(stage, target), dry_run, out)
    if status == 0 and not dry_run and deployed_api_url(stage):
        out(f"the blog's API: {deployed_api_url(stage)}")
    return status


def destroy(stage: Stage, target: Target, dry_run: bool = False, out: Callable[[str], None] = print) -> int:
    """Preflight, then the destroy steps; the content stays."""
    if not run_preflight(stage, target, preflight.DESTROY_CHECKS, out):
        return 1
    status = run_steps(f"destroy stage {stage.name} on {target.where}", destroy_steps(stage, target), dry_run, out)
    out("\n".join(kept_resources(stage)))
    return status


def cmd_deploy(args: argparse.Namespace) -> int:
    """Check, set up the stage's resources on AWS, `chalice deploy`, operations, CDN."""
    stage = load_stage(args.stage)
    return deploy(stage, Target(stage.region), args.dry_run)


def cmd_destroy(args: argparse.Namespace) -> int:
    """Everything but the content: CDN, functions, API, alarms."""
    stage = load_stage(args.stage)
    return destroy(stage, Target(stage.region), args.dry_run)


def cmd_package(args: argparse.Namespace) -> int:
    """One CloudFormation template (Chalice's and ours merged) and the zip, linted and size-checked."""
    stage = load_stage(args.stage)
    out_dir = Path(args.out) if args.out else PROJECT_DIR / "build" / stage.name
    return run_steps(f"package stage {stage.name} into {out_dir}", package_steps(stage, out_dir), args.dry_run)
