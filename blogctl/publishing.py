"""Uploading posts and assets from a folder laid out like the bucket."""
from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path

from chalicelib.posts import POSTS_PREFIX, SOURCE_SUFFIX
from chalicelib.store import ContentStore

ASSETS_PREFIX = "assets/"
MARKDOWN_TYPE = "text/markdown; charset=utf-8"


def bucket_key(path: Path, root: Path) -> str:
    """The key a file under `root` (a folder with posts/ and assets/) is uploaded to."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def files_to_publish(root: Path) -> list[Path]:
    """Every post source and asset below a content folder, posts last (so their images exist first)."""
    assets = sorted(p for p in (root / "assets").rglob("*") if p.is_file()) if (root / "assets").is_dir() else []
    sources = sorted((root / "posts").rglob(f"*{SOURCE_SUFFIX}")) if (root / "posts").is_dir() else []
    return [*assets, *sources]


def content_type(path: Path) -> str:
    """What the object's Content-Type is set to."""
    if path.suffix == SOURCE_SUFFIX:
        return MARKDOWN_TYPE
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def upload(content: ContentStore, files: Iterable[tuple[Path, str]],
           progress: Callable[[str], None] = lambda key: None) -> list[str]:
    """Upload (file, key) pairs; return the keys written."""
    written = []
    for path, key in files:
        if not (key.startswith(POSTS_PREFIX) or key.startswith(ASSETS_PREFIX)):
            raise ValueError(f"{key}: only posts/ and assets/ are published")
        content.put(key, path.read_bytes(), content_type(path))
        written.append(key)
        progress(key)
    return written


def upload_tree(content: ContentStore, root: Path) -> list[str]:
    """Upload a whole content folder (the local stack's sample posts)."""
    return upload(content, ((p, bucket_key(p, root)) for p in files_to_publish(root)))
