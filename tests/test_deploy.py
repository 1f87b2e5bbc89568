"""`make deploy / destroy / package`: the steps, their order, and dry runs that call nothing.

Setup runs against moto; Chalice and cfn-lint are replaced by a recorder, so no test
runs a real `chalice deploy`.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import botocore.client
import pytest

from blogctl import deploy, policy
from blogctl.cli import main
from blogctl.resources import NOTIFICATION_ID, plan
from blogctl.stage import CONFIG_FILE, load_stage
from chalicelib import aws

PROD = load_stage("prod")


class Commands:
    """Stands in for the tools deploy runs; records what it was asked to run."""

    def __init__(self, status: int = 0, on_run=None) -> None:
        self.runs: list[tuple[list[str], dict[str, str]]] = []
        self.status = status
        self.on_run = on_run

    def __call__(self, command: list[str], env: dict[str, str]) -> int:
        self.runs.append((command, env))
        if self.on_run:
            self.on_run(command)
        return self.status

    @property
    def commands(self) -> list[list[str]]:
        """Each command without the tool's folder: ['chalice', 'deploy', …]."""
        return [[Path(command[0]).name, *command[1:]] for command, _ in self.runs]


@pytest.fixture
def commands(monkeypatch) -> Commands:
    recorder = Commands()
    monkeypatch.setattr(deploy, "run_command", recorder)
    return recorder


@pytest.fixture
def no_aws(monkeypatch) -> None:
    """Any AWS call fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("an AWS call was made")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)


@pytest.mark.parametrize("command, tool_line", [
    ("deploy", "chalice deploy --stage prod"),
    ("destroy", "chalice delete --stage prod"),
    ("package", "chalice package --stage prod"),
])
def test_dry_runs_print_every_step_and_call_nothing(command, tool_line, commands, no_aws, capsys):
    assert main([command, "--stage", "prod", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert f"AWS_DEFAULT_REGION={PROD.region} " in out and tool_line in out
    assert commands.runs == []


def test_deploy_dry_run_shows_the_whole_setup(commands, no_aws, capsys):
    main(["deploy", "--stage", "prod", "--dry-run"])
    out = capsys.readouterr().out
    names = policy.resource_names(PROD)
    for line in plan(names, PROD.function_setting("ingest_uploads", "lambda_timeout", 60)):
        assert line in out
    assert out.index("set up") < out.index("chalice deploy")


def test_deploy_sets_up_the_stage_then_runs_chalice(aws_mock, monkeypatch, capsys):
    s3, sqs = aws.client("s3"), aws.client("sqs")

    def resources_exist_already(command):
        assert s3.get_bucket_versioning(Bucket=PROD.bucket)["Status"] == "Enabled"
        assert sqs.get_queue_url(QueueName=PROD.queue)["QueueUrl"]

    commands = Commands(on_run=resources_exist_already)
    monkeypatch.setattr(deploy, "run_command", commands)
    assert main(["deploy", "--stage", "prod"]) == 0
    assert commands.commands == [["chalice", "deploy", "--stage", "prod"]]
    assert commands.runs[0][1]["AWS_DEFAULT_REGION"] == PROD.region
    assert f"created bucket {PROD.bucket}" in capsys.readouterr().out
    notification = s3.get_bucket_notification_configuration(Bucket=PROD.bucket)
    assert [q["Id"] for q in notification["QueueConfigurations"]] == [NOTIFICATION_ID]
    backups = aws.client("dynamodb").describe_continuous_backups(TableName=PROD.table)
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    assert main(["deploy", "--stage", "prod"]) == 0  # again: nothing to create, chalice runs again
    assert "everything was already in place" in capsys.readouterr().out
    assert len(commands.runs) == 2


def test_deploy_stops_before_chalice_when_setup_fails(aws_mock, commands, capsys):
    aws.client("dynamodb").create_table(  # a table of that name, not made by this setup
        TableName=PROD.table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    assert main(["deploy", "--stage", "prod"]) == 1
    assert "error in step 2" in capsys.readouterr().out
    assert commands.runs == []


def test_deploy_fails_when_chalice_fails(aws_mock, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "run_command", Commands(status=2))
    assert main(["deploy", "--stage", "prod"]) == 1
    assert "chalice deploy --stage prod exited with status 2" in capsys.readouterr().out


def test_deploy_refuses_a_local_stack_endpoint(aws_mock, commands, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert main(["deploy", "--stage", "prod"]) == 1
    assert "unset it to deploy to AWS" in capsys.readouterr().out
    assert commands.runs == []


def test_destroy_runs_chalice_delete_and_keeps_the_content(aws_mock, commands, capsys, monkeypatch):
    main(["deploy", "--stage", "prod"])
    aws.client("s3").put_object(Bucket=PROD.bucket, Key="posts/keep.md", Body=b"words")
    capsys.readouterr()

    def refuse(*args, **kwargs):
        raise AssertionError("destroy made an AWS call")

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
        assert main(["destroy", "--stage", "prod"]) == 0
    assert commands.commands[-1] == ["chalice", "delete", "--stage", "prod"]
    out = capsys.readouterr().out
    for name in (PROD.bucket, PROD.table, PROD.queue, f"{PROD.queue}-dlq"):
        assert f" {name}" in out
    assert "aws s3 rb" in out
    assert aws.client("s3").get_object(Bucket=PROD.bucket, Key="posts/keep.md")["Body"].read() == b"words"


@pytest.mark.parametrize("zip_bytes, status", [(3_000_000, 0), (deploy.MAX_ZIP_BYTES + 1, 1)])
def test_package_lints_the_template_and_checks_the_zip(zip_bytes, status, tmp_path, monkeypatch, capsys):
    def chalice_package(command):
        if command[1] == "package":
            out = Path(command[-1])
            out.mkdir(parents=True, exist_ok=True)
            (out / deploy.TEMPLATE).write_text("{}")
            (out / deploy.ZIP).write_bytes(bytes(zip_bytes))

    commands = Commands(on_run=chalice_package)
    monkeypatch.setattr(deploy, "run_command", commands)
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == status
    assert commands.commands == [["chalice", "package", "--stage", "prod", str(tmp_path)],
                                 ["cfn-lint", str(tmp_path / deploy.TEMPLATE)]]
    out = capsys.readouterr().out
    assert f"{zip_bytes:,} bytes" in out
    assert ("too big" in out) == bool(status)


def test_package_stops_when_cfn_lint_finds_problems(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "run_command", Commands(status=2))
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == 1
    assert "exited with status 2" in capsys.readouterr().out


def test_a_renamed_bucket_rewrites_the_policy_before_chalice_reads_it(tmp_path):
    config_file = tmp_path / ".chalice" / "config.json"
    config_file.parent.mkdir()
    config = json.loads(CONFIG_FILE.read_text())
    config["stages"]["prod"]["environment_variables"]["BLOG_BUCKET"] = "my-own-blog-content"
    config_file.write_text(json.dumps(config))
    for path in CONFIG_FILE.parent.glob("policy-prod-*.json"):
        shutil.copy(path, config_file.parent)
    stage = load_stage("prod", config_file)

    step = deploy.policy_step(stage)
    assert ".chalice/policy-prod-api_handler.json" in step.says and step.says.startswith("policy: write")
    step.run()
    written = (config_file.parent / "policy-prod-ingest_uploads.json").read_text()
    assert "arn:aws:s3:::my-own-blog-content/posts/*" in written and PROD.bucket not in written
    assert "match config.json" in deploy.policy_step(stage).says
