"""`make deploy / destroy / package`: the steps, their order, and dry runs that change nothing.

Setup, operations and the preflight run against moto; Chalice and cfn-lint are replaced by a
recorder here (the rehearsal, `make rehearse`, runs the real `chalice deploy` end to end,
tests/test_chalicecli.py the real deploy steps on the rehearsal's local stack,
tests/test_template.py the real `chalice package`, tests/test_bytecode.py the real `make
package`). moto has no CloudFront in CloudFormation, so the CDN stack is driven against a
stand-in that answers as CloudFormation does.
"""
from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import botocore.client
import pytest
from botocore.exceptions import ClientError

from blogctl import bytecode, deploy, operations, template
from blogctl.cli import main
from blogctl.resources import NOTIFICATIONS, plan
from blogctl.stage import CONFIG_FILE, PROJECT_DIR, load_stage
from blogctl.target import Target
from chalicelib import aws
from chalicelib.cdn import DISTRIBUTION_VARIABLE

DEV = load_stage("dev")
READS = {"GetCallerIdentity", "HeadBucket", "DescribeCertificate"}


def chalice_deploy(stage: str) -> list[str]:
    """`chalice deploy`, as deploy runs it: through blogctl/chalicecli.py, which adds the bytecode."""
    return [Path(sys.executable).name, "-m", "blogctl.chalicecli", "deploy", "--stage", stage]


class Commands:
    """Stands in for the tools deploy runs; records what it was asked to run."""

    def __init__(self, status: int = 0, on_run=None) -> None:
        self.runs: list[tuple[list[str], dict[str, str], Path]] = []
        self.status = status
        self.on_run = on_run

    def __call__(self, command: list[str], env: dict[str, str], cwd: Path = Path(".")) -> int:
        self.runs.append((command, env, cwd))
        if self.on_run:
            self.on_run(command)
        return self.status

    @property
    def commands(self) -> list[list[str]]:
        """Each command without the tool's folder: ['chalice', 'deploy', …]."""
        return [[Path(command[0]).name, *command[1:]] for command, _, _ in self.runs]


@pytest.fixture
def commands(monkeypatch) -> Commands:
    recorder = Commands()
    monkeypatch.setattr(deploy, "run_command", recorder)
    return recorder


@pytest.fixture
def cli_project(project, monkeypatch):
    """The CLI's deploy commands work on a copy of .chalice/ (a real deploy's record stays out of it)."""
    project("dev")
    monkeypatch.setattr(deploy, "load_stage", lambda name: load_stage(name, project.folder / "config.json"))
    return project


@pytest.fixture
def api_calls(monkeypatch) -> list[str]:
    """The name of every AWS operation any client makes from now on."""
    made: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        made.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return made


def chalice_records_a_deploy(stage):
    """What `chalice deploy` leaves behind: its record, with the REST API's URL."""
    def run(command):
        if command == [sys.executable, *chalice_deploy(stage.name)[1:]]:
            folder = stage.config_file.parent / "deployed"
            folder.mkdir(exist_ok=True)
            (folder / f"{stage.name}.json").write_text(json.dumps({"resources": [
                {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123",
                 "rest_api_url": "https://abc123.execute-api.us-east-1.amazonaws.com/api/"}]}))
    return run


