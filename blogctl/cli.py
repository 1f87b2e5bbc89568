"""blogctl: the editor's and operator's command line.

    python -m blogctl new "My first post"       scaffold content/posts/my-first-post.md
    python -m blogctl check content/posts/*.md  validate, with line numbers; exit 1 on errors
    python -m blogctl publish content/posts/my-first-post.md
    python -m blogctl import ../old-site           a whole Hugo, Jekyll or Pelican site, old URLs kept
    python -m blogctl status                    every post: published, draft, scheduled, error
    python -m blogctl history SLUG / rollback SLUG VERSION / rebuild / replay-dlq
    python -m blogctl serve                     the local stack (`make run`)

Commands talk to the local stack (http://127.0.0.1:$AWS_PORT) unless `--stage NAME`
names a stage of .chalice/config.json: then they talk to AWS with your credentials.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from blogctl.stage import PROJECT_DIR, load_stage
from chalicelib import posts
from chalicelib.errors import InvalidPost

DEFAULT_AWS_PORT = 4566
STATUS_ORDER = {"error": 0, "scheduled": 1, "draft": 2, "published": 3, "expired": 4, "deleted": 5}


def connect(args: argparse.Namespace) -> None:
    """Point chalicelib at the local stack, or at AWS for `--stage`."""
    from chalicelib import services
    from blogctl.localstack import local_environment

    if args.stage:
        stage = load_stage(args.stage)
        os.environ.update(stage.env)
        # The stage's region and no other (blogctl/target.py): a stray AWS_REGION must not win.
        os.environ.update({"AWS_REGION": stage.region, "AWS_DEFAULT_REGION": stage.region})
    else:
        os.environ.update(local_environment("dev", args.aws_port))
    services.reset()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the local stack and the blog until Ctrl-C."""
    from blogctl import localstack

    return localstack.main(args.port, args.aws_port, "dev", autoreload=not args.no_autoreload)


