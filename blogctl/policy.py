"""The least-privilege IAM policy of a stage's Lambda functions: `.chalice/policy-<stage>.json`.

With `autogen_policy: false` Chalice gives each function a role with this file as its
policy. It grants what the deployed code calls and nothing else, on the stage's own
bucket prefixes, table, indexes, queue and log groups (tests/test_policy.py records
every call the code makes and holds the committed files to it, both ways).

The files are generated from `.chalice/config.json` so that renaming a bucket in the
config renames it in the policy: `python -m blogctl policy`, and `make deploy` /
`make package` rewrite a stale file before Chalice reads it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from blogctl.resources import Names
from blogctl.stage import CONFIG_FILE, Stage, load_stage
from chalicelib.posts import POSTS_PREFIX
from chalicelib.store import LISTING_INDEX, SEARCH_ARTIFACT_KEY, SEARCH_INDEX, SOURCE_INDEX

ASSETS_PREFIX = "assets/"
SITE_PREFIX = SEARCH_ARTIFACT_KEY.split("/", 1)[0] + "/"


def function_prefix(stage: Stage) -> str:
    """What Chalice names the stage's functions: `<app>-<stage>` (the API) and `<app>-<stage>-<name>`."""
    return f"{stage.config['app_name']}-{stage.name}"


def policy_document(names: Names, functions: str) -> dict[str, Any]:
    """The policy for resources called `names` and Lambda functions named `functions`[-…]."""
    # The account is a wildcard so one file serves any account; the names are the stage's own.
    bucket = f"arn:aws:s3:::{names.bucket}"
    table = f"arn:aws:dynamodb:{names.region}:*:table/{names.table}"
    logs = f"arn:aws:logs:{names.region}:*:log-group:/aws/lambda/{functions}"
    statements = [
        # Site reads, ingest's lookups and writes (TransactWriteItems is authorized as the
        # PutItem/UpdateItem/DeleteItem it contains). Nothing scans the table.
        ("IndexTable", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                        "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
         [table]),
        ("IndexQueries", ["dynamodb:Query"],
         [f"{table}/index/{LISTING_INDEX}", f"{table}/index/{SOURCE_INDEX}", f"{table}/index/{SEARCH_INDEX}"]),
        ("ReadContent", ["s3:GetObject"],
         [f"{bucket}/{POSTS_PREFIX}*", f"{bucket}/{ASSETS_PREFIX}*", f"{bucket}/{SITE_PREFIX}*"]),
        # Pages are rendered from the last good version of a post, fetched by its VersionId.
        ("ReadPostVersions", ["s3:GetObjectVersion"], [f"{bucket}/{POSTS_PREFIX}*"]),
        ("WriteSiteArtifacts", ["s3:PutObject"], [f"{bucket}/{SITE_PREFIX}*"]),
        # The rebuild lists posts/; and without ListBucket, S3 answers a GET of a missing key
        # (a deleted post, a mistyped asset) with 403 instead of 404, which the code cannot
        # tell from a real error. So no s3:prefix condition here.
        ("ListBucket", ["s3:ListBucket"], [bucket]),
        # Lambda's SQS event source polls the queue with the function's role.
        ("ConsumeUploadQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
         [f"arn:aws:sqs:{names.region}:*:{names.queue}"]),
        # The runtime creates each function's log group on first use: `<prefix>` is the API
        # function, `<prefix>-…` the others. CreateLogGroup is requested on the group's ARN
        # with or without a ":*" suffix, so both forms are granted.
        ("CreateLogGroups", ["logs:CreateLogGroup"], [logs, f"{logs}:*", f"{logs}-*"]),
        ("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{logs}:*", f"{logs}-*"]),
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
                      for sid, actions, resources in statements],
    }


def resource_names(stage: Stage) -> Names:
    """The stage's resource names, in its region."""
    return Names(stage.bucket, stage.table, stage.queue, stage.region)


def policy_for(stage: Stage) -> dict[str, Any]:
    """The policy a stage's functions need, from its config."""
    return policy_document(resource_names(stage), function_prefix(stage))


def policy_path(stage: Stage, config_file: Path = CONFIG_FILE) -> Path:
    """Where Chalice reads the stage's policy."""
    return config_file.parent / f"policy-{stage.name}.json"


def policy_text(stage: Stage) -> str:
    """The policy file's contents, formatted as committed."""
    return json.dumps(policy_for(stage), indent=2) + "\n"


def is_current(stage: Stage, config_file: Path = CONFIG_FILE) -> bool:
    """Does the policy file say what the config implies?"""
    path = policy_path(stage, config_file)
    return path.exists() and path.read_text(encoding="utf-8") == policy_text(stage)


def write_policy(stage: Stage, config_file: Path = CONFIG_FILE) -> Path:
    """Write the stage's policy file; return its path."""
    path = policy_path(stage, config_file)
    path.write_text(policy_text(stage), encoding="utf-8")
    return path


def stage_names_in(config_file: Path = CONFIG_FILE) -> list[str]:
    """Every stage the config defines."""
    return sorted(json.loads(config_file.read_text(encoding="utf-8")).get("stages", {}))


def cmd_policy(args: argparse.Namespace) -> int:
    """Write the policy file of every stage (or one, with --stage) from config.json."""
    for name in [args.stage] if args.stage else stage_names_in():
        stage = load_stage(name)
        state = "unchanged" if is_current(stage) else "written"
        path = write_policy(stage)
        print(f"{path.relative_to(CONFIG_FILE.parent.parent)}: {state}")
    return 0
