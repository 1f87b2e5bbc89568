"""blogctl: the editor's and operator's command line.

    python -m blogctl new "My first post"       scaffold content/posts/my-first-post.md
    python -m blogctl check content/posts/*.md  validate, with line numbers; exit 1 on errors
    python -m blogctl publish content/posts/my-first-post.md   waits: live, draft, scheduled or error
    python -m blogctl preview my-first-post     a signed link to a draft, valid 24 hours (--for 7d)
    python -m blogctl import ../old-site           a whole Hugo, Jekyll or Pelican site, old URLs kept
    python -m blogctl status                    every post: published, draft, scheduled, error
    python -m blogctl history SLUG / rollback SLUG VERSION / rebuild / replay-dlq
    python -m blogctl reindex                   start the search index over (then the rebuild merges it)
    python -m blogctl serve                     the local stack (`make run`)

Commands talk to the local stack (http://127.0.0.1:$AWS_PORT) unless `--stage NAME`
names a stage of .chalice/config.json: then they talk to AWS with your credentials.
When they cannot (no stack, another port, an unknown stage, no credentials, no network)
they say so in one line and exit non-zero (blogctl/connection.py).
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

from blogctl.connection import CommandError
from blogctl.publishing import PUBLISH_TIMEOUT_SECONDS
from blogctl.stage import PROJECT_DIR, load_stage
from chalicelib import posts
from chalicelib.errors import InvalidPost

DEFAULT_AWS_PORT = 4566
DEFAULT_PORT = 8000
STATUS_ORDER = {"error": 0, "scheduled": 1, "draft": 2, "published": 3, "expired": 4, "deleted": 5, "skipped": 6}


def connect(args: argparse.Namespace, require_bucket: bool = True) -> None:
    """Point chalicelib at the local stack, or at AWS for `--stage`; CommandError if it is not there.

    Only `setup` passes require_bucket=False: it is what creates the bucket.
    """
    import boto3

    from chalicelib import aws, config, services
    from blogctl import connection
    from blogctl.localstack import local_environment

    if args.stage:
        stage = load_stage(args.stage)
        os.environ.update(stage.env)
        # The stage's region and no other (blogctl/target.py): a stray AWS_REGION must not win.
        os.environ.update({"AWS_REGION": stage.region, "AWS_DEFAULT_REGION": stage.region})
    else:
        os.environ.update(local_environment("dev", args.aws_port, args.port))
    services.reset()
    if not require_bucket:
        if not args.stage:
            connection.check_local_port(args.aws_port)
        return
    bucket = config.get_settings().bucket
    if args.stage:
        connection.check_aws(args.stage, boto3.session.Session(), aws.client("s3"), bucket, stage.region)
    else:
        connection.check_local(args.aws_port, aws.client("s3"), bucket)


def site_url(args: argparse.Namespace) -> str:
    """Where readers find the blog, for the links commands print ('' when unknown)."""
    if not args.stage:
        return f"http://127.0.0.1:{args.port}"
    from blogctl import preflight

    stage = load_stage(args.stage)
    if stage.site_url:
        return stage.site_url
    api = next((str(r["rest_api_url"]) for r in preflight.deployed_record(stage).get("resources", [])
                if r.get("resource_type") == "rest_api"), "")
    return api.rstrip("/")


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the local stack and the blog until Ctrl-C."""
    from blogctl import localstack

    return localstack.main(args.port, args.aws_port, "dev", autoreload=not args.no_autoreload,
                           state_dir=Path(args.state_dir) if args.state_dir else None, fresh=args.fresh)


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
    problems, warnings, _ = parse_file(path)
    return problems, warnings


def parse_file(path: Path) -> tuple[list[str], list[str], posts.Post | None]:
    """(problems, warnings, the post when valid) of one post file, as ingest would see it."""
    key = source_key_for(path)
    not_post = posts.post_key_problem(key)
    if not_post:
        return [f"{path}: not a post file: {not_post}"], [], None
    try:
        data = path.read_bytes()
    except OSError as err:
        return [f"{path}: cannot read: {err.strerror}"], [], None
    try:
        post = posts.parse_post(key, data)
    except InvalidPost as err:
        return [f"{path}:{p.line or 1}: {p.message}" for p in err.problems], [], None
    return [], [f"{path}: warning: {warning}" for warning in post.warnings], post


def check_file(path: Path) -> list[str]:
    """Problems of one post file, as 'path:line: message' lines (empty when valid)."""
    return check_post(path)[0]


def content_root(path: Path) -> Path:
    """The folder holding a post file's posts folder (`content/` for content/posts/x.md)."""
    folders = path.resolve().parents
    return next((folder.parent for folder in folders if folder.name in POST_FOLDERS), path.resolve().parent)