def cmd_new(args: argparse.Namespace) -> int:
    """Write a new post's skeleton (a draft) and print its path."""
    slug = posts.slugify(args.title)
    if not slug:
        print("error: the title needs letters or digits to make a file name from", file=sys.stderr)
        return 2
    path = Path(args.dir) / f"{slug}.md"
    if path.exists():
        print(f"error: {path} exists already", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tags = [t.strip() for t in (args.tags or "").split(",") if t.strip()]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    path.write_text(posts.scaffold(args.title, now, tags, draft=not args.ready), encoding="utf-8")
    print(path)
    return 0


def check_post(path: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of one post file, each a 'path:line: message' line; no problems = valid."""
    key = source_key_for(path)
    not_post = posts.post_key_problem(key)
    if not_post:
        return [f"{path}: not a post file: {not_post}"], []
    try:
        data = path.read_bytes()
    except OSError as err:
        return [f"{path}: cannot read: {err.strerror}"], []
    try:
        post = posts.parse_post(key, data)
    except InvalidPost as err:
        return [f"{path}:{p.line or 1}: {p.message}" for p in err.problems], []
    return [], [f"{path}: warning: {warning}" for warning in post.warnings]


def check_file(path: Path) -> list[str]:
    """Problems of one post file, as 'path:line: message' lines (empty when valid)."""
    return check_post(path)[0]


def cmd_check(args: argparse.Namespace) -> int:
    """Validate post files locally, as ingest would; a file that is not a post is never valid."""
    failures = 0
    for name in args.files:
        problems, warnings = check_post(Path(name))
        for line in problems + warnings:
            print(line)
        failures += bool(problems)
    count = len(args.files)
    print(f"{count - failures} of {count} file(s) valid", file=sys.stderr)
    return 1 if failures else 0


# Folders whose files are posts, as generators lay them out (Hugo's `content/post` too) -> where
# they go in the bucket. Jekyll's drafts keep their folder: a post under posts/_drafts/ is never public.
POST_FOLDERS = {"posts": posts.POSTS_PREFIX, "post": posts.POSTS_PREFIX, "_posts": posts.POSTS_PREFIX,
                "_drafts": f"{posts.POSTS_PREFIX}_drafts/"}


def source_key_for(path: Path) -> str:
    """The bucket key of a post file: its path below a posts, post, _posts or _drafts folder, else
    posts/<name> (posts/<folder>/index.md for a Hugo bundle, which its folder names)."""
    folders = path.resolve().parts[:-1]
    for at in range(len(folders) - 1, -1, -1):
        if folders[at] in POST_FOLDERS:
            return POST_FOLDERS[folders[at]] + "/".join((*folders[at + 1:], path.name))
    if path.stem in ("index", "_index") and folders:
        return f"{posts.POSTS_PREFIX}{folders[-1]}/{path.name}"
    return f"{posts.POSTS_PREFIX}{path.name}"


def assets_for(path: Path) -> list[tuple[Path, str]]:
    """A post's files: content/assets/<slug>/*, or the other files of a Hugo bundle folder."""
    slug = posts.slug_from_key(source_key_for(path))
    found: list[Path] = []
    if path.stem == "index" and path.suffix.lower() in posts.SOURCE_SUFFIXES:
        found = [p for p in path.parent.iterdir() if p.is_file() and p.suffix.lower() not in posts.SOURCE_SUFFIXES]
    else:
        for folder in (path.parent.parent / "assets" / slug, path.parent / slug):
            if folder.is_dir():
                found = [p for p in folder.iterdir() if p.is_file()]
                break
    return [(p, f"assets/{slug}/{p.name}") for p in sorted(found)]


def cmd_publish(args: argparse.Namespace) -> int:
    """Check, then upload posts with their assets; invalid posts are not uploaded."""
    from chalicelib import services
    from blogctl.publishing import upload

    sources: list[Path] = []
    for name in args.paths:
        path = Path(name)
        sources += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    uploads: list[tuple[Path, str]] = []
    rejected = 0
    for source in sources:
        problems = check_file(source)
        if problems:
            rejected += 1
            print("\n".join(problems), file=sys.stderr)
            continue
        uploads += assets_for(source)
        uploads.append((source, source_key_for(source)))
    connect(args)
    progress = _progress(len(uploads))
    written = upload(services.content(), uploads, progress=lambda key: progress.update(1))
    progress.close()
    bucket = services.content().bucket
    for key in written:
        if key.startswith(posts.POSTS_PREFIX):
            print(f"uploaded s3://{bucket}/{key}")
    print(f"{len(written)} file(s) uploaded, {rejected} post(s) rejected", file=sys.stderr)
    return 1 if rejected else 0


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="file", disable=total < 2 or not sys.stderr.isatty(), file=sys.stderr)


def status_rows(items: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, str]]:
    """One row per source the index knows: slug, status, date, title, error (sorted: problems first)."""
    from chalicelib import model

    rows = []
    for item in items:
        if "shard" not in item:  # only posts, tombstones and rejections carry a source
            continue
        state = model.source_state(item)
        if isinstance(state, model.PostRecord):
            slug, status = state.slug, state.status_now(now).value
            date, title, key = state.card.date[:10], state.card.title, state.source.key
            warnings = "; ".join(state.warnings)
        elif isinstance(state, model.Tombstone):
            slug, status, date, title, key, warnings = state.slug, "deleted", "", "", state.source_key, ""
        else:
            key = state.source_key
            slug, status, date, title, warnings = posts.slug_from_key(key), "error", "", "", ""
        rows.append({"slug": slug, "status": status, "date": date, "title": title, "source": key,
                     "error": state.error.message if state.error else "", "warnings": warnings})
    return sorted(rows, key=lambda r: (0 if r["error"] else 1, STATUS_ORDER.get(r["status"], 9), r["date"]))