@pytest.mark.parametrize("command, tool_line", [
    ("deploy", " -m blogctl.chalicecli deploy --stage dev"),
    ("destroy", "chalice delete --stage dev"),
    ("package", "chalice package --stage dev"),
])
def test_dry_runs_print_every_step_and_change_nothing(command, tool_line, aws_mock, cli_project, commands, api_calls,
                                                      capsys):
    assert main([command, "--stage", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert f"AWS_DEFAULT_REGION={DEV.region} " in out and tool_line in out
    assert commands.runs == []
    assert set(api_calls) <= READS  # the preflight reads; nothing is written


def test_deploy_dry_run_shows_the_whole_setup(aws_mock, cli_project, commands, capsys):
    main(["deploy", "--stage", "dev", "--dry-run"])
    out = capsys.readouterr().out
    for line in plan(deploy.policy.resource_names(DEV), DEV.function_setting("ingest_uploads", "lambda_timeout")):
        assert line in out
    assert out.index("preflight") < out.index("set up") < out.index("blogctl.chalicecli deploy") < out.index("alarms")
    assert "CDN" not in out  # dev has no CloudFront


def test_a_cdn_stage_shows_its_cdn_step(aws_mock, project, commands, capsys):
    stage = project("prod", {"BLOG_SITE_URL": "https://d111111abcdef8.cloudfront.net"})
    assert deploy.deploy(stage, Target(stage.region), dry_run=True) == 0
    assert "CDN: create or update stack serverless-blog-prod-cdn" in capsys.readouterr().out


def test_deploy_sets_up_the_stage_then_runs_chalice_then_operations(aws_mock, project, monkeypatch, capsys):
    stage = project("dev")
    s3, sqs = aws.client("s3"), aws.client("sqs")

    def resources_exist_already(command):
        assert s3.get_bucket_versioning(Bucket=stage.bucket)["Status"] == "Enabled"
        assert sqs.get_queue_url(QueueName=stage.queue)["QueueUrl"]

    commands = Commands(on_run=resources_exist_already)
    monkeypatch.setattr(deploy, "run_command", commands)
    assert deploy.deploy(stage, Target(stage.region)) == 0
    assert commands.commands == [chalice_deploy("dev")]
    _, env, cwd = commands.runs[0]
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == stage.region and cwd == stage.config_file.parent.parent
    assert env["PYTHONPATH"] == str(PROJECT_DIR)  # a copy of the project has no blogctl to run
    assert f"created bucket {stage.bucket}" in capsys.readouterr().out
    notification = s3.get_bucket_notification_configuration(Bucket=stage.bucket)
    assert [q["Id"] for q in notification["QueueConfigurations"]] == [ident for ident, _ in NOTIFICATIONS]
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix="serverless-blog-dev-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == ["serverless-blog-dev-api-errors", "serverless-blog-dev-dead-letters"]

    assert deploy.deploy(stage, Target(stage.region)) == 0  # again: nothing to create, chalice runs again
    assert "everything was already in place" in capsys.readouterr().out
    assert len(commands.runs) == 2


def test_deploy_stops_before_chalice_when_setup_fails(aws_mock, cli_project, commands, capsys):
    aws.client("dynamodb").create_table(  # a table of that name, not made by this setup
        TableName=DEV.table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    assert main(["deploy", "--stage", "dev"]) == 1
    assert "error in step 2" in capsys.readouterr().out
    assert commands.runs == []


def test_deploy_fails_when_chalice_fails(aws_mock, project, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "run_command", Commands(status=2))
    stage = project("dev")
    assert deploy.deploy(stage, Target(stage.region)) == 1
    out = capsys.readouterr().out
    assert "-m blogctl.chalicecli deploy --stage dev exited with status 2" in out
    assert "alarm" not in out.split("error in")[1]


def test_deploy_refuses_a_local_stack_endpoint(aws_mock, cli_project, commands, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert main(["deploy", "--stage", "dev"]) == 1
    assert "`unset AWS_ENDPOINT_URL` to deploy to AWS" in capsys.readouterr().out
    assert commands.runs == []


def test_chalice_acts_only_where_the_target_is(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    to_aws = Target("us-east-1").environment()
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in to_aws) and to_aws["AWS_REGION"] == "us-east-1"
    local = Target("us-east-1", "http://127.0.0.1:5000").environment()
    assert local["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000" and local["AWS_ACCESS_KEY_ID"] == "testing"


def test_destroy_removes_cdn_then_chalice_then_operations_and_keeps_the_content(aws_mock, project, monkeypatch,
                                                                             capsys):
    stage = project("dev")
    commands = Commands()
    monkeypatch.setattr(deploy, "run_command", commands)
    deploy.deploy(stage, Target(stage.region))
    aws.client("s3").put_object(Bucket=stage.bucket, Key="posts/keep.md", Body=b"words")
    capsys.readouterr()

    assert deploy.destroy(stage, Target(stage.region)) == 0
    assert commands.commands[-1] == ["chalice", "delete", "--stage", "dev"]
    out = capsys.readouterr().out
    assert out.index("CDN: delete") < out.index("chalice delete") < out.index("deleted alarms")
    for name in (stage.bucket, stage.table, stage.queue, f"{stage.queue}-dlq"):
        assert f" {name}" in out
    assert "aws s3 rb" in out
    assert aws.client("s3").get_object(Bucket=stage.bucket, Key="posts/keep.md")["Body"].read() == b"words"
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


class CloudFormation:
    """Answers as CloudFormation does for the CDN stack (moto's has no CloudFront model)."""

    def __init__(self) -> None:
        self.stacks: dict[str, str] = {}
        self.calls: list[str] = []

    def describe_stacks(self, StackName):
        if StackName not in self.stacks:
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Stack with id {StackName} does not exist"}}, "DescribeStacks")
        return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": [
            {"OutputKey": "DistributionId", "OutputValue": "E2EXAMPLE"},
            {"OutputKey": "DistributionDomainName", "OutputValue": "d111111abcdef8.cloudfront.net"}]}]}

    def create_stack(self, StackName, TemplateBody, Capabilities):
        self.calls.append("create")
        self.stacks[StackName] = TemplateBody

    def update_stack(self, StackName, TemplateBody, Capabilities):
        self.calls.append("update")
        if self.stacks[StackName] == TemplateBody:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "No updates are to be performed."}},
                              "UpdateStack")
        self.stacks[StackName] = TemplateBody

    def delete_stack(self, StackName):
        self.calls.append("delete")
        del self.stacks[StackName]

    def get_waiter(self, name):
        return type("Waiter", (), {"wait": lambda self, **_: None})()


