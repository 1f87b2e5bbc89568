"""The editor's CLI (python -m blogctl), in-process against moto with the dev stage's names."""
from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from blogctl import cli
from chalicelib import aws, indexer, posts, preview, services
from conftest import NOW, source


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


@pytest.fixture
def trigger(stage_aws):
    """Lambda's queue trigger, running beside the command: uploads reach ingest while `publish` waits."""
    import app
    from blogctl.pump import QueuePump, queue_url

    sqs = aws.client("sqs")
    pump = QueuePump(sqs, queue_url(sqs, stage_aws.queue), app.ingest_uploads)
    stop = threading.Event()

    def deliver() -> None:
        while not stop.is_set():
            pump.pump_once(0)
            stop.wait(0.05)

    thread = threading.Thread(target=deliver, name="queue-trigger", daemon=True)
    thread.start()
    yield pump
    stop.set()
    thread.join(timeout=10)


def lines_of(text: str) -> dict[str, str]:
    """`publish`'s lines by their first word (the last line of each kind)."""
    return {line.split()[0]: line for line in text.splitlines() if line.strip()}


def test_publish_waits_and_says_a_post_is_live_at_its_url(tmp_path, trigger, capsys):
    post = write(tmp_path, "trip.md", source("Trip", body="![view](view.jpg)"))
    (tmp_path / "assets" / "trip").mkdir(parents=True)
    (tmp_path / "assets" / "trip" / "view.jpg").write_bytes(b"jpeg")
    assert run("publish", "--stage", "dev", str(post)) == 0
    assert {ref.key for ref in services.content().list("")} == {"posts/trip.md", "assets/trip/view.jpg"}
    out = capsys.readouterr().out
    assert out.splitlines() == [f"live       {post} → /posts/trip"]  # the dev stage has no site URL


def test_publish_of_a_draft_says_so_with_a_preview_link(tmp_path, trigger, capsys):
    post = write(tmp_path, "idea.md", source("Idea", draft=True))
    assert run("publish", "--stage", "dev", str(post)) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"draft      {post}: a draft, not public; preview (until ")
    link = line.rsplit(": ", 1)[1]
    slug, token = link.split("/")[-2:]
    assert slug == "idea" and preview.verify(services.preview_secret().read(), "idea", token, time.time())


def test_publish_of_a_scheduled_post_says_when(tmp_path, trigger, capsys):
    post = write(tmp_path, "later.md", source("Later", date="2099-05-06T07:08:00Z"))
    assert run("publish", "--stage", "dev", str(post)) == 0
    assert f"scheduled  {post}: goes live 2099-05-06 07:08 UTC; preview" in capsys.readouterr().out


def test_publish_refuses_a_broken_edit_before_upload_and_the_good_version_stays(tmp_path, trigger, capsys):
    post = write(tmp_path, "kept.md", source("Kept"))
    assert run("publish", "--stage", "dev", str(post)) == 0
    capsys.readouterr()
    post.write_bytes(b"---\ntitle: Kept\ndate: 2024-01-02\ndraft: maybe\n---\nBody\n")
    assert run("publish", "--stage", "dev", str(post)) == 1
    out = capsys.readouterr().out
    assert f"error      {post}:4: 'draft': 'maybe' must be true or false" in out
    assert "not uploaded" in out
    assert len(services.content().versions("posts/kept.md")) == 1
    assert services.index().post("kept").card.title == "Kept"


def test_an_upload_ingest_rejects_is_reported_with_its_line_and_what_stays_online(tmp_path, trigger, capsys,
                                                                                 monkeypatch):
    post = write(tmp_path, "kept.md", source("Kept"))
    assert run("publish", "--stage", "dev", str(post)) == 0
    capsys.readouterr()
    # A rule ingest enforces that this copy of `check` does not (an older blogctl, say).
    post.write_bytes(b"---\ntitle: Kept\ndate: 2024-01-02\ndraft: maybe\n---\nBody\n")
    monkeypatch.setattr(cli, "parse_file", lambda path: ([], [], posts.parse_post(
        "posts/kept.md", source("Kept"))))
    assert run("publish", "--stage", "dev", str(post)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"error      {post}:4: 'draft': 'maybe' must be true or false",
                   "           the last good version stays online: /posts/kept"]
    new = write(tmp_path, "fresh.md", b"---\ntitle: Fresh\ndate: 2024-01-02\ndraft: maybe\n---\n")
    assert run("publish", "--stage", "dev", str(new)) == 1
    assert "nothing from this file is online" in capsys.readouterr().out


