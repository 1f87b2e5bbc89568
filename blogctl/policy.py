"""Least privilege, per function: `.chalice/policy-<stage>-<function>.json`.

Each of the stage's three functions has its own role (`lambda_functions.<function>.iam_policy_file`
in the stage's config, with `autogen_policy: false`), and its policy grants what that
function's code calls and nothing else, on the stage's own bucket prefixes, table, indexes,
queue and log group. The API function, which answers readers, only reads.
tests/test_policy.py records every call each function makes and holds each committed file
to it both ways (a call the file denies fails, a grant no call needs fails).

The files are generated from `.chalice/config.json`, so that renaming a bucket in the config
renames it in the policies: `python -m blogctl policy`, and `make deploy` / `make package`
rewrite a stale file before Chalice reads it.

To let a function make a new call (say BatchGetItem on the read path, or ssm:GetParameter for
a preview secret): add the action to its entry in GRANTS, naming the resource from `resources`
(add the ARN there if it is new, e.g. `arn:aws:ssm:<region>:*:parameter/<app>/<stage>/…`), run `python -m blogctl policy` and commit the files;
tests/test_policy.py fails until the workload in it makes that call.
The CloudFront invalidation permission is not here: it names the distribution, which the CDN
template creates, so the template grants it (blogctl/edge.py).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from blogctl.resources import Names
from blogctl.stage import CONFIG_FILE, Stage, load_stage
from chalicelib.images import ASSETS_PREFIX
from chalicelib.model import SITE_FILES_PREFIX
from chalicelib.posts import POSTS_PREFIX
from chalicelib.model import LISTING_INDEX, SEARCH_INDEX, SOURCE_INDEX
from chalicelib.store import SITE_PREFIX

ASSETS_PREFIX = "assets/"

API, INGEST, REBUILD = "api_handler", "ingest_uploads", "rebuild_index"
INVALIDATING_FUNCTIONS = (INGEST, REBUILD)  # they change what URLs serve; the API function never does


def resources(names: Names, function_name: str) -> dict[str, str]:
    """The ARNs a grant may name, for a stage's resources and one function's log group."""
    # The account is a wildcard so one file serves any account; the names are the stage's own.
    bucket = f"arn:aws:s3:::{names.bucket}"
    table = f"arn:aws:dynamodb:{names.region}:*:table/{names.table}"
    log_group = f"arn:aws:logs:{names.region}:*:log-group:/aws/lambda/{function_name}"
    return {
        "table": table,
        "listing index": f"{table}/index/{LISTING_INDEX}",
        "source index": f"{table}/index/{SOURCE_INDEX}",
        "search queue index": f"{table}/index/{SEARCH_INDEX}",
        "bucket": bucket,
        "posts": f"{bucket}/{POSTS_PREFIX}*",
        "assets": f"{bucket}/{ASSETS_PREFIX}*",
        "site artifacts": f"{bucket}/{SITE_PREFIX}*",
        "site files": f"{bucket}/{SITE_FILES_PREFIX}*",
        "upload queue": f"arn:aws:sqs:{names.region}:*:{names.queue}",
        "preview secret": f"arn:aws:ssm:{names.region}:*:parameter/{names.preview_parameter.lstrip('/')}",
        "log group": log_group,
        "log group (any form)": f"{log_group}:*",
    }


# Without ListBucket, S3 answers a GET of a missing key (a deleted post, a mistyped asset) with
# 403 instead of 404, which the code cannot tell from a real error: every function that reads
# objects by key gets it, without an s3:prefix condition (tests/iam.py counts it as needed).
# Lambda's runtime creates the function's log group on first use (the request names the group
# with or without ":*") and writes streams into it.
LOGS = [
    ("CreateLogGroup", ["logs:CreateLogGroup"], ["log group", "log group (any form)"]),
    ("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], ["log group (any form)"]),
]

# Per function: (Sid, actions, resources named by `resources`).
GRANTS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    # Readers' pages: index items and listings, a post's last good version (by its VersionId),
    # files (assets, read by readers' browsers through URLs this role signs; a bundle's files beside
    # its source; an imported site's files under files/), the search index; previews: the preview
    # secret. Nothing else: no writes, no queue.
    API: [
        ("ReadIndex", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"], ["table"]),
        ("ReadListings", ["dynamodb:Query"], ["listing index", "search queue index"]),
        ("ReadPostVersions", ["s3:GetObjectVersion"], ["posts"]),
        ("ReadFilesAndSearchIndex", ["s3:GetObject"], ["assets", "posts", "site files", "site artifacts"]),
        ("ListBucket", ["s3:ListBucket"], ["bucket"]),
        # The secret that signs preview links (a SecureString under the AWS managed key aws/ssm,
        # whose key policy lets the account's principals decrypt through SSM: no kms grant needed).
        ("ReadPreviewSecret", ["ssm:GetParameter"], ["preview secret"]),
        *LOGS,
    ],
    # One key at a time: read it from S3 (an image: its first bytes, for its size), write its index entries (TransactWriteItems is
    # authorized as the PutItem/DeleteItem it contains); Lambda's queue trigger polls and
    # deletes the upload queue's messages with this role.
    INGEST: [
        ("IndexEntries", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                          "dynamodb:DeleteItem"], ["table"]),
        ("FindPostsBySource", ["dynamodb:Query"], ["source index"]),
        ("ReadPostsAndImages", ["s3:GetObject"], ["posts", "assets"]),
        ("ListBucket", ["s3:ListBucket"], ["bucket"]),
        ("ConsumeUploadQueue", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
         ["upload queue"]),
        *LOGS,
    ],
    # The whole bucket against the whole index: scan, repair (conditional transactions; images'
    # first bytes, for their sizes), publish what is due, write the search index.
    REBUILD: [
        ("ReconcileIndex", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                            "dynamodb:UpdateItem", "dynamodb:DeleteItem"], ["table"]),
        ("FindPostsBySource", ["dynamodb:Query"], ["source index", "search queue index"]),
        ("ReadContent", ["s3:GetObject"], ["posts", "assets", "site artifacts"]),
        # Shards and the manifest; a merge's batch and progress live there until it finishes.
        ("WriteSearchIndex", ["s3:PutObject", "s3:DeleteObject"], ["site artifacts"]),
        ("ListBucket", ["s3:ListBucket"], ["bucket"]),
        *LOGS,
    ],
}


def policy_document(function: str, names: Names, function_name: str) -> dict[str, Any]:
    """The policy of `function` (a key of GRANTS) for resources called `names`, deployed as `function_name`."""
    if function not in GRANTS:
        raise KeyError(f"no grants for function {function!r}: add it to blogctl/policy.py's GRANTS")
    arns = resources(names, function_name)
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [arns[r] for r in named]}
                      for sid, actions, named in GRANTS[function]],
    }


def invalidation_statement(distribution_arn: Any) -> dict[str, Any]:
    """Invalidate paths of one distribution (its ARN, or a CloudFormation expression for it)."""
    return {"Sid": "InvalidateChangedPaths", "Effect": "Allow", "Action": "cloudfront:CreateInvalidation",
            "Resource": distribution_arn}


def resource_names(stage: Stage) -> Names:
    """The stage's resource names, in its region."""
    return Names(stage.bucket, stage.table, stage.queue, stage.region)


