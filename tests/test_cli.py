"""The editor's CLI (python -m blogctl), in-process against moto with the dev stage's names."""
from __future__ import annotations

import json
import os
from pathlib import Path

import moto
import pytest

from blogctl import cli
from blogctl.resources import Names, ensure_resources
from blogctl.stage import load_stage
from chalicelib import aws, ingest, services
from conftest import NOW, source


@pytest.fixture
def stage_aws():
    """moto with the dev stage's resources; the environment restored afterwards."""
    saved = dict(os.environ)
    with moto.mock_aws():
        stage = load_stage("dev")
        os.environ.update(stage.env)
        services.reset()
        ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"),
                         Names(stage.bucket, stage.table, stage.queue, "us-east-1"))
        yield stage
    os.environ.clear()
    os.environ.update(saved)
    services.reset()


def run(*argv: str) -> int:
    return cli.main(list(argv))


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / "posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_check_passes_valid_files(tmp_path, capsys):
    good = write(tmp_path, "good.md", source("Good"))
    assert run("check", str(good)) == 0
    assert "1 of 1 file(s) valid" in capsys.readouterr().err


def test_check_reports_line_numbered_errors_and_fails(tmp_path, capsys):
    bad = write(tmp_path, "bad.md", b"---\ntitle: T\ndate: someday\ndraft: maybe\n---\n")
    missing = tmp_path / "posts" / "missing.md"
    assert run("check", str(bad), str(missing)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{bad}:3: 'date':")
    assert out[1].startswith(f"{bad}:4: 'draft':")
    assert out[2].startswith(f"{missing}: cannot read")


def test_check_says_why_a_file_is_not_a_post(tmp_path, capsys):
    notes = write(tmp_path, "notes.txt", source("Notes"))
    section = write(tmp_path, "_index.md", source("Posts"))
    assert run("check", str(notes), str(section)) == 1
    out = capsys.readouterr()
    assert f"{notes}: not a post file: '.txt' files are not posts" in out.out
    assert f"{section}: not a post file: '_index.md' is a Hugo section page" in out.out
    assert "0 of 2 file(s) valid" in out.err


def test_check_reads_every_generators_layout(tmp_path, capsys):
    jekyll = tmp_path / "site" / "_posts" / "2013-05-06-hello.markdown"
    draft = tmp_path / "site" / "_drafts" / "later.mdown"
    bundle = tmp_path / "content" / "posts" / "trip" / "index.mkd"
    pelican = tmp_path / "content" / "pelican.mkdn"
    for path, data in ((jekyll, b"---\ncategories: news\n---\nHi"), (draft, source("Later")),
                       (bundle, b'\n\n+++\ntitle = "Trip"\ndate = 2020-01-01\n+++\nGo'),
                       (pelican, b"Title: P\nDate: 2012-10-22 14:05\n\nBody")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert run("check", str(jekyll), str(draft), str(bundle), str(pelican)) == 0
    assert "4 of 4 file(s) valid" in capsys.readouterr().err
    assert [cli.source_key_for(p) for p in (jekyll, draft, bundle, pelican)] == [
        "posts/2013-05-06-hello.markdown", "posts/_drafts/later.mdown", "posts/trip/index.mkd", "posts/pelican.mkdn"]
    assert cli.source_key_for(tmp_path / "content" / "post" / "a" / "index.md") == "posts/a/index.md"
    assert cli.source_key_for(tmp_path / "content" / "blog" / "b" / "index.md") == "posts/b/index.md"


def test_check_prints_warnings_but_passes(tmp_path, capsys):
    tags = ", ".join(f"t{i}" for i in range(20))
    post = write(tmp_path, "many.md", source("Many", tags=tags))
    assert run("check", str(post)) == 0
    assert f"{post}: warning: 20 tags and categories; the limit is 16 (MAX_TAGS)" in capsys.readouterr().out


def test_assets_of_a_bundle_are_its_other_files(tmp_path):
    bundle = tmp_path / "posts" / "trip"
    bundle.mkdir(parents=True)
    (bundle / "index.markdown").write_bytes(source("Trip"))
    (bundle / "map.png").write_bytes(b"png")
    (bundle / "notes.md").write_bytes(source("Notes"))
    assert cli.assets_for(bundle / "index.markdown") == [(bundle / "map.png", "assets/trip/map.png")]


def test_new_scaffolds_a_draft_that_checks(tmp_path, capsys):
    assert run("new", "Hello, World!", "--tags", "a, b", "--dir", str(tmp_path)) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == tmp_path / "hello-world.md"
    assert run("check", str(path)) == 0
    assert "draft: true" in path.read_text()
    assert run("new", "Hello, World!", "--dir", str(tmp_path)) == 1  # never overwrites


def test_publish_uploads_posts_with_their_assets(tmp_path, stage_aws, capsys):
    post = write(tmp_path, "trip.md", source("Trip", body="![view](view.jpg)"))
    (tmp_path / "assets" / "trip").mkdir(parents=True)
    (tmp_path / "assets" / "trip" / "view.jpg").write_bytes(b"jpeg")
    assert run("publish", "--stage", "dev", str(post)) == 0
    keys = {ref.key for ref in services.content().list("")}
    assert keys == {"posts/trip.md", "assets/trip/view.jpg"}
    assert f"uploaded s3://{stage_aws.bucket}/posts/trip.md" in capsys.readouterr().out


def test_publish_refuses_invalid_posts_and_uploads_the_rest(tmp_path, stage_aws, capsys):
    good = write(tmp_path, "good.md", source("Good"))
    bad = write(tmp_path, "bad.md", b"no front matter")
    assert run("publish", "--stage", "dev", str(tmp_path / "posts")) == 1
    assert {ref.key for ref in services.content().list("posts/")} == {"posts/good.md"}
    assert f"{bad}:1: no front matter" in capsys.readouterr().err
    assert good.exists()


def test_status_shows_every_state_with_errors(stage_aws, capsys):
    content, index = services.content(), services.index()
    for key, data in {"posts/live.md": source("Live"), "posts/draft.md": source("Draft", draft=True),
                      "posts/later.md": source("Later", date="2099-01-01"),
                      "posts/broken.md": b"---\ntitle: Broken\n---\n"}.items():
        content.put(key, data, "text/markdown")
        ingest.reconcile(key, index, content, NOW)
    assert run("status", "--stage", "dev") == 1  # a post is in error
    text = capsys.readouterr().out
    assert "error in posts/broken.md: line 1: 'date': missing" in text
    assert run("status", "--stage", "dev", "--json") == 1
    rows = json.loads(capsys.readouterr().out)
    assert {r["slug"]: r["status"] for r in rows} == {
        "live": "published", "draft": "draft", "later": "scheduled", "broken": "error"}
    assert rows[0]["slug"] == "broken"  # problems first


def test_history_and_rollback_restore_an_old_version(stage_aws, capsys):
    content, index = services.content(), services.index()
    first = content.put("posts/p.md", source("First title"), "text/markdown")
    ingest.reconcile("posts/p.md", index, content, NOW)
    content.put("posts/p.md", source("Second title"), "text/markdown")
    ingest.reconcile("posts/p.md", index, content, NOW)
    assert run("history", "--stage", "dev", "p") == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 2
    assert "current" in history[0] and "served" in history[0]
    assert history[1].startswith(first.version_id)
    assert run("rollback", "--stage", "dev", "p", first.version_id) == 0
    ingest.reconcile("posts/p.md", index, content, NOW)  # the upload event, delivered
    assert index.post("p").card.title == "First title"
    assert len(content.versions("posts/p.md")) == 3  # nothing was lost
    assert run("rollback", "--stage", "dev", "p", "no-such-version") == 1


def test_rebuild_prints_its_report(stage_aws, capsys):
    services.content().put("posts/missed.md", source("Missed"), "text/markdown")
    assert run("rebuild", "--stage", "dev") == 0
    assert '"action": "published"' in capsys.readouterr().out
    assert services.index().post("missed").status.value == "published"


def test_setup_dry_run_calls_nothing(capsys):
    assert run("setup", "--stage", "prod", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "would ensure: S3 bucket serverless-blog-prod-content" in out
