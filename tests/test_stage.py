"""Stage settings come from Chalice's own Config, with Chalice's precedence."""
from __future__ import annotations

import json

import pytest

from blogctl.stage import CONFIG_FILE, load_stage
from chalicelib.config import DEFAULT_QUEUE, DEFAULT_REBUILD_MINUTES, Settings


def stage_from(tmp_path, config: dict, name: str = "prod"):
    path = tmp_path / ".chalice" / "config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(config))
    return load_stage(name, path)


def committed() -> dict:
    return json.loads(CONFIG_FILE.read_text())


def test_a_stage_setting_beats_a_top_level_per_function_one(tmp_path):
    config = committed()
    config["lambda_functions"]["ingest_uploads"]["lambda_timeout"] = 60
    config["stages"]["prod"]["lambda_timeout"] = 30
    # Chalice looks in the stage before the top-level lambda_functions: 30 is what gets deployed.
    assert stage_from(tmp_path, config).function_setting("ingest_uploads", "lambda_timeout") == 30


def test_a_per_function_setting_in_the_stage_beats_everything(tmp_path):
    config = committed()
    config["stages"]["prod"]["lambda_timeout"] = 30
    config["stages"]["prod"]["lambda_functions"]["ingest_uploads"]["lambda_timeout"] = 45
    stage = stage_from(tmp_path, config)
    assert stage.function_setting("ingest_uploads", "lambda_timeout") == 45
    assert stage.function_setting("rebuild_index", "lambda_timeout") == 30


def test_environment_variables_merge_as_chalice_merges_them(tmp_path):
    config = committed()
    config["stages"]["prod"]["lambda_functions"]["rebuild_index"]["environment_variables"] = {"BLOG_TITLE": "R"}
    stage = stage_from(tmp_path, config)
    assert stage.environment("rebuild_index")["BLOG_TITLE"] == "R"
    assert stage.env["BLOG_TITLE"] == "The Blog" and stage.env["BLOG_BUCKET"] == "serverless-blog-prod-content"


def test_operator_settings_follow_chalice_precedence(tmp_path):
    config = committed()
    config["blog_alarm_email"] = "ops@example.com"
    config["stages"]["dev"]["blog_alarm_email"] = "dev@example.com"
    config["stages"]["prod"].pop("blog_alarm_email", None)
    assert stage_from(tmp_path, config, "dev").chalice.alarm_email == "dev@example.com"
    assert stage_from(tmp_path, config, "prod").chalice.alarm_email == "ops@example.com"


def test_the_committed_stages():
    dev, prod = load_stage("dev"), load_stage("prod")
    assert not dev.chalice.production and not dev.chalice.cdn
    assert prod.chalice.production and prod.chalice.cdn
    assert dev.region == prod.region == "us-east-1"
    assert prod.function_name("api_handler") == "serverless-blog-prod"
    assert prod.function_name("ingest_uploads") == "serverless-blog-prod-ingest_uploads"
    assert prod.functions == ["api_handler", "ingest_uploads", "rebuild_index"]


@pytest.mark.parametrize("url, domain", [
    ("", ""), ("https://blog.example.com", "blog.example.com"), ("https://blog.example.com/", "blog.example.com"),
    ("https://d111111abcdef8.cloudfront.net", ""), ("https://abc.execute-api.us-east-1.amazonaws.com/api", ""),
])
def test_the_custom_domain_is_the_site_urls_host(tmp_path, url, domain):
    config = committed()
    config["stages"]["prod"]["environment_variables"]["BLOG_SITE_URL"] = url
    assert stage_from(tmp_path, config).domain == domain


def test_an_unknown_stage_names_the_known_ones():
    with pytest.raises(ValueError, match="stages: dev, prod"):
        load_stage("staging")


def test_queue_and_schedule_defaults_are_defined_once():
    import app

    settings = Settings.from_env({})
    assert (settings.queue, settings.rebuild_minutes) == (DEFAULT_QUEUE, DEFAULT_REBUILD_MINUTES)
    assert Settings.from_env({"BLOG_REBUILD_MINUTES": "5"}).rebuild_minutes == 5
    assert app.REBUILD_MINUTES == load_stage("dev").settings.rebuild_minutes
