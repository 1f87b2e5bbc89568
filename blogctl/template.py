"""What a stage adds around Chalice's functions and API, as CloudFormation: CDN, alarms, log groups.

One definition, two uses:
- `make package` merges `merge_template(stage)` into Chalice's SAM template
  (`chalice package --merge-template`): one stack holds the functions, the API, the
  distribution in front of it, the alarms and the log groups;
- `make deploy` (which runs `chalice deploy`) creates or updates the same distribution in a
  stack of its own, `cdn_stack_template(stage, …)`, and puts the same alarms and log
  retention in place with API calls (blogctl/operations.py).

The CDN caches what the origin's Cache-Control says it may (a cache policy with a default TTL
of 0: a response without Cache-Control, or with no-store/private, is never cached), compresses
(gzip and Brotli), answers over HTTPS only (HTTP redirects to HTTPS; TLS 1.2 to the origin),
and maps API Gateway's 403 for an unknown path to the site's own 404 page. With BLOG_SITE_URL on
a domain of yours and `blog_certificate_arn`, it answers for that domain.
"""
from __future__ import annotations

import json
from typing import Any

from blogctl import policy
from blogctl.stage import Stage
from chalicelib.cdn import DISTRIBUTION_VARIABLE

# Logical ids Chalice gives the functions and roles in its SAM template.
FUNCTION_RESOURCES = {"api_handler": "APIHandler", "ingest_uploads": "IngestUploads",
                      "rebuild_index": "RebuildIndex"}
# Chalice names the log groups after its own resource names (ApiHandlerLogGroup for the API).
LOG_GROUP_RESOURCES = {"api_handler": "ApiHandlerLogGroup", "ingest_uploads": "IngestUploadsLogGroup",
                       "rebuild_index": "RebuildIndexLogGroup"}
INVALIDATING_FUNCTIONS = policy.INVALIDATING_FUNCTIONS
ROLE_RESOURCES = {"ingest_uploads": "IngestUploadsRole", "rebuild_index": "RebuildIndexRole"}

# AWS's managed origin request policy AllViewerExceptHostHeader: the API sees the viewer's
# headers and query string, and its own host name (API Gateway routes by it).
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ONE_YEAR = 365 * 24 * 3600
PRICE_CLASS = "PriceClass_100"  # North America and Europe: the cheapest edge locations
# API Gateway answers 403 for a path no route matches: readers get the site's 404 page there.
# The site answers this path with its 404 page (any path no route matches does).
NOT_FOUND_PAGE = "/404"
ERROR_CACHING_SECONDS = {403: 60, 404: 60, 500: 0, 502: 0, 503: 0, 504: 0}
ALARM_PERIOD_SECONDS = 300
# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                  2557, 2922, 3288, 3653)


def api_domain_of(url: str) -> str:
    """The host of Chalice's REST API URL (`https://<id>.execute-api.<region>.amazonaws.com/api/`)."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def cache_policy(stage: Stage) -> dict[str, Any]:
    """Cache by the origin's Cache-Control; the query string is part of the key; compressed variants."""
    return {
        "Type": "AWS::CloudFront::CachePolicy",
        "Properties": {"CachePolicyConfig": {
            "Name": f"{stage.app_name}-{stage.name}-origin-cache-control",
            "Comment": "Cache only what the blog's Cache-Control allows (s-maxage); never no-store",
            "DefaultTTL": 0, "MinTTL": 0, "MaxTTL": ONE_YEAR,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True,
                "EnableAcceptEncodingBrotli": True,
                "HeadersConfig": {"HeaderBehavior": "none"},
                "CookiesConfig": {"CookieBehavior": "none"},
                # Cursors, search queries, limits, preview tokens: every one is its own page.
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            },
        }},
    }


def distribution(stage: Stage, api_domain: Any) -> dict[str, Any]:
    """The CloudFront distribution in front of the API (`api_domain`: a host name or an intrinsic)."""
    config: dict[str, Any] = {
        "Enabled": True,
        "Comment": f"{stage.app_name} {stage.name}",
        "HttpVersion": "http2and3",
        "IPV6Enabled": True,
        "PriceClass": PRICE_CLASS,
        "Origins": [{
            "Id": "api",
            "DomainName": api_domain,
            "OriginPath": f"/{stage.chalice.api_gateway_stage}",
            "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]},
        }],
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": ["GET", "HEAD"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": True,
            "CachePolicyId": {"Ref": "CachePolicy"},
            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        },
        "CustomErrorResponses": [
            {"ErrorCode": code, "ErrorCachingMinTTL": seconds,
             **({"ResponseCode": 404, "ResponsePagePath": NOT_FOUND_PAGE} if code == 403 else {})}
            for code, seconds in ERROR_CACHING_SECONDS.items()],
    }
    if stage.domain:
        config["Aliases"] = [stage.domain]
        config["ViewerCertificate"] = {"AcmCertificateArn": stage.chalice.certificate_arn,
                                       "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}
    else:
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}}


