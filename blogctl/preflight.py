"""What `make deploy` (dry run or not) and `make destroy` check before they change anything.

Each check reads only; each failure is one line that says what to do. The checks, in order:
no stray local endpoint, one region (the stage's BLOG_REGION), credentials and the account
(`sts get-caller-identity`, and the account and region of an earlier deploy of the stage),
the bucket name (free, or already ours, in the stage's region), the site URL of a production
stage, the CDN's certificate for a custom domain, a log retention CloudWatch accepts.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from blogctl.stage import Stage
from blogctl.target import ENDPOINT_VARIABLE, REGION_VARIABLES, Target
from blogctl.template import RETENTION_DAYS

CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"  # CloudFront only uses ACM certificates from there


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what holds, or what to do."""

    ok: bool
    line: str


@dataclass
class Context:
    """What the checks share: the stage, where it goes, the environment, the account once known."""

    stage: Stage
    target: Target
    environ: Mapping[str, str]
    account: str | None = None


Check = Callable[[Context], list[Finding]]


def ok(line: str) -> list[Finding]:
    return [Finding(True, line)]


def fail(line: str) -> list[Finding]:
    return [Finding(False, line)]


def deployed_record(stage: Stage) -> dict[str, Any]:
    """Chalice's record of the stage's last deploy (empty when it was never deployed from here)."""
    path = Path(stage.config_file).parent / "deployed" / f"{stage.name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def deployed_where(stage: Stage) -> tuple[str, str] | None:
    """(region, account) of the stage's last deploy, from the ARNs Chalice recorded."""
    for resource in deployed_record(stage).get("resources", []):
        arn = resource.get("lambda_arn", "")
        if arn.startswith("arn:aws:lambda:"):
            parts = arn.split(":")
            return parts[3], parts[4]
    return None


def check_endpoint(ctx: Context) -> list[Finding]:
    if ctx.target.local:
        return ok(f"target: {ctx.target.where} (a rehearsal)")
    stray = sorted(k for k in ctx.environ if k.startswith(ENDPOINT_VARIABLE))
    if stray:
        return fail(f"{stray[0]} is set (a local stack's endpoint): `unset {' '.join(stray)}` to deploy to AWS")
    return ok("no local endpoint variable")


def check_region(ctx: Context) -> list[Finding]:
    stage, region = ctx.stage, ctx.stage.region
    problems = [] if ctx.target.local else [
        f"{name}={ctx.environ[name]} but stage {stage.name} lives in {region} (BLOG_REGION in "
        f".chalice/config.json): unset {name}, or change BLOG_REGION"
        for name in REGION_VARIABLES if ctx.environ.get(name) and ctx.environ[name] != region]
    earlier = deployed_where(stage)
    if earlier and earlier[0] != region:
        problems.append(f"stage {stage.name} was deployed to {earlier[0]} (.chalice/deployed/{stage.name}.json) but "
                        f"BLOG_REGION says {region}: `make destroy` it there first, or set BLOG_REGION back")
    return [Finding(False, p) for p in problems] or ok(f"region: {region} (BLOG_REGION)")


