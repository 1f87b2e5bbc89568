"""Running the stage: log retention, alarms and the CDN for `make deploy`; replaying dead letters.

`make package` puts the same alarms, log groups and distribution into its one stack
(blogctl/template.py); `make deploy` runs `chalice deploy`, which makes none of them, so
this module puts them in place with idempotent calls, and the distribution in a stack of its own:

    ensure_operations   each function's log group with the stage's retention; the alarms
                        (dead-letter queue depth, API function errors), with an SNS topic and
                        an e-mail subscription when `blog_alarm_email` is set
    ensure_cdn          the CloudFront stack `<app>-<stage>-cdn`, created or updated
    remove_*            what `make destroy` takes away again (never the content)

`blogctl replay-dlq` moves the dead-letter queue's messages back to the upload queue, where
ingest reconciles each key with what the bucket holds now (replaying is always safe).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.exceptions import ClientError

from blogctl import template
from blogctl.stage import API_FUNCTION, Stage
from blogctl.target import Target
from chalicelib.cdn import DISTRIBUTION_VARIABLE

MAX_REPLAY = 1000  # messages one replay-dlq run moves, unless --max says otherwise
SQS_BATCH = 10  # SQS receives and sends at most 10 messages per call
REPLAY_VISIBILITY_SECONDS = 60  # a message being moved is hidden this long; if the move fails it comes back
STACK_WAIT = {"Delay": 15, "MaxAttempts": 240}  # a distribution takes minutes to deploy: up to an hour


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _ensure_log_group(logs: Any, name: str, days: int) -> list[str]:
    done = []
    try:
        logs.create_log_group(logGroupName=name)
        done.append(f"created log group {name}")
    except ClientError as err:
        if _code(err) != "ResourceAlreadyExistsException":
            raise
    logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    return done + [f"log group {name}: kept {days} days"]


def ensure_operations(stage: Stage, target: Target) -> list[str]:
    """Log retention on each function's group, the alarms and their topic; return what was done."""
    logs = target.client("logs")
    done: list[str] = []
    for function in stage.functions:
        done += _ensure_log_group(logs, f"/aws/lambda/{stage.function_name(function)}", stage.log_retention_days)
    topic = None
    email = stage.chalice.alarm_email
    if email:
        sns = target.client("sns")
        topic = sns.create_topic(Name=template.alarm_topic_name(stage))["TopicArn"]
        subscribed = {s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]}
        if email not in subscribed:
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=email)
            done.append(f"subscribed {email} to {template.alarm_topic_name(stage)}: confirm the e-mail AWS sends")
    cloudwatch = target.client("cloudwatch")
    for alarm in template.alarms(stage, stage.function_name(API_FUNCTION), topic).values():
        cloudwatch.put_metric_alarm(**alarm)
        done.append(f"alarm {alarm['AlarmName']}" + (f" -> {email}" if email else " (no e-mail: blog_alarm_email)"))
    return done


def remove_operations(stage: Stage, target: Target) -> list[str]:
    """Delete the alarms, their topic and the functions' log groups (after `chalice delete`)."""
    done = []
    names = [a["AlarmName"] for a in template.alarms(stage, stage.function_name(API_FUNCTION)).values()]
    target.client("cloudwatch").delete_alarms(AlarmNames=names)
    done.append(f"deleted alarms {', '.join(names)}")
    sns = target.client("sns")
    for topic in sns.list_topics().get("Topics", []):
        if topic["TopicArn"].rsplit(":", 1)[-1] == template.alarm_topic_name(stage):
            sns.delete_topic(TopicArn=topic["TopicArn"])
            done.append(f"deleted topic {template.alarm_topic_name(stage)}")
    logs = target.client("logs")
    for function in stage.functions:
        name = f"/aws/lambda/{stage.function_name(function)}"
        try:
            logs.delete_log_group(logGroupName=name)
            done.append(f"deleted log group {name}")
        except ClientError as err:
            if _code(err) != "ResourceNotFoundException":
                raise
    return done


