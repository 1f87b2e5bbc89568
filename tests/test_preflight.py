"""The preflight of `make deploy` and `make destroy`: each failure is one line saying what to do."""
from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from blogctl import deploy, preflight
from blogctl.target import Target

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def failures(stage, target=None, environ=None, checks=preflight.DEPLOY_CHECKS) -> list[str]:
    findings = preflight.run_checks(stage, target or Target(stage.region), environ or {}, checks)
    return [f.line for f in findings if not f.ok]


def test_a_clean_stage_passes(aws_mock, project):
    assert failures(project("dev")) == []


def test_a_production_stage_with_its_site_url_passes(aws_mock, project):
    assert failures(project("prod", {"BLOG_SITE_URL": "https://d111111abcdef8.cloudfront.net"})) == []


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"])
def test_a_local_endpoint_variable_fails(aws_mock, project, variable):
    [line] = failures(project("dev"), environ={variable: "http://127.0.0.1:4566"})
    assert line.startswith(f"{variable} is set") and f"unset {variable}" in line


def test_a_local_target_may_have_an_endpoint(aws_mock, project):
    target = Target("us-east-1", "http://127.0.0.1:4566")
    findings = preflight.check_endpoint(preflight.Context(project("dev"), target, {}))
    assert findings[0].ok and "rehearsal" in findings[0].line


def test_a_remote_endpoint_is_never_a_target():
    with pytest.raises(ValueError, match="only loopback"):
        Target("us-east-1", "https://s3.example.com")


def test_another_region_in_the_environment_fails(aws_mock, project):
    [line] = failures(project("dev"), environ={"AWS_DEFAULT_REGION": "eu-west-1"})
    assert "AWS_DEFAULT_REGION=eu-west-1 but stage dev lives in us-east-1 (BLOG_REGION" in line


def record_deploy(project, arn: str) -> None:
    (project.folder / "deployed").mkdir(exist_ok=True)
    (project.folder / "deployed" / "dev.json").write_text(json.dumps(
        {"resources": [{"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": arn}]}))


def test_a_stage_deployed_to_another_region_fails(aws_mock, project):
    stage = project("dev")
    record_deploy(project, "arn:aws:lambda:eu-west-1:123456789012:function:serverless-blog-dev")
    [line] = failures(stage)
    assert "was deployed to eu-west-1" in line and "BLOG_REGION says us-east-1" in line


def test_a_stage_deployed_from_another_account_fails(aws_mock, project):
    stage = project("dev")
    record_deploy(project, "arn:aws:lambda:us-east-1:999999999999:function:serverless-blog-dev")
    [line] = failures(stage)
    assert "deployed to account 999999999999 but these credentials are for 123456789012" in line


def test_no_credentials_fails(aws_mock, project, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    [line] = failures(project("dev"))
    assert line.startswith("no AWS credentials") and "AWS_PROFILE" in line


class Refusing(Target):
    """AWS refusing expired credentials (moto accepts any)."""

    def client(self, service, region=None):
        client = super().client(service, region)
        if service == "sts":
            def expired(**_):
                raise ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")
            client.get_caller_identity = expired
        return client


def test_refused_credentials_fail(aws_mock, project):
    [line] = failures(project("dev"), Refusing("us-east-1"))
    assert line == "AWS refused the credentials (ExpiredToken): log in again (`aws sso login`) or check AWS_PROFILE"


class OthersBucket(Target):
    """S3 as it answers for a bucket name another account owns (moto does not model owners)."""

    def client(self, service, region=None):
        client = super().client(service, region)
        if service == "s3":
            def forbidden(**_):
                raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"},
                                   "ResponseMetadata": {"HTTPStatusCode": 403}}, "HeadBucket")
            client.head_bucket = forbidden
        return client


def test_a_bucket_name_taken_by_another_account_fails(aws_mock, project):
    [line] = failures(project("dev"), OthersBucket("us-east-1"))
    assert "belongs to another AWS account" in line and "choose another BLOG_BUCKET for stage dev" in line