def test_publish_without_an_answer_says_it_is_waiting_and_fails(tmp_path, stage_aws, capsys):
    post = write(tmp_path, "alone.md", source("Alone"))
    started = time.monotonic()
    assert run("publish", "--stage", "dev", "--timeout", "0.5", str(post)) == 1
    assert time.monotonic() - started < 10
    assert capsys.readouterr().out.startswith(f"waiting    {post}: uploaded, but ingest gave no answer in 0.5 s")


def test_publish_refuses_invalid_posts_and_uploads_the_rest(tmp_path, trigger, capsys):
    good = write(tmp_path, "good.md", source("Good"))
    bad = write(tmp_path, "bad.md", b"no front matter")
    assert run("publish", "--stage", "dev", str(tmp_path / "posts")) == 1
    assert {ref.key for ref in services.content().list("posts/")} == {"posts/good.md"}
    out = capsys.readouterr().out
    assert f"error      {bad}:1: no front matter" in out
    assert f"live       {good} → /posts/good" in out


def test_publish_of_a_folder_takes_every_markdown_extension(tmp_path, trigger, capsys):
    names = ["a.md", "b.markdown", "c.mdown", "d.mkd", "e.mkdn"]
    for name in names:
        write(tmp_path, name, source(name))
    write(tmp_path, "_index.md", source("Section"))  # a Hugo section page: skipped, not a failure
    write(tmp_path, "notes.txt", b"not a post")
    assert run("publish", "--stage", "dev", str(tmp_path / "posts")) == 0
    assert {ref.key for ref in services.content().list("posts/")} == {f"posts/{n}" for n in names}
    captured = capsys.readouterr()
    assert captured.out.count("live ") == 5
    assert "_index.md: not a post" in captured.err


def test_a_missing_image_is_an_error_on_its_line_and_nothing_is_uploaded(tmp_path, stage_aws, capsys):
    post = write(tmp_path, "pics.md", source("Pics", body="Intro.\n\n![a cat](cat.jpg)\n"))
    assert run("check", str(post)) == 1
    assert f"{post}:8: image 'cat.jpg' not found: put the file at {tmp_path / 'assets' / 'pics' / 'cat.jpg'}\n" in \
        capsys.readouterr().out
    assert run("publish", "--stage", "dev", str(post)) == 1
    assert f"{post}:8: image 'cat.jpg' not found" in capsys.readouterr().out
    assert list(services.content().list("")) == []


def test_an_image_already_in_the_bucket_is_found(tmp_path, trigger, capsys):
    services.content().put("assets/pics/cat.jpg", b"jpeg", "image/jpeg")
    post = write(tmp_path, "pics.md", source("Pics", body="![a cat](cat.jpg)"))
    assert run("publish", "--stage", "dev", str(post)) == 0


def test_links_to_other_posts_are_checked_against_the_blog(tmp_path, trigger, capsys):
    services.content().put("posts/there.md", source("There"), "text/markdown")
    services.content().put("posts/someday.md", source("Someday", draft=True), "text/markdown")
    indexer.reconcile("posts/there.md", services.index(), services.content(), NOW)
    indexer.reconcile("posts/someday.md", services.index(), services.content(), NOW)
    body = "See [there](/posts/there), [soon](/posts/someday) and [nowhere](/posts/nowhere).\n"
    post = write(tmp_path, "links.md", source("Links", body=body))
    assert run("publish", "--stage", "dev", str(post)) == 1
    out = capsys.readouterr().out
    assert f"{post}:6: links to /posts/nowhere, which does not exist" in out
    assert f"{post}:6: warning: links to /posts/someday, which is draft" in out
    assert "/posts/there" not in out
    post.write_bytes(source("Links", body="See [there](/posts/there) and [later](/posts/sibling).\n"))
    write(tmp_path, "sibling.md", source("Sibling"))
    assert run("publish", "--stage", "dev", str(tmp_path / "posts")) == 0  # published together


def test_preview_prints_a_link_that_expires(stage_aws, capsys):
    services.content().put("posts/idea.md", source("Idea", draft=True), "text/markdown")
    indexer.reconcile("posts/idea.md", services.index(), services.content(), NOW)
    assert run("preview", "--stage", "dev", "idea", "--for", "2h") == 0
    captured = capsys.readouterr()
    token = captured.out.strip().rsplit("/", 1)[1]
    secret = services.preview_secret().read()
    assert preview.verify(secret, "idea", token, time.time() + 7190)
    assert not preview.verify(secret, "idea", token, time.time() + 7210)
    assert "idea: a draft; the link works until" in captured.err
    assert run("preview", "--stage", "dev", "nothing-here") == 1
    assert "no post 'nothing-here' to preview" in capsys.readouterr().err
    assert run("preview", "--stage", "dev", "idea", "--for", "90d") == 2