def slugs_on_disk(paths: list[Path]) -> set[str]:
    """The slugs the post files beside these imply by their names (what `check` knows without the blog)."""
    from blogctl.publishing import post_files

    roots = {content_root(p) for p in paths}
    found: set[str] = set()
    for root in roots:
        for folder in (root / name for name in POST_FOLDERS):
            if folder.is_dir():
                found.update(posts.slug_from_key(source_key_for(p)) for p in post_files(folder))
    return found


def reference_findings(path: Path, post: posts.Post, known: Any) -> list[Any]:
    """The post's images and links to other posts that go nowhere (blogctl/references.py)."""
    from blogctl import references

    return references.check_references(path, path.read_bytes(), post.source_key, post.slug,
                                       references.asset_names(assets_for(path)), known, content_root(path))


def cmd_check(args: argparse.Namespace) -> int:
    """Validate post files locally, as ingest would, and what they refer to; a non-post file is never valid."""
    from blogctl.references import Known

    failures = 0
    paths = [Path(name) for name in args.files]
    known = Known(on_disk=slugs_on_disk(paths))
    for path in paths:
        problems, warnings, post = parse_file(path)
        findings = reference_findings(path, post, known) if post is not None else []
        problems += [str(f) for f in findings if f.fatal]
        warnings += [str(f) for f in findings if not f.fatal]
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