def check_credentials(ctx: Context) -> list[Finding]:
    try:
        identity = ctx.target.client("sts").get_caller_identity()
    except NoCredentialsError:
        return fail("no AWS credentials: `aws configure sso` and `export AWS_PROFILE=…`, "
                    "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        return fail(f"AWS refused the credentials ({code}): log in again (`aws sso login`) or check AWS_PROFILE")
    except BotoCoreError as err:
        return fail(f"cannot reach AWS STS in {ctx.stage.region} ({err}): check the network and the region")
    ctx.account = identity["Account"]
    earlier = deployed_where(ctx.stage)
    if earlier and earlier[1] != ctx.account:
        return fail(f"stage {ctx.stage.name} was deployed to account {earlier[1]} but these credentials are "
                    f"for {ctx.account}: use that account's profile (AWS_PROFILE)")
    return ok(f"account {ctx.account} as {identity['Arn']}")


def check_bucket(ctx: Context) -> list[Finding]:
    if ctx.account is None:
        return []  # no credentials: already reported
    bucket, region = ctx.stage.bucket, ctx.stage.region
    try:
        response = ctx.target.client("s3").head_bucket(Bucket=bucket, ExpectedBucketOwner=ctx.account)
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = err.response.get("Error", {}).get("Code")
        if status == 404 or code in ("404", "NoSuchBucket", "NotFound"):
            return ok(f"bucket {bucket}: the name is free")
        if status == 403 or code in ("403", "AccessDenied", "Forbidden"):
            return fail(f"bucket {bucket} belongs to another AWS account (bucket names are global): "
                        f"choose another BLOG_BUCKET for stage {ctx.stage.name} in .chalice/config.json")
        raise
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    where = response.get("BucketRegion") or headers.get("x-amz-bucket-region") or region
    if where != region:
        return fail(f"bucket {bucket} is ours but in {where}, and stage {ctx.stage.name} lives in {region}: "
                    "set BLOG_REGION to it, or choose another BLOG_BUCKET")
    return ok(f"bucket {bucket}: ours, in {region}")


def check_site_url(ctx: Context) -> list[Finding]:
    stage = ctx.stage
    if not stage.chalice.production:
        return ok(f"site URL: {stage.site_url or 'none (not a production stage)'}")
    if not stage.site_url:
        return fail(f"stage {stage.name} is production: set BLOG_SITE_URL in .chalice/config.json to the blog's "
                    "public https:// URL (canonical links, feeds and the sitemap are built from it)")
    if not stage.site_url.startswith("https://"):
        return fail(f"BLOG_SITE_URL of stage {stage.name} must start with https:// (it is {stage.site_url})")
    return ok(f"site URL: {stage.site_url}")


def check_certificate(ctx: Context) -> list[Finding]:
    stage = ctx.stage
    if not (stage.chalice.cdn and stage.domain):
        return []
    arn = stage.chalice.certificate_arn
    if not arn:
        return fail(f"BLOG_SITE_URL is on {stage.domain}: set blog_certificate_arn of stage {stage.name} to an ACM "
                    f"certificate for it in {CLOUDFRONT_CERTIFICATE_REGION} (request one in ACM there)")
    if arn.split(":")[3:4] != [CLOUDFRONT_CERTIFICATE_REGION]:
        return fail(f"blog_certificate_arn is not in {CLOUDFRONT_CERTIFICATE_REGION}: CloudFront only uses "
                    f"certificates from there; request one for {stage.domain} in {CLOUDFRONT_CERTIFICATE_REGION}")
    if ctx.account is None:
        return []
    try:
        described = ctx.target.client("acm", CLOUDFRONT_CERTIFICATE_REGION).describe_certificate(
            CertificateArn=arn)["Certificate"]
    except ClientError as err:
        return fail(f"blog_certificate_arn cannot be read ({err.response.get('Error', {}).get('Code')}): "
                    "check the ARN and that it is in this account")
    names = {described.get("DomainName", ""), *described.get("SubjectAlternativeNames", [])}
    parent = "*." + stage.domain.split(".", 1)[-1]
    if stage.domain not in names and parent not in names:
        return fail(f"certificate {arn} is for {', '.join(sorted(names))}, not {stage.domain}: "
                    "request one for the blog's domain")
    if described.get("Status") != "ISSUED":
        return fail(f"certificate for {stage.domain} is {described.get('Status')}: finish its DNS validation first")
    return ok(f"certificate for {stage.domain}: issued")


def check_log_retention(ctx: Context) -> list[Finding]:
    if any(ctx.stage.function_setting(f, "log_retention_in_days") for f in ctx.stage.functions):
        return fail("use blog_log_retention_days, not Chalice's log_retention_in_days, in .chalice/config.json "
                    "(Chalice 1.34 gives the API function's logs a group of the wrong name)")
    days = ctx.stage.log_retention_days
    if days not in RETENTION_DAYS:
        return fail(f"log_retention_in_days {days} is not a value CloudWatch accepts "
                    f"({', '.join(map(str, RETENTION_DAYS[:10]))}, …): pick one of them")
    return ok(f"logs kept {days} days")


DEPLOY_CHECKS: list[Check] = [check_endpoint, check_region, check_credentials, check_bucket, check_site_url,
                              check_certificate, check_log_retention]
DESTROY_CHECKS: list[Check] = [check_endpoint, check_region, check_credentials]


def run_checks(stage: Stage, target: Target, environ: Mapping[str, str],
               checks: list[Check] = DEPLOY_CHECKS) -> list[Finding]:
    """Every check's findings, in order."""
    ctx = Context(stage, target, environ)
    return [finding for check in checks for finding in check(ctx)]
