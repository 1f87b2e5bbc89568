"""The one stack `make package` makes: Chalice's template with the CDN, alarms and log groups merged in.

Runs the real `chalice package --merge-template` and cfn-lint, on the committed prod stage and
on one with a custom domain, a certificate and an alarm e-mail.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from blogctl import deploy, template
from blogctl.stage import load_stage
from blogctl.target import Target
from chalicelib.cdn import DISTRIBUTION_VARIABLE

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def package(stage, out_dir: Path) -> dict:
    """`chalice package` with our merge template, as `make package` runs it; the merged template."""
    merge = out_dir / deploy.MERGE_TEMPLATE
    deploy.write_merge_template(stage, merge)
    command = [deploy.tool("chalice"), "package", "--stage", stage.name, "--merge-template", str(merge), str(out_dir)]
    done = subprocess.run(command, cwd=deploy.project_dir(stage), env=Target(stage.region).environment(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads((out_dir / deploy.TEMPLATE).read_text())


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([deploy.tool("cfn-lint"), str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The committed prod stage, packaged: (template, its path)."""
    out = tmp_path_factory.mktemp("prod")
    return package(load_stage("prod"), out), out / deploy.TEMPLATE


@pytest.fixture(scope="module")
def with_domain(tmp_path_factory):
    """Prod on blog.example.com with a certificate and an alarm e-mail, packaged."""
    root = tmp_path_factory.mktemp("domain")
    (root / ".chalice").mkdir()
    for path in Path(deploy.PROJECT_DIR / ".chalice").glob("*.json"):
        (root / ".chalice" / path.name).write_text(path.read_text())
    for name in ("app.py", "requirements.txt"):
        (root / name).write_text((deploy.PROJECT_DIR / name).read_text())
    (root / "chalicelib").symlink_to(deploy.PROJECT_DIR / "chalicelib")
    config = json.loads((root / ".chalice" / "config.json").read_text())
    config["stages"]["prod"]["environment_variables"]["BLOG_SITE_URL"] = "https://blog.example.com"
    config["stages"]["prod"].update(blog_certificate_arn=CERTIFICATE, blog_alarm_email="ops@example.com")
    (root / ".chalice" / "config.json").write_text(json.dumps(config))
    out = root / "build"
    return package(load_stage("prod", root / ".chalice" / "config.json"), out), out / deploy.TEMPLATE


def resources(packaged, kind: str) -> dict:
    return {name: r for name, r in packaged[0]["Resources"].items() if r["Type"] == kind}


def distribution_config(packaged) -> dict:
    return packaged[0]["Resources"]["Distribution"]["Properties"]["DistributionConfig"]


def test_the_merged_templates_are_cfn_lint_clean(committed, with_domain):
    for _, path in (committed, with_domain):
        result = lint(path)
        assert result.returncode == 0, result.stdout


def test_the_cdn_stack_of_make_deploy_is_cfn_lint_clean(tmp_path):
    path = tmp_path / "cdn.json"
    path.write_text(template.dumps(template.cdn_stack_template(load_stage("prod"), "abc.execute-api.us-east-1.amazonaws.com")))
    result = lint(path)
    assert result.returncode == 0, result.stdout


def test_one_stack_holds_functions_api_and_distribution(committed):
    kinds = {r["Type"] for r in committed[0]["Resources"].values()}
    assert {"AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::CloudFront::Distribution",
            "AWS::CloudWatch::Alarm", "AWS::Logs::LogGroup"} <= kinds
    assert set(committed[0]["Outputs"]) >= {"EndpointURL", "DistributionId", "DistributionDomainName"}


def test_the_distribution_fronts_the_api_over_https(committed):
    config = distribution_config(committed)
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["OriginPath"] == "/api"  # the API Gateway stage
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["Compress"] is True
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]