def test_preview_rotate_revokes_every_link(stage_aws, capsys):
    before = services.preview_secret().read()
    assert run("preview", "--stage", "dev", "--rotate") == 0
    assert services.preview_secret().read() != before
    assert "every preview link stops working within 60 s" in capsys.readouterr().err


def test_status_shows_every_state_with_errors(stage_aws, capsys):
    content, index = services.content(), services.index()
    for key, data in {"posts/live.md": source("Live"), "posts/draft.md": source("Draft", draft=True),
                      "posts/later.md": source("Later", date="2099-01-01"),
                      "posts/broken.md": b"---\ntitle: Broken\n---\n"}.items():
        content.put(key, data, "text/markdown")
        indexer.reconcile(key, index, content, NOW)
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
    indexer.reconcile("posts/p.md", index, content, NOW)
    content.put("posts/p.md", source("Second title"), "text/markdown")
    indexer.reconcile("posts/p.md", index, content, NOW)
    assert run("history", "--stage", "dev", "p") == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 2
    assert "current" in history[0] and "served" in history[0]
    assert history[1].startswith(first.version_id)
    assert run("rollback", "--stage", "dev", "p", first.version_id) == 0
    indexer.reconcile("posts/p.md", index, content, NOW)  # the upload event, delivered
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


# -- errors, not tracebacks --

COMMANDS = [["status"], ["publish", "{post}"], ["preview", "idea"], ["history", "idea"],
            ["rollback", "idea", "v1"], ["rebuild"], ["setup"], ["replay-dlq"], ["reindex"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def post_file(tmp_path) -> str:
    return str(write(tmp_path, "idea.md", source("Idea")))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_without_the_local_stack_every_command_says_to_start_it(command, post_file, capsys):
    port = free_port()
    argv = [part.format(post=post_file) for part in command] + ["--aws-port", str(port)]
    assert run(*argv) == 1
    assert one_line_error(capsys) == (f"error: no local stack on 127.0.0.1:{port}: start it with `make run` in "
                                      "another terminal, or pass --aws-port (or set AWS_PORT) to the port it runs on")


@pytest.mark.parametrize("command", [*COMMANDS, ["deploy"], ["destroy"], ["package"]], ids=lambda c: c[0])
def test_an_unknown_stage_is_one_line_naming_the_stages(command, post_file, capsys):
    assert run(*[part.format(post=post_file) for part in command], "--stage", "staging") == 2
    assert one_line_error(capsys).endswith("(stages: dev, prod); pass one of those to --stage")


@pytest.fixture
def not_aws():
    """An HTTP server that is not the local stack (the blog's own port, say): 404 for everything."""
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            self.send_response(404)
            self.end_headers()

        do_GET = do_POST = do_HEAD  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_a_wrong_port_says_it_is_not_the_local_stack(not_aws, capsys):
    assert run("status", "--aws-port", str(not_aws)) == 1
    assert one_line_error(capsys).startswith(f"error: the local stack on 127.0.0.1:{not_aws} has no bucket "
                                             "serverless-blog-dev-content: it is not this project's `make run`")


def test_missing_credentials_say_how_to_get_them(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert run("status", "--stage", "prod") == 1
    assert one_line_error(capsys) == ("error: no AWS credentials for stage prod: run `aws configure sso` and "
                                      "`export AWS_PROFILE=…`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def test_unreachable_aws_says_to_check_the_network(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing answers there
    assert run("history", "--stage", "prod", "idea") == 1
    assert one_line_error(capsys).startswith("error: cannot reach AWS (Could not connect to the endpoint URL")


def test_a_stage_never_deployed_says_to_deploy_it(stage_aws, capsys):
    assert run("status", "--stage", "prod") == 1
    assert one_line_error(capsys) == ("error: stage prod has no bucket serverless-blog-prod-content in us-east-1: "
                                      "deploy it first (`make deploy STAGE=prod`)")


def test_full_urls_are_checked_only_when_they_are_the_blogs_own(tmp_path, trigger, capsys, monkeypatch):
    monkeypatch.setattr(cli, "site_url", lambda args: "https://blog.example.com")
    body = ("[elsewhere](https://other.example.org/posts/whatever) and "
            "[here](https://blog.example.com/posts/missing-one)\n")
    post = write(tmp_path, "full.md", source("Full", body=body))
    assert run("publish", "--stage", "dev", str(post)) == 1
    out = capsys.readouterr().out
    assert "links to /posts/missing-one, which does not exist" in out and "whatever" not in out