class WithCloudFormation(Target):
    def __init__(self, region, cloudformation):
        super().__init__(region)
        object.__setattr__(self, "cloudformation", cloudformation)

    def client(self, service, region=None):
        return self.cloudformation if service == "cloudformation" else super().client(service, region)


def test_the_first_cdn_deploy_records_the_distribution_and_deploys_again(aws_mock, project, monkeypatch, capsys):
    stage = project("prod", {"BLOG_SITE_URL": "https://d111111abcdef8.cloudfront.net"})
    commands = Commands(on_run=chalice_records_a_deploy(stage))
    monkeypatch.setattr(deploy, "run_command", commands)
    cloudformation = CloudFormation()
    target = WithCloudFormation(stage.region, cloudformation)

    assert deploy.deploy(stage, target) == 0
    out = capsys.readouterr().out
    assert "distribution E2EXAMPLE at https://d111111abcdef8.cloudfront.net/" in out
    body = json.loads(cloudformation.stacks["serverless-blog-prod-cdn"])
    assert body["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"] == \
        "abc123.execute-api.us-east-1.amazonaws.com"
    config = json.loads(stage.config_file.read_text())
    assert config["stages"]["prod"]["environment_variables"][DISTRIBUTION_VARIABLE] == "E2EXAMPLE"
    assert commands.commands == [chalice_deploy("prod")] * 2  # again, to pass the id on

    stage = load_stage("prod", stage.config_file)
    assert deploy.deploy(stage, target) == 0  # nothing changed: one chalice deploy, the stack as it was
    assert len(commands.runs) == 3 and cloudformation.calls == ["create", "update"]

    assert deploy.destroy(stage, target) == 0
    assert cloudformation.stacks == {}


def chalice_packages(files: dict[str, bytes], runtime: str = bytecode.runtime()):
    """What `chalice package` leaves in its folder: a template whose functions run `runtime`, and a zip of `files`."""
    def run(command):
        if command[1] == "package":
            out = Path(command[-1])
            out.mkdir(parents=True, exist_ok=True)
            function = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": runtime}}
            (out / deploy.TEMPLATE).write_text(json.dumps({"Resources": {"APIHandler": function}}))
            with zipfile.ZipFile(out / deploy.ZIP, "w") as archive:
                for name, data in files.items():
                    archive.writestr(name, data)
    return run