def post_sources(names: list[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The post files named, folders walked for every Markdown extension; and the folders' other files skipped."""
    from blogctl.publishing import post_files

    sources: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for name in names:
        path = Path(name)
        if not path.is_dir():
            sources.append(path)
            continue
        for found in post_files(path):
            why = posts.post_key_problem(source_key_for(found))
            if why:
                skipped.append((found, why))  # a Hugo _index.md: part of the folder, not a post
            else:
                sources.append(found)
    return list(dict.fromkeys(sources)), skipped


def known_to_the_blog(publishing: set[str], site: str) -> Any:
    """What `publish` asks the blog about references the disk cannot answer."""
    from chalicelib import model, services
    from blogctl.references import Known

    def post_status(slug: str) -> str | None:
        found = services.index().post(slug)
        if isinstance(found, model.PostRecord):
            return found.status_now(dt.datetime.now(dt.timezone.utc)).value
        return found.status.value if found is not None else None

    def old_url(path: str) -> bool:
        redirect = services.index().redirect(path)
        return redirect is not None and redirect.public

    from urllib.parse import urlsplit

    return Known(asset=lambda key: services.content().head(key) is not None, post=post_status, old_url=old_url,
                 publishing=publishing, site_hosts={urlsplit(site).netloc.lower()} - {""})


def cmd_publish(args: argparse.Namespace) -> int:
    """Check, upload posts with their assets, then wait for each post's outcome and say it."""
    from chalicelib import services
    from blogctl import publishing

    sources, skipped = post_sources(args.paths)
    for path, why in skipped:
        print(f"{'skipped':<10} {path}: not a post ({why})", file=sys.stderr)
    valid: list[tuple[Path, posts.Post]] = []
    rejected = 0
    for source in sources:
        problems, warnings, post = parse_file(source)
        for line in problems:
            print(f"{'error':<10} {line}")
        for line in warnings:
            print(f"{'':<10} {line}")
        if post is None:
            print(f"{'':<10} not uploaded: fix the file and publish it again")
            rejected += 1
        else:
            valid.append((source, post))
    if not valid:
        print(f"nothing to upload; {rejected} file(s) rejected", file=sys.stderr)
        return 1 if rejected or not sources else 0
    connect(args)
    base = site_url(args)
    known = known_to_the_blog({post.slug for _, post in valid}, base)
    uploads: list[tuple[Path, str]] = []
    posts_to_wait: list[tuple[Path, str]] = []
    for source, post in valid:
        findings = reference_findings(source, post, known)
        for finding in findings:
            print(f"{'error' if finding.fatal else '':<10} {finding}")
        if any(f.fatal for f in findings):
            print(f"{'':<10} not uploaded: fix the file and publish it again")
            rejected += 1
            continue
        uploads += assets_for(source)
        posts_to_wait.append((source, source_key_for(source)))
    progress = _progress(len(uploads) + len(posts_to_wait))
    content = services.content()
    publishing.upload(content, list(dict.fromkeys(uploads)), progress=lambda key: progress.update(1))
    written = publishing.upload(content, posts_to_wait, progress=lambda key: progress.update(1))
    progress.close()
    uploaded = [publishing.Uploaded(path, ref.key, ref.identity) for (path, _), ref in zip(posts_to_wait, written)]
    outcomes = publishing.wait_for_outcomes(services.index(), uploaded, lambda: dt.datetime.now(dt.timezone.utc),
                                            timeout=args.timeout)
    for outcome in outcomes:
        for line in outcome_lines(outcome, base, lambda slug: preview_link(slug, base), args.timeout):
            print(line)
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("published", "draft", "scheduled", "expired", "error", "waiting")}
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    print(f"{len(written)} post(s) uploaded ({said or 'none'}), {len(set(uploads))} asset(s); "
          f"{rejected} file(s) not uploaded", file=sys.stderr)
    return 1 if rejected or any(o.failed for o in outcomes) else 0


def when(utc_text: str) -> str:
    """A stored UTC time for people: '2099-01-01 09:00 UTC'."""
    return utc_text.replace("T", " ")[:16] + " UTC"


def outcome_lines(outcome: Any, base: str, preview: Any, timeout: float) -> list[str]:
    """What `publish` says about one post: live at URL, draft or scheduled with a preview link, or the error."""
    path, slug = outcome.uploaded.path, outcome.slug
    if outcome.status == "published":
        lines = [f"{'live':<10} {path} → {base}/posts/{slug}"]
    elif outcome.status in ("draft", "scheduled"):
        state = "a draft, not public" if outcome.status == "draft" else f"goes live {when(outcome.visible_from)}"
        link, until = preview(slug)
        shown = f"preview (until {until}): {link}" if link else until
        lines = [f"{outcome.status:<10} {path}: {state}; {shown}"]
    elif outcome.status == "expired":
        lines = [f"{'expired':<10} {path}: past its expiryDate, not public"]
    elif outcome.status == "error":
        lines = [f"{'error':<10} {problem}" for problem in outcome.problems]
        lines.append(f"{'':<10} " + (f"the last good version stays online: {base}/posts/{slug}" if outcome.kept
                                     else "nothing from this file is online"))
    else:
        lines = [f"{'waiting':<10} {path}: uploaded, but ingest gave no answer in {timeout:g} s (is the local "
                 "stack or the queue's trigger running?); `blogctl status` shows it once it does"]
    return lines + [f"{'':<10} warning: {w}" for w in outcome.warnings]


def preview_link(slug: str, base: str, seconds: int | None = None) -> tuple[str, str]:
    """(a signed preview URL for `slug`, when it stops working); ('', why not) without a secret."""
    import time

    from chalicelib import preview, services

    try:
        secret = services.preview_secret().read()
    except KeyError:
        return "", "no preview secret yet: run `blogctl setup` for this stage"
    expires = int(time.time()) + (seconds or preview.DEFAULT_SECONDS)
    return base + preview.path(slug, preview.sign(secret, slug, expires)), preview.expiry_text(expires)


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
        else:  # a source that never published; a skipped one (not a post) is a note, not an error
            key = state.source_key
            slug, status, date, title = posts.slug_from_key(key), state.status.value, "", ""
            warnings = state.error.message if state.skipped else ""
        error = state.error.message if state.error and state.status is not model.Status.SKIPPED else ""
        rows.append({"slug": slug, "status": status, "date": date, "title": title, "source": key,
                     "error": error, "warnings": warnings})
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


def cmd_preview(args: argparse.Namespace) -> int:
    """Print a signed, expiring link that shows a draft, scheduled or rejected post; or rotate the secret."""
    from chalicelib import model, preview, services

    if not args.slug and not args.rotate:
        raise CommandError("name the post: `blogctl preview SLUG [--for 24h]` (or `blogctl preview --rotate`)", 2)
    try:
        seconds = preview.parse_duration(args.duration)
    except ValueError as err:
        raise CommandError(str(err), 2) from None
    connect(args)
    if args.rotate:
        services.preview_secret().replace(preview.new_secret())
        print(f"rotated {services.preview_secret().name}: every preview link stops working within "
              f"{preview.SECRET_TTL_SECONDS} s", file=sys.stderr)
        if not args.slug:
            return 0
    found: Any = services.index().post(args.slug)
    if found is None or (isinstance(found, model.Tombstone) and found.error is None):
        rejected = services.index().get_many(model.rejection_key(k) for k in preview.source_keys(args.slug))
        found = next((model.SourceRejection.from_item(i) for i in rejected.values()), found)
    if found is None or (isinstance(found, model.Tombstone) and found.error is None):
        raise CommandError(f"no post '{args.slug}' to preview" + (" (it was deleted)" if found else "")
                           + ": `blogctl status` lists them")
    base = site_url(args)
    link, until = preview_link(args.slug, base, seconds)
    if not link:
        raise CommandError(until)
    if found.error is not None:
        state = "its latest upload was rejected: the link shows that upload and why"
    else:
        status = found.status_now(dt.datetime.now(dt.timezone.utc)).value
        state = {"draft": "a draft", "scheduled": f"scheduled for {when(found.visible_from)}",
                 "published": f"published (readers see it at {base}/posts/{args.slug})"}.get(status, status)
    print(link)
    print(f"{args.slug}: {state}; the link works until {until} for whoever has it", file=sys.stderr)
    return 0


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
    connect(args, require_bucket=False)
    done = ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names, timeout,
                            ssm=aws.client("ssm"))
    print("\n".join(done) or "everything was already in place")
    return 0