def cmd_status(args: argparse.Namespace) -> int:
    """Every post with its state; errors show the text editors need to fix them. Exit 1 while any is in error."""
    from chalicelib import services

    connect(args)
    now = dt.datetime.now(dt.timezone.utc)
    rows = status_rows(list(services.index().scan()), now)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        if not rows:
            print("no posts yet")
        for row in rows:
            print(f"{row['status']:<10} {row['date']:<10} {row['slug']:<40} {row['title']}")
            if row["error"]:
                kept = " (the last good version stays online)" if row["status"] != "error" else ""
                print(f"{'':<10} error in {row['source']}: {row['error']}{kept}")
            if row["warnings"]:
                print(f"{'':<10} warning: {row['warnings']}")
        report = services.index().get_site().get("report")
        if report:
            print(f"\nlast rebuild that changed something: {report['started_at']} "
                  f"({report['writes']} write(s), {report.get('failures', 0)} failure(s))")
    return 1 if any(row["error"] for row in rows) else 0


def _source_key(slug: str) -> str:
    from chalicelib import services
    from chalicelib.model import PostRecord, Tombstone

    found = services.index().post(slug)
    if isinstance(found, PostRecord):
        return found.source.key
    if isinstance(found, Tombstone):
        return found.source_key
    return f"{posts.POSTS_PREFIX}{slug}{posts.SOURCE_SUFFIX}"


def cmd_history(args: argparse.Namespace) -> int:
    """The versions of a post's source in the bucket, newest first."""
    from chalicelib import services

    connect(args)
    key = _source_key(args.slug)
    versions = services.content().versions(key)
    if not versions:
        print(f"no versions of {key}", file=sys.stderr)
        return 1
    from chalicelib.model import PostRecord

    found = services.index().post(args.slug)
    served = found.source.version_id if isinstance(found, PostRecord) else None
    for v in versions:
        marks = [m for m, on in (("current", v.is_latest), ("deleted", v.deleted),
                                 ("served", v.version_id == served)) if on]
        print(f"{v.version_id}  {v.mtime[:19]}  {v.size:>8} bytes  {', '.join(marks)}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Make an old version of a post current again (a new version; history is kept)."""
    from chalicelib import services

    connect(args)
    key = _source_key(args.slug)
    known = {v.version_id: v for v in services.content().versions(key)}
    if args.version not in known or known[args.version].deleted:
        print(f"error: {key} has no version {args.version} (see `blogctl history {args.slug}`)", file=sys.stderr)
        return 1
    new_version = services.content().restore(key, args.version)
    print(f"{key}: version {args.version} restored as {new_version}; ingest publishes it within seconds")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Run the scheduled rebuild now and print its report."""
    from chalicelib import services

    connect(args)
    report = services.run_rebuild()
    print(json.dumps(report.as_dict(), indent=2))
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Create or update the stage's bucket, table, queues and notification."""
    from chalicelib import aws
    from blogctl.resources import Names, ensure_resources, plan

    stage = load_stage(args.stage or "dev")
    names = Names(stage.bucket, stage.table, stage.queue, stage.region if args.stage else "us-east-1")
    timeout = stage.function_setting("ingest_uploads", "lambda_timeout", 60)
    if args.dry_run:
        print("\n".join(f"would ensure: {step}" for step in plan(names, timeout)))
        return 0
    connect(args)
    done = ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names, timeout)
    print("\n".join(done) or "everything was already in place")
    return 0