def test_caching_follows_the_origins_cache_control(committed):
    policy = committed[0]["Resources"]["CachePolicy"]["Properties"]["CachePolicyConfig"]
    # Nothing is cached unless Cache-Control allows it: no-store previews and errors never are.
    assert policy["DefaultTTL"] == 0 and policy["MinTTL"] == 0
    keys = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keys["EnableAcceptEncodingGzip"] and keys["EnableAcceptEncodingBrotli"]
    assert keys["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert distribution_config(committed)["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": "CachePolicy"}


def test_errors_map_to_the_sites_pages_and_server_errors_are_not_cached(committed):
    responses = {r["ErrorCode"]: r for r in distribution_config(committed)["CustomErrorResponses"]}
    assert responses[403]["ResponseCode"] == 404 and responses[403]["ResponsePagePath"] == template.NOT_FOUND_PAGE
    assert "ResponsePagePath" not in responses[404]  # the site's own 404 page passes through
    assert all(responses[code]["ErrorCachingMinTTL"] == 0 for code in (500, 502, 503, 504))


def test_without_a_domain_cloudfront_answers_on_its_own_name(committed):
    config = distribution_config(committed)
    assert "Aliases" not in config and config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}


def test_a_custom_domain_gets_its_certificate(with_domain):
    config = distribution_config(with_domain)
    assert config["Aliases"] == ["blog.example.com"]
    assert config["ViewerCertificate"]["AcmCertificateArn"] == CERTIFICATE
    assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"


def test_only_ingest_and_rebuild_may_invalidate_and_only_this_distribution(committed):
    policy = committed[0]["Resources"]["InvalidationPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "IngestUploadsRole"}, {"Ref": "RebuildIndexRole"}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "cloudfront:CreateInvalidation"
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}


def test_ingest_and_rebuild_know_the_distribution(committed):
    functions = committed[0]["Resources"]
    for name in ("IngestUploads", "RebuildIndex"):
        assert functions[name]["Properties"]["Environment"]["Variables"][DISTRIBUTION_VARIABLE] == {"Ref": "Distribution"}
    assert DISTRIBUTION_VARIABLE not in functions["APIHandler"]["Properties"]["Environment"]["Variables"]


def test_functions_are_named_as_chalice_deploy_names_them(committed):
    stage = load_stage("prod")
    functions = committed[0]["Resources"]
    for function, logical_id in template.FUNCTION_RESOURCES.items():
        assert functions[logical_id]["Properties"]["FunctionName"] == stage.function_name(function)


def test_each_function_has_a_log_group_with_the_stages_retention(committed):
    stage, functions = load_stage("prod"), committed[0]["Resources"]
    groups = resources(committed, "AWS::Logs::LogGroup")
    assert {g["Properties"]["LogGroupName"] for g in groups.values()} == {
        f"/aws/lambda/{stage.function_name(f)}" for f in stage.functions}
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}
    for function, logical_id in template.FUNCTION_RESOURCES.items():
        assert functions[logical_id]["DependsOn"] == [template.LOG_GROUP_RESOURCES[function]]


def test_alarms_watch_the_dead_letter_queue_and_the_api_function(committed):
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(committed, "AWS::CloudWatch::Alarm").values()}
    dlq = alarms["serverless-blog-prod-dead-letters"]
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "serverless-blog-prod-uploads-dlq"}]
    assert (dlq["MetricName"], dlq["ComparisonOperator"], dlq["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)
    errors = alarms["serverless-blog-prod-api-errors"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]
    assert "AlarmActions" not in errors  # no e-mail configured


def test_an_alarm_email_gets_a_topic_and_the_alarms_notify_it(with_domain):
    topic = with_domain[0]["Resources"]["AlarmTopic"]["Properties"]
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": "ops@example.com"}]
    for alarm in resources(with_domain, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_stage_without_cdn_packages_without_one():
    stage = load_stage("dev")
    merged = template.merge_template(stage)
    assert "Distribution" not in merged["Resources"] and merged["Outputs"] == {}