def cmd_css(args: argparse.Namespace) -> int:
    """Regenerate chalicelib/static/pygments.css from the installed Pygments."""
    from chalicelib import highlighting

    target = PROJECT_DIR / "chalicelib" / "static" / "pygments.css"
    target.write_text(highlighting.pygments_css(), encoding="utf-8")
    print(target)
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    """Regenerate chalicelib/templates_compiled/ (the templates compiled ahead of time) from chalicelib/templates/."""
    from chalicelib import compiled, templates

    expected = compiled.expected_modules(templates.environment(), templates.template_names())
    compiled.COMPILED_DIR.mkdir(exist_ok=True)
    for stale in set(compiled.COMPILED_DIR.glob("*.py")) - set(expected):
        stale.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")
    print(compiled.COMPILED_DIR)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per task."""
    root = argparse.ArgumentParser(prog="blogctl", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stage", help="a stage of .chalice/config.json: talk to AWS, not the local stack")
    common.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", DEFAULT_AWS_PORT)),
                        help="the local stack's port (default $AWS_PORT or 4566)")
    common.add_argument("--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)),
                        help="the local blog's port, for the links printed (default $PORT or 8000)")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler, help_text: str, parents=(common,)) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=list(parents))
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", cmd_serve, "run the local stack and serve the blog (make run)")
    serve.add_argument("--no-autoreload", action="store_true", help="do not restart on code changes")
    serve.add_argument("--state-dir", help="keep the bucket, index and queues here across restarts "
                                           "(make run: .local/state); without it, nothing is kept")
    serve.add_argument("--fresh", action="store_true", help="start from scratch: forget what --state-dir kept")
    new = add("new", cmd_new, "scaffold a new post (a draft until you set draft: false)", parents=())
    new.add_argument("title")
    new.add_argument("--tags", help="comma-separated tags")
    new.add_argument("--dir", default=str(PROJECT_DIR / "content" / "posts"))
    new.add_argument("--ready", action="store_true", help="not a draft: publish on upload")
    check = add("check", cmd_check, "validate post files; exit 1 with line-numbered errors", parents=())
    check.add_argument("files", nargs="+")
    publish = add("publish", cmd_publish, "check and upload posts (files or folders) and their assets, "
                                          "then say what became of each: live, draft, scheduled or error")
    publish.add_argument("paths", nargs="+")
    publish.add_argument("--timeout", type=float, default=PUBLISH_TIMEOUT_SECONDS,
                         help=f"seconds to wait for ingest's answer (default {PUBLISH_TIMEOUT_SECONDS})")
    preview = add("preview", cmd_preview, "print a signed, expiring link that shows a draft or scheduled post")
    preview.add_argument("slug", nargs="?")
    preview.add_argument("--for", dest="duration", default="24h", help="how long the link works: 30m, 24h, 7d "
                                                                       "(default 24h, at most 30d)")
    preview.add_argument("--rotate", action="store_true", help="replace the secret: every link given out stops working")
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
    add("reindex", _later("reindex", "cmd_reindex"),
        "start the search index over: rebuild its queue's table index if out of date, give every search "
        "record its document id and queue it; the scheduled rebuild (or `blogctl rebuild`) then merges it")
    setup = add("setup", cmd_setup, "create or update the stage's AWS resources (idempotent)")
    setup.add_argument("--dry-run", action="store_true", help="print what would be ensured; call nothing")
    add("css", cmd_css, "regenerate the syntax highlighting stylesheet", parents=())
    add("templates", cmd_templates, "regenerate the compiled templates (after editing chalicelib/templates/)",
        parents=())
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
    """Run one command; return its exit status. What stops it is one line on stderr, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from blogctl.connection import explain

    args = parser().parse_args(argv)
    stage = getattr(args, "stage", None)
    if stage:
        try:
            load_stage(stage)
        except ValueError as err:
            print(f"error: {err}; pass one of those to --stage", file=sys.stderr)
            return 2
    try:
        return args.handler(args)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    except (BotoCoreError, ClientError) as err:
        print(f"error: {explain(err, stage, getattr(args, 'aws_port', None))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