def test_our_bucket_passes_and_a_free_name_passes(aws_mock, project):
    stage = project("dev")
    ctx = preflight.Context(stage, Target(stage.region), {}, account="123456789012")
    assert "the name is free" in preflight.check_bucket(ctx)[0].line
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=stage.bucket)
    assert preflight.check_bucket(ctx)[0].line == f"bucket {stage.bucket}: ours, in us-east-1"


def test_our_bucket_in_another_region_fails(aws_mock, project):
    stage = project("dev")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=stage.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    [line] = failures(stage)
    assert f"bucket {stage.bucket} is ours but in eu-west-1" in line


def test_a_production_stage_without_a_site_url_fails(aws_mock, project):
    [line] = failures(project("prod"))
    assert line.startswith("stage prod is production: set BLOG_SITE_URL in .chalice/config.json")


def test_a_production_site_url_must_be_https(aws_mock, project):
    [line] = failures(project("prod", {"BLOG_SITE_URL": "http://d111111abcdef8.cloudfront.net"}))
    assert "must start with https://" in line


def test_a_custom_domain_needs_a_certificate(aws_mock, project):
    [line] = failures(project("prod", {"BLOG_SITE_URL": "https://blog.example.com"}))
    assert "BLOG_SITE_URL is on blog.example.com: set blog_certificate_arn of stage prod" in line


def test_the_certificate_must_be_in_us_east_1(aws_mock, project):
    arn = CERTIFICATE.replace("us-east-1", "eu-west-1")
    [line] = failures(project("prod", {"BLOG_SITE_URL": "https://blog.example.com"}, blog_certificate_arn=arn))
    assert "CloudFront only uses certificates from there" in line


def test_a_certificate_waiting_for_validation_fails(aws_mock, project):
    arn = boto3.client("acm", region_name="us-east-1").request_certificate(
        DomainName="blog.example.com", ValidationMethod="DNS")["CertificateArn"]
    [line] = failures(project("prod", {"BLOG_SITE_URL": "https://blog.example.com"}, blog_certificate_arn=arn))
    assert line == "certificate for blog.example.com is PENDING_VALIDATION: finish its DNS validation first"


def issued_certificate(domain: str) -> str:
    """An issued certificate for `domain` in moto's ACM (an imported one is issued at once)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(key, hashes.SHA256()))
    return boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))["CertificateArn"]


def test_an_issued_certificate_for_the_domain_passes(aws_mock, project):
    arn = issued_certificate("blog.example.com")
    assert failures(project("prod", {"BLOG_SITE_URL": "https://blog.example.com"}, blog_certificate_arn=arn)) == []


def test_a_certificate_for_another_domain_fails(aws_mock, project):
    arn = issued_certificate("shop.example.org")
    [line] = failures(project("prod", {"BLOG_SITE_URL": "https://blog.example.com"}, blog_certificate_arn=arn))
    assert "is for shop.example.org, not blog.example.com" in line


def test_a_retention_cloudwatch_refuses_fails(aws_mock, project):
    [line] = failures(project("dev", blog_log_retention_days=45))
    assert line.startswith("log_retention_in_days 45 is not a value CloudWatch accepts")


def test_chalices_own_log_retention_is_refused(aws_mock, project):
    [line] = failures(project("dev", log_retention_in_days=30))
    assert line.startswith("use blog_log_retention_days, not Chalice's log_retention_in_days")


def test_destroy_checks_only_who_and_where(aws_mock, project):
    stage = project("prod")  # no site URL: deploy would refuse, destroy need not
    assert failures(stage, checks=preflight.DESTROY_CHECKS) == []


def test_every_failure_is_one_line_and_the_run_stops(aws_mock, project, capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    stage = project("prod")
    ran = []
    monkeypatch.setattr(deploy, "run_command", lambda *a, **k: ran.append(a) or 0)
    assert deploy.deploy(stage, Target(stage.region)) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("preflight failed: ")]
    assert len(failed) == 2  # the region, the site URL
    assert "set up" not in out and ran == []
    assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"] == []