def _stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    return stacks[0] if stacks and stacks[0]["StackStatus"] != "DELETE_COMPLETE" else None


def ensure_cdn(stage: Stage, target: Target, api_domain: str) -> dict[str, str]:
    """Create or update the stage's CDN stack in front of `api_domain`; return its outputs."""
    cloudformation, name = target.client("cloudformation"), template.cdn_stack_name(stage)
    body = json.dumps(template.cdn_stack_template(stage, api_domain))
    if _stack(cloudformation, name) is None:
        cloudformation.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
        cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=STACK_WAIT)
    else:
        try:
            cloudformation.update_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"])
            cloudformation.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=STACK_WAIT)
        except ClientError as err:
            if "No updates are to be performed" not in str(err):
                raise
    stack = _stack(cloudformation, name) or {}
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def remove_cdn(stage: Stage, target: Target) -> list[str]:
    """Delete the CDN stack, if there is one (CloudFormation disables the distribution first)."""
    cloudformation, name = target.client("cloudformation"), template.cdn_stack_name(stage)
    if _stack(cloudformation, name) is None:
        return []
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=STACK_WAIT)
    return [f"deleted stack {name} (the distribution)"]


def record_distribution(stage: Stage, distribution_id: str, domain_name: str) -> list[str]:
    """Write the distribution's id (and, if the stage has none, its URL as BLOG_SITE_URL) into config.json.

    Behind CloudFront the API sees its own host name, so the site's links must come from
    BLOG_SITE_URL. Returns what was written (nothing when config.json already says it).
    """
    config = json.loads(stage.config_file.read_text(encoding="utf-8"))
    env = config["stages"][stage.name].setdefault("environment_variables", {})
    wanted = {DISTRIBUTION_VARIABLE: distribution_id}
    if not env.get("BLOG_SITE_URL"):
        wanted["BLOG_SITE_URL"] = f"https://{domain_name}"
    changed = [f"{name}={value}" for name, value in wanted.items() if env.get(name) != value]
    if changed:
        env.update(wanted)
        stage.config_file.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return changed


def replay_dead_letters(sqs: Any, queue: str, limit: int = MAX_REPLAY) -> int:
    """Move up to `limit` messages from `<queue>-dlq` back to `queue`; return how many moved.

    Each batch is sent before it is deleted: a failure between the two leaves a copy in the
    dead-letter queue, never a lost upload (ingest of the same key twice changes nothing).
    """
    source = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    destination = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    moved = 0
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=min(SQS_BATCH, limit - moved),
                                       VisibilityTimeout=REPLAY_VISIBILITY_SECONDS).get("Messages", [])
        if not messages:
            break
        sent = sqs.send_message_batch(QueueUrl=destination, Entries=[
            {"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)])
        ids = {entry["Id"] for entry in sent.get("Successful", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ids]
        if done:
            sqs.delete_message_batch(QueueUrl=source, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            raise RuntimeError(f"{len(messages) - len(done)} message(s) could not be sent back; "
                               f"they stay in {queue}-dlq: {sent.get('Failed')}")
    return moved


def cmd_replay_dlq(args: argparse.Namespace) -> int:
    """`blogctl replay-dlq`: send dead letters back to the upload queue for ingest to retry."""
    from blogctl.cli import connect
    from chalicelib import aws, config

    connect(args)
    sqs, queue = aws.client("sqs"), config.get_settings().queue
    dlq = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    waiting = int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
                  ["Attributes"]["ApproximateNumberOfMessages"])
    if args.dry_run:
        print(f"{queue}-dlq holds about {waiting} message(s); without --dry-run they go back to {queue}")
        return 0
    try:
        moved = replay_dead_letters(sqs, queue, args.max or MAX_REPLAY)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"moved {moved} message(s) from {queue}-dlq to {queue}; `blogctl status` shows what ingest made of them")
    return 0
