"""Uploading posts and assets, and learning what became of each upload.

An upload to S3 succeeds whatever the file holds: whether the post went live, stayed a
draft, was scheduled or was rejected is ingest's answer, written to the index in seconds.
`wait_for_outcomes` waits for that answer by the version uploaded: a source's state in the
index carries `seen_id`, the S3 VersionId ingest last looked at, so an answer about an
older upload is never mistaken for this one's.
"""
from __future__ import annotations

import datetime as dt
import mimetypes
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from chalicelib import model
from chalicelib.posts import POSTS_PREFIX, SOURCE_SUFFIXES
from chalicelib.store import ContentStore, PostIndex, SourceRef

ASSETS_PREFIX = "assets/"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
# Ingest answers within seconds (the local stack's pump, Lambda's queue trigger); past this,
# `publish` stops waiting and says so rather than hang.
PUBLISH_TIMEOUT_SECONDS = 60
FIRST_POLL_SECONDS = 0.1
MAX_POLL_SECONDS = 2.0  # polls slow down while waiting: one Query per pending file per poll
_LINE_RE = re.compile(r"^line ([0-9]+): (.*)$", re.DOTALL)


def bucket_key(path: Path, root: Path) -> str:
    """The key a file under `root` (a folder with posts/ and assets/) is uploaded to."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def post_files(folder: Path) -> list[Path]:
    """Every file below `folder` with a Markdown extension a post may have (posts.SOURCE_SUFFIXES)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES)


def files_to_publish(root: Path) -> list[Path]:
    """Every post source and asset below a content folder, posts last (so their images exist first)."""
    assets = sorted(p for p in (root / "assets").rglob("*") if p.is_file()) if (root / "assets").is_dir() else []
    sources = post_files(root / "posts") if (root / "posts").is_dir() else []
    return [*assets, *sources]


def content_type(path: Path) -> str:
    """What the object's Content-Type is set to."""
    if path.suffix.lower() in SOURCE_SUFFIXES:
        return MARKDOWN_TYPE
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def upload(content: ContentStore, files: Iterable[tuple[Path, str]],
           progress: Callable[[str], None] = lambda key: None) -> list[SourceRef]:
    """Upload (file, key) pairs; return the versions written."""
    written = []
    for path, key in files:
        if not (key.startswith(POSTS_PREFIX) or key.startswith(ASSETS_PREFIX)):
            raise ValueError(f"{key}: only posts/ and assets/ are published")
        written.append(content.put(key, path.read_bytes(), content_type(path)))
        progress(key)
    return written


def upload_tree(content: ContentStore, root: Path) -> list[SourceRef]:
    """Upload a whole content folder (the local stack's sample posts)."""
    return upload(content, ((p, bucket_key(p, root)) for p in files_to_publish(root)))


@dataclass(frozen=True)
class Uploaded:
    """One post file uploaded: where from, where to, and the version S3 gave it."""

    path: Path
    key: str
    version: str  # the VersionId (the ETag in an unversioned bucket): SourceRef.identity


@dataclass(frozen=True)
class Outcome:
    """What ingest made of one upload."""

    uploaded: Uploaded
    status: str  # published | draft | scheduled | expired | error | waiting (no answer in time)
    slug: str = ""
    visible_from: str = ""  # UTC, when readers first see it
    problems: tuple[str, ...] = ()  # 'path:line: message' lines
    kept: bool = False  # an error, and the last good version stays online
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Did this upload not do what the editor meant (rejected, or no answer)?"""
        return self.status in ("error", "waiting")


def located(path: Path, problem: str) -> str:
    """'line 3: message' as the editor's 'path:3: message'."""
    found = _LINE_RE.match(problem)
    return f"{path}:{found.group(1)}: {found.group(2)}" if found else f"{path}: {problem}"


def outcome_of(uploaded: Uploaded, state: model.SourceState, now: dt.datetime) -> Outcome:
    """The outcome a source state (which has seen this upload) stands for."""
    if state.error is not None:
        problems = tuple(located(uploaded.path, p) for p in state.error.problems or (state.error.message,))
        return Outcome(uploaded, "error", getattr(state, "slug", ""), problems=problems,
                       kept=isinstance(state, model.PostRecord))
    assert isinstance(state, model.PostRecord)  # a tombstone or rejection always carries its error
    return Outcome(uploaded, state.status_now(now).value, state.slug, state.visible_from,
                   warnings=state.warnings)


def wait_for_outcomes(index: PostIndex, uploads: list[Uploaded], clock: Callable[[], dt.datetime],
                      timeout: float = PUBLISH_TIMEOUT_SECONDS, sleep: Callable[[float], None] = time.sleep,
                      ticks: Callable[[], float] = time.monotonic) -> list[Outcome]:
    """Each upload's outcome, in order, once ingest has seen its version (`waiting` after `timeout`)."""
    found: dict[str, Outcome] = {}
    deadline, pause = ticks() + timeout, FIRST_POLL_SECONDS
    while True:
        for uploaded in uploads:
            if uploaded.key in found:
                continue
            seen = [s for s in index.source_states(uploaded.key) if s.seen_id == uploaded.version]
            state = model.primary_state(seen)
            if state is not None:
                found[uploaded.key] = outcome_of(uploaded, state, clock())
        if len(found) == len(uploads) or ticks() >= deadline:
            break
        sleep(min(pause, max(0.0, deadline - ticks())))
        pause = min(pause * 2, MAX_POLL_SECONDS)
    return [found.get(u.key) or Outcome(u, "waiting") for u in uploads]