def cmd_css(args: argparse.Namespace) -> int:
    """Regenerate chalicelib/static/pygments.css from the installed Pygments."""
    from chalicelib import render

    target = PROJECT_DIR / "chalicelib" / "static" / "pygments.css"
    target.write_text(render.pygments_css(), encoding="utf-8")
    print(target)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per task."""
    root = argparse.ArgumentParser(prog="blogctl", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stage", help="a stage of .chalice/config.json: talk to AWS, not the local stack")
    common.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", DEFAULT_AWS_PORT)),
                        help="the local stack's port (default $AWS_PORT or 4566)")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler, help_text: str, parents=(common,)) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=list(parents))
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", cmd_serve, "run the local stack and serve the blog (make run)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    serve.add_argument("--no-autoreload", action="store_true", help="do not restart on code changes")
    new = add("new", cmd_new, "scaffold a new post (a draft until you set draft: false)", parents=())
    new.add_argument("title")
    new.add_argument("--tags", help="comma-separated tags")
    new.add_argument("--dir", default=str(PROJECT_DIR / "content" / "posts"))
    new.add_argument("--ready", action="store_true", help="not a draft: publish on upload")
    check = add("check", cmd_check, "validate post files; exit 1 with line-numbered errors", parents=())
    check.add_argument("files", nargs="+")
    publish = add("publish", cmd_publish, "check and upload posts (files or folders) and their assets")
    publish.add_argument("paths", nargs="+")
    site = add("import", _later("importer", "cmd_import"),
               "import a Hugo, Jekyll or Pelican site folder: posts, images and files as they are, old URLs kept")
    site.add_argument("site_dir", help="the old site's folder (with its hugo.toml, _config.yml or pelicanconf.py)")
    site.add_argument("--json", action="store_true", help="print the report as JSON")
    site.add_argument("--no-wait", action="store_true", help="upload, but do not wait for ingest")
    site.add_argument("--check", metavar="BLOG_URL",
                      help="then visit every old URL, image and link between posts on the blog at this address")
    status = add("status", cmd_status, "every post: published, draft, scheduled or error (with the error)")
    status.add_argument("--json", action="store_true")
    history = add("history", cmd_history, "versions of a post's source")
    history.add_argument("slug")
    rollback = add("rollback", cmd_rollback, "make an old version of a post current again")
    rollback.add_argument("slug")
    rollback.add_argument("version")
    add("rebuild", cmd_rebuild, "run the scheduled rebuild now")
    replay = add("replay-dlq", _later("operations", "cmd_replay_dlq"),
                 "send the dead-letter queue's messages back to the upload queue (ingest retries them)")
    replay.add_argument("--max", type=int, help="move at most this many (default 1000)")
    replay.add_argument("--dry-run", action="store_true", help="only say how many are waiting")
    setup = add("setup", cmd_setup, "create or update the stage's AWS resources (idempotent)")
    setup.add_argument("--dry-run", action="store_true", help="print what would be ensured; call nothing")
    add("css", cmd_css, "regenerate the syntax highlighting stylesheet", parents=())
    on_aws = argparse.ArgumentParser(add_help=False)
    on_aws.add_argument("--stage", required=True, help="a stage of .chalice/config.json")
    on_aws.add_argument("--dry-run", action="store_true", help="print every step; call nothing")
    add("deploy", _later("deploy", "cmd_deploy"), "set up the stage's resources on AWS, then chalice deploy",
        parents=(on_aws,))
    add("destroy", _later("deploy", "cmd_destroy"), "chalice delete; the bucket, table and queues are kept",
        parents=(on_aws,))
    package = add("package", _later("deploy", "cmd_package"),
                  "chalice package, then cfn-lint and the zip's size", parents=(on_aws,))
    package.add_argument("--out", help="where the template and zip go (default build/<stage>)")
    policy = add("policy", _later("policy", "cmd_policy"), "write .chalice/policy-<stage>.json from config.json",
                 parents=())
    policy.add_argument("--stage", help="only this stage (default: every stage)")
    cost = add("cost", _later("cost", "cmd_cost"), "measure AWS calls per view on moto; print the cost model",
               parents=())
    cost.add_argument("--cdn-hit-ratio", type=float, help="share of views CloudFront answers (default 0.95)")
    return root


def _later(module: str, name: str):
    """A handler from a blogctl module imported when it runs (these import boto3 or moto)."""
    def handler(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(f"blogctl.{module}"), name)(args)
    return handler


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status."""
    args = parser().parse_args(argv)
    return args.handler(args)
