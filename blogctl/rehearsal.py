"""`make rehearse STAGE=dev`: the production path end to end, on a local stack, offline.

1. A local AWS on a free port (moto's server, blogctl/emulator.py): it runs the deployed
   Lambda code itself, from the deployed zip with the deployed environment.
2. A copy of the project to deploy from, so Chalice's record of the rehearsal never touches
   the real `.chalice/deployed/`.
3. `deploy`: the same preflight and steps as `make deploy` (setup, `chalice deploy`, log
   retention, alarms), aimed at the local stack instead of AWS.
4. The sample posts published as an editor publishes them (`blogctl publish --stage …`): S3
   notifies the queue, the queue's trigger runs the deployed ingest function.
5. The smoke test: the deployed functions, roles and policies are what config.json says; the
   schedule's event runs the deployed rebuild function; readers' requests are routed by the
   deployed REST API's resources to the deployed API function, and the home page and the seed
   post show the seed post.
6. `destroy`: the same as `make destroy`; then nothing is left but the data (the bucket with
   the posts, the table, the queues).

moto has no CloudFront in CloudFormation: a stage with `blog_cdn` is rehearsed without its
CDN step (said so in the output); `make package` checks that template.
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blogctl import deploy, policy
from blogctl.emulator import local_aws
from blogctl.localstack import scheduled_event
from blogctl.stage import PROJECT_DIR, Stage, load_stage
from blogctl.target import Target
from chalicelib.posts import parse_post

# What `chalice deploy` reads: the app, the code beside it, the config and its policies.
PROJECT_FILES = ("app.py", "requirements.txt")
PROJECT_FOLDERS = ("chalicelib", "vendor")
CONTENT_DIR = PROJECT_DIR / "content"


class RehearsalFailed(Exception):
    """Something the rehearsal checks does not hold."""


def copy_project(into: Path, stage_name: str) -> tuple[Path, list[str]]:
    """The parts of the project Chalice deploys, copied; returns the copy's config file and notes."""
    for name in PROJECT_FILES:
        shutil.copy2(PROJECT_DIR / name, into / name)
    for name in PROJECT_FOLDERS:
        if (PROJECT_DIR / name).is_dir():
            shutil.copytree(PROJECT_DIR / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
    (into / ".chalice").mkdir()
    for path in (PROJECT_DIR / ".chalice").glob("*.json"):
        shutil.copy2(path, into / ".chalice" / path.name)
    if (PROJECT_DIR / ".chalice" / "deployments").is_dir():  # Chalice's cache of built zips: saves a build
        shutil.copytree(PROJECT_DIR / ".chalice" / "deployments", into / ".chalice" / "deployments")
    config_file = into / ".chalice" / "config.json"
    config = json.loads(config_file.read_text())
    notes = []
    if config["stages"][stage_name].get("blog_cdn", config.get("blog_cdn")):
        config["stages"][stage_name]["blog_cdn"] = False
        config_file.write_text(json.dumps(config, indent=2))
        notes.append("the local stack has no CloudFront: the CDN step is left out (make package checks its template)")
    return config_file, notes


def _match(pattern: list[str], parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """How well a resource's path segments match a request's: a literal 2, a {param} 1, a {proxy+} 0."""
    rank: list[int] = []
    params: dict[str, str] = {}
    for i, piece in enumerate(pattern):
        if i >= len(parts):
            return None
        if piece.startswith("{") and piece.endswith("+}"):
            params[piece[1:-2]] = "/".join(parts[i:])
            return (*rank, 0), params
        if piece.startswith("{"):
            params[piece[1:-1]] = parts[i]
            rank.append(1)
        elif piece == parts[i]:
            rank.append(2)
        else:
            return None
    return (tuple(rank), params) if len(pattern) == len(parts) else None


def route(resources: list[dict[str, Any]], path: str) -> tuple[str, dict[str, str]]:
    """The API resource API Gateway picks for `path`, and its path parameters.

    As API Gateway does: at the first segment where candidates differ, a literal beats a
    {param}, which beats a greedy {proxy+}.
    """
    parts = [p for p in path.split("/") if p]
    candidates = []
    for resource in resources:
        matched = _match([p for p in resource["path"].split("/") if p], parts)
        if matched is not None:
            candidates.append((matched[0], resource["path"], matched[1]))
    if not candidates:
        raise RehearsalFailed(f"the deployed API has no resource for {path}")
    _, resource, params = max(candidates, key=lambda c: c[0])
    return resource, params


@dataclass
class DeployedBlog:
    """The stage as deployed on the local stack: its functions and REST API."""

    stage: Stage
    target: Target
    api_id: str

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run a deployed function, as Lambda would, and return what it returned."""
        response = self.target.client("lambda").invoke(
            FunctionName=self.stage.function_name(function), Payload=json.dumps(event).encode())
        payload = response["Payload"].read().decode()
        if response.get("FunctionError"):
            raise RehearsalFailed(f"{function} failed: {payload[-2000:]}")
        return json.loads(payload)

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        """A reader's GET, routed by the deployed API's resources to the deployed API function."""
        resources = self.target.client("apigateway").get_resources(restApiId=self.api_id, limit=500)["items"]
        resource, params = route(resources, path)
        api_stage = self.stage.chalice.api_gateway_stage
        host = f"{self.api_id}.execute-api.{self.stage.region}.amazonaws.com"
        headers = {"Host": host, "Accept": "text/html", "X-Forwarded-Proto": "https"}
        event = {
            "resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": params or None, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": f"/{api_stage}{path}",
                               "stage": api_stage, "domainName": host, "apiId": self.api_id,
                               "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}},
        }
        answer = self.invoke("api_handler", event)
        body = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        return answer["statusCode"], answer.get("headers") or {}, body


def check(condition: bool, what: str) -> str:
    """`what`, if it holds."""
    if not condition:
        raise RehearsalFailed(what)
    return what


def check_deployed(stage: Stage, target: Target) -> list[str]:
    """The functions, their roles, policies and settings are what config.json says."""
    lam, iam, said = target.client("lambda"), target.client("iam"), []
    for function in stage.functions:
        config = lam.get_function_configuration(FunctionName=stage.function_name(function))
        role = config["Role"].rsplit("/", 1)[-1]
        documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                     for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        documents = [json.loads(d) if isinstance(d, str) else d for d in documents]
        said.append(check(documents == [policy.policy_for(stage, function)],
                          f"{function}: its own role {role} with exactly .chalice/"
                          f"{policy.policy_path(stage, function).name}"))
        env = config.get("Environment", {}).get("Variables", {})
        said.append(check(env == stage.environment(function),
                          f"{function}: {config['MemorySize']} MB, {config['Timeout']} s, the stage's environment"))
    alarms = target.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{stage.app_name}-{stage.name}-")
    said.append(check(len(alarms["MetricAlarms"]) == 2, "two alarms: dead letters, API errors"))
    groups = target.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stage.app_name}-{stage.name}")
    kept = {g["logGroupName"]: g.get("retentionInDays") for g in groups["logGroups"]}
    said.append(check(all(kept.get(f"/aws/lambda/{stage.function_name(f)}") == stage.log_retention_days
                          for f in stage.functions), f"each function's logs kept {stage.log_retention_days} days"))
    return said


def publish_samples(stage: Stage, target: Target) -> list[str]:
    """`blogctl publish --stage …` of the sample posts, as an editor runs it."""
    command = [sys.executable, "-m", "blogctl", "publish", "--stage", stage.name, str(CONTENT_DIR / "posts")]
    done = subprocess.run(command, cwd=PROJECT_DIR, env=target.environment(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RehearsalFailed(f"publish failed ({done.returncode}): {done.stderr[-2000:]}")
    return [line for line in done.stdout.splitlines() if line.startswith("live")]


def smoke_test(blog: DeployedBlog) -> list[str]:
    """Ingest published the samples; the rebuild runs; the home page and each post show them."""
    samples = [parse_post(f"posts/{source.name}", source.read_bytes())
               for source in sorted((CONTENT_DIR / "posts").glob("*.md"))]
    said = []
    for post in samples:  # before any rebuild: only the queue's trigger can have published them
        status, _, body = blog.get(f"/posts/{post.slug}")
        said.append(check(status == 200 and post.title in body,
                          f"GET /posts/{post.slug}: 200, published by the deployed ingest function"))
    logged = blog.target.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{blog.stage.function_name('ingest_uploads')}")["events"]
    said.append(check(bool(logged), f"the ingest function wrote {len(logged)} line(s) to its log group"))
    blog.invoke("rebuild_index", scheduled_event())
    said.append("the rebuild function ran on the schedule's event")
    for post in samples:
        for path in ("/", f"/posts/{post.slug}"):
            status, _, body = blog.get(path)
            said.append(check(status == 200 and post.title in body,
                              f"GET {path}: 200 with “{post.title}” (the deployed API function)"))
    return said


def check_only_data_left(stage: Stage, target: Target) -> list[str]:
    """After destroy: no function, API, role, schedule, trigger, alarm or log group; the data intact."""
    prefix = f"{stage.app_name}-{stage.name}"
    lam = target.client("lambda")
    leftovers = [f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(prefix)]
    leftovers += [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]]
    leftovers += [a["name"] for a in target.client("apigateway").get_rest_apis()["items"]]
    leftovers += [r["RoleName"] for r in target.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)]
    leftovers += [r["Name"] for r in target.client("events").list_rules(NamePrefix=prefix)["Rules"]]
    leftovers += [a["AlarmName"] for a in target.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]]
    leftovers += [g["logGroupName"] for g in target.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]]
    said = [check(not leftovers, f"nothing left of the deployment ({', '.join(leftovers) or 'none'})")]
    keys = [o["Key"] for o in target.client("s3").list_objects_v2(Bucket=stage.bucket, Prefix="posts/").get("Contents", [])]
    said.append(check(bool(keys), f"bucket {stage.bucket} keeps {len(keys)} post(s)"))
    items = target.client("dynamodb").scan(TableName=stage.table, Select="COUNT")["Count"]
    said.append(check(items > 0, f"table {stage.table} keeps {items} item(s)"))
    sqs = target.client("sqs")
    for queue in (stage.queue, f"{stage.queue}-dlq"):
        said.append(check(bool(sqs.get_queue_url(QueueName=queue)["QueueUrl"]), f"queue {queue} is kept"))
    return said


def rehearse(stage_name: str, out: Callable[[str], None] = print) -> int:
    """The whole rehearsal; 0 when every step held."""
    with tempfile.TemporaryDirectory(prefix="blog-rehearsal-") as folder, local_aws() as endpoint:
        config_file, notes = copy_project(Path(folder), stage_name)
        stage = load_stage(stage_name, config_file)
        target = Target(stage.region, endpoint)
        out(f"rehearsal of stage {stage.name} on {target.where}, deploying from a copy in {folder}")
        for note in notes:
            out(f"note: {note}")
        try:
            if deploy.deploy(stage, target, out=out) != 0:
                raise RehearsalFailed("make deploy failed (above)")
            api_id = deploy.rest_api_url(stage).split("//", 1)[1].split(".", 1)[0]
            blog = DeployedBlog(stage, target, api_id)
            for part, run in (("deployed as configured", lambda: check_deployed(stage, target)),
                              ("publish the sample posts", lambda: publish_samples(stage, target)),
                              ("smoke test", lambda: smoke_test(blog))):
                out(f"{part}:")
                for line in run():
                    out(f"   {line}")
            if deploy.destroy(stage, target, out=out) != 0:
                raise RehearsalFailed("make destroy failed (above)")
            out("after destroy:")
            for line in check_only_data_left(stage, target):
                out(f"   {line}")
        except RehearsalFailed as err:
            out(f"rehearsal failed: {err}")
            return 1
    out("rehearsal passed: deploy, publish, smoke test and destroy all held")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m blogctl.rehearsal --stage dev`."""
    parser = argparse.ArgumentParser(prog="python -m blogctl.rehearsal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev", help="a stage of .chalice/config.json (default dev)")
    return rehearse(parser.parse_args(argv).stage)


if __name__ == "__main__":
    sys.exit(main())