@pytest.mark.parametrize("blob_bytes, status", [(3_000_000, 0), (deploy.MAX_ZIP_BYTES + 1, 1)])
def test_package_merges_our_template_compiles_lints_it_and_checks_the_zip(blob_bytes, status, tmp_path, monkeypatch,
                                                                          capsys):
    commands = Commands(on_run=chalice_packages({"app.py": b"x = 1\n", "blob": bytes(blob_bytes)}))
    monkeypatch.setattr(deploy, "run_command", commands)
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == status
    merge = tmp_path / deploy.MERGE_TEMPLATE
    assert commands.commands == [["chalice", "package", "--stage", "prod", "--merge-template", str(merge), str(tmp_path)],
                                 ["cfn-lint", str(tmp_path / deploy.TEMPLATE)]]
    assert json.loads(merge.read_text()) == template.merge_template(load_stage("prod"))
    assert bytecode.pyc_name("app.py") in zipfile.ZipFile(tmp_path / deploy.ZIP).namelist()
    out = capsys.readouterr().out
    assert f"{(tmp_path / deploy.ZIP).stat().st_size:,} bytes" in out
    assert ("too big" in out) == bool(status)


def test_package_stops_when_a_module_does_not_compile(tmp_path, monkeypatch, capsys):
    files = {"app.py": b"x = 1\n", "chalicelib/broken.py": b"def broken(:\n"}
    commands = Commands(on_run=chalice_packages(files))
    monkeypatch.setattr(deploy, "run_command", commands)
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "error in step 4: bytecode: 1 module(s) in the zip do not compile" in out and "chalicelib/broken.py" in out
    assert [command[0] for command in commands.commands] == ["chalice"]  # no lint, no size: nothing to ship
    assert not any(name.endswith(".pyc") for name in zipfile.ZipFile(tmp_path / deploy.ZIP).namelist())


def test_package_refuses_bytecode_for_another_runtime(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "run_command", Commands(on_run=chalice_packages({"app.py": b""}, "python3.99")))
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"this is {bytecode.runtime()}, whose bytecode the functions cannot use (APIHandler runs python3.99)" in out


def test_package_stops_when_cfn_lint_finds_problems(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "run_command", Commands(status=2))
    assert main(["package", "--stage", "prod", "--out", str(tmp_path)]) == 1
    assert "exited with status 2" in capsys.readouterr().out


def test_a_renamed_bucket_rewrites_the_policies_before_chalice_reads_them(tmp_path):
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
    assert "arn:aws:s3:::my-own-blog-content/posts/*" in written and "serverless-blog-prod-content" not in written
    assert "match config.json" in deploy.policy_step(stage).says


def test_recording_the_distribution_keeps_the_rest_of_the_config(project):
    stage = project("prod", {"BLOG_SITE_URL": "https://blog.example.com"})
    before = json.loads(stage.config_file.read_text())
    assert operations.record_distribution(stage, "E1", "d1.cloudfront.net") == [f"{DISTRIBUTION_VARIABLE}=E1"]
    assert operations.record_distribution(stage, "E1", "d1.cloudfront.net") == []
    after = json.loads(stage.config_file.read_text())
    after["stages"]["prod"]["environment_variables"].pop(DISTRIBUTION_VARIABLE)
    assert after == before


def test_a_cdn_stage_without_a_site_url_gets_the_distributions(project):
    # Behind CloudFront the API sees its own host: links must come from BLOG_SITE_URL.
    stage = project("dev", blog_cdn=True)
    assert operations.record_distribution(stage, "E1", "d1.cloudfront.net") == [
        f"{DISTRIBUTION_VARIABLE}=E1", "BLOG_SITE_URL=https://d1.cloudfront.net"]
    assert load_stage("dev", stage.config_file).site_url == "https://d1.cloudfront.net"