def policy_for(stage: Stage, function: str) -> dict[str, Any]:
    """The policy one of the stage's functions needs, from its config."""
    return policy_document(function, resource_names(stage), stage.function_name(function))


def policy_path(stage: Stage, function: str) -> Path:
    """Where Chalice reads the function's policy: its `iam_policy_file`, beside config.json."""
    name = stage.function_setting(function, "iam_policy_file")
    if not name:
        raise ValueError(f"stage {stage.name}: set stages.{stage.name}.lambda_functions.{function}.iam_policy_file "
                         f"in {stage.config_file.name} (e.g. policy-{stage.name}-{function}.json)")
    return stage.config_file.parent / name


def policy_text(stage: Stage, function: str) -> str:
    """The policy file's contents, formatted as committed."""
    return json.dumps(policy_for(stage, function), indent=2) + "\n"


def stale_policies(stage: Stage) -> list[Path]:
    """The stage's policy files that do not say what the config implies."""
    return [path for function in stage.functions
            if not (path := policy_path(stage, function)).exists()
            or path.read_text(encoding="utf-8") != policy_text(stage, function)]


def write_policies(stage: Stage) -> list[Path]:
    """Write each of the stage's policy files; return their paths."""
    paths = []
    for function in stage.functions:
        path = policy_path(stage, function)
        path.write_text(policy_text(stage, function), encoding="utf-8")
        paths.append(path)
    return paths


def stage_names_in(config_file: Path = CONFIG_FILE) -> list[str]:
    """Every stage the config defines."""
    return sorted(json.loads(config_file.read_text(encoding="utf-8")).get("stages", {}))


def cmd_policy(args: argparse.Namespace) -> int:
    """Write the policy files of every stage (or one, with --stage) from config.json."""
    for name in [args.stage] if args.stage else stage_names_in():
        stage = load_stage(name)
        stale = stale_policies(stage)
        for path in write_policies(stage):
            print(f".chalice/{path.name}: {'written' if path in stale else 'unchanged'}")
    return 0