def invalidation_policy(roles: list[Any]) -> dict[str, Any]:
    """Let ingest and the rebuild invalidate this distribution's paths, and no other distribution's."""
    arn = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "InvalidateTheBlogsDistribution",
            "Roles": roles,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [policy.invalidation_statement(arn)]},
        },
    }


def cdn_resources(stage: Stage, api_domain: Any, roles: list[Any]) -> dict[str, Any]:
    """The distribution, its cache policy and the invalidation permission of `roles`."""
    return {"CachePolicy": cache_policy(stage), "Distribution": distribution(stage, api_domain),
            "InvalidationPolicy": invalidation_policy(roles)}


CDN_OUTPUTS = {
    "DistributionId": {"Value": {"Ref": "Distribution"}},
    "DistributionDomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
}


def alarm_topic_name(stage: Stage) -> str:
    """The SNS topic the alarms notify."""
    return f"{stage.app_name}-{stage.name}-alarms"


def alarms(stage: Stage, api_function: Any, topic: Any = None) -> dict[str, dict[str, Any]]:
    """CloudWatch alarms by logical id, as PutMetricAlarm parameters (CloudFormation's are the same)."""
    actions = {"AlarmActions": [topic], "OKActions": [topic]} if topic else {}
    common = {"Period": ALARM_PERIOD_SECONDS, "EvaluationPeriods": 1, "Threshold": 0,
              "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching", **actions}
    return {
        "DeadLetterAlarm": {
            "AlarmName": f"{stage.app_name}-{stage.name}-dead-letters",
            "AlarmDescription": "Uploads failed ingest 5 times and wait in the dead-letter queue. "
                                "Runbook: README, Operations (blogctl replay-dlq).",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": f"{stage.queue}-dlq"}],
            "Statistic": "Maximum", **common},
        "ApiErrorsAlarm": {
            "AlarmName": f"{stage.app_name}-{stage.name}-api-errors",
            "AlarmDescription": "The API function failed (crashed, timed out, ran out of memory). "
                                "Runbook: README, Operations.",
            "Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": api_function}],
            "Statistic": "Sum", **common},
    }


def alarm_resources(stage: Stage, api_function: Any) -> dict[str, Any]:
    """The alarms (and, with an e-mail address, their SNS topic) as CloudFormation resources."""
    email = stage.chalice.alarm_email
    resources: dict[str, Any] = {}
    if email:
        resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": alarm_topic_name(stage), "Subscription": [{"Protocol": "email", "Endpoint": email}]}}
    for logical_id, alarm in alarms(stage, api_function, {"Ref": "AlarmTopic"} if email else None).items():
        resources[logical_id] = {"Type": "AWS::CloudWatch::Alarm", "Properties": alarm}
    return resources


def log_groups(stage: Stage) -> dict[str, Any]:
    """Each function's log group with the stage's retention (under the ids Chalice would give them)."""
    return {logical_id: {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": f"/aws/lambda/{stage.function_name(function)}",
        "RetentionInDays": stage.log_retention_days}} for function, logical_id in LOG_GROUP_RESOURCES.items()}


def merge_template(stage: Stage) -> dict[str, Any]:
    """What `chalice package --merge-template` adds to (and changes in) Chalice's SAM template."""
    resources: dict[str, Any] = {**log_groups(stage), **alarm_resources(stage, {"Ref": "APIHandler"})}
    for function, logical_id in FUNCTION_RESOURCES.items():
        # Named as `chalice deploy` names them: the policies' log permissions and the alarms
        # expect these names, and one account cannot hold both kinds of deployment of a stage.
        # Each waits for its log group, or its first run would create the group without retention.
        resources[logical_id] = {"DependsOn": [LOG_GROUP_RESOURCES[function]],
                                 "Properties": {"FunctionName": stage.function_name(function)}}
    outputs: dict[str, Any] = {}
    if stage.chalice.cdn:
        api = {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
        resources.update(cdn_resources(stage, api, [{"Ref": ROLE_RESOURCES[f]} for f in INVALIDATING_FUNCTIONS]))
        for function in INVALIDATING_FUNCTIONS:
            resources[FUNCTION_RESOURCES[function]]["Properties"]["Environment"] = {
                "Variables": {DISTRIBUTION_VARIABLE: {"Ref": "Distribution"}}}
        outputs = CDN_OUTPUTS
    return {"Resources": resources, "Outputs": outputs}


def cdn_stack_name(stage: Stage) -> str:
    """The stack `make deploy` keeps the distribution in."""
    return f"{stage.app_name}-{stage.name}-cdn"


def cdn_stack_template(stage: Stage, api_domain: str) -> dict[str, Any]:
    """The distribution of a `chalice deploy`-ed stage, in a stack of its own."""
    roles = [stage.role_name(function) for function in INVALIDATING_FUNCTIONS]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CloudFront in front of {stage.app_name} {stage.name} (blogctl/template.py)",
        "Resources": cdn_resources(stage, api_domain, roles),
        "Outputs": CDN_OUTPUTS,
    }


def dumps(template: dict[str, Any]) -> str:
    """A template as the JSON file written beside Chalice's."""
    return json.dumps(template, indent=2, sort_keys=False) + "\n"

