"""What a post refers to, checked before it is uploaded: its images and its links to other posts.

A post's images are its own files (`content/assets/<slug>/<file>`, or the files beside a
Hugo bundle's index.md, uploaded to `assets/<slug>/<file>`) or another post's
(`/assets/<slug>/<file>`). A link to another post is `/posts/<slug>` (or the blog's full URL
of it) or a relative link to its Markdown file. Each reference is found by rendering the
body exactly as ingest does (render.Rendered's `images` and `links`, as the author wrote
them) and is reported on the line where it is written.

`check` knows only the files on disk; `publish` also asks the blog (`Known`): an image
already in the bucket and a post already in the index are fine.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from chalicelib import model, posts, render
from chalicelib.errors import InvalidPost

ASSETS_FOLDER = "assets"
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_POST_PATH_RE = re.compile(r"^/posts/([^/?#]+)/?(?:[?#].*)?$")
_ASSET_PATH_RE = re.compile(r"^/assets/([^/?#]+)/([^?#]+)(?:[?#].*)?$")


@dataclass(frozen=True)
class Finding:
    """One problem (or warning) with a reference, on the line it is written."""

    path: Path
    line: int
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'' if self.fatal else 'warning: '}{self.message}"


@dataclass
class Known:
    """What the blog already holds, asked only about references the disk cannot answer.

    `asset(key)` says whether the bucket has that key; `post(slug)` gives the post's status
    ('published', 'draft', 'deleted', ...) or None; `old_url(path)` says whether a path
    redirects to a post. Without a connection (`blogctl check`) they are None.
    """

    asset: Callable[[str], bool] | None = None
    post: Callable[[str], str | None] | None = None
    old_url: Callable[[str], bool] | None = None
    publishing: set[str] = field(default_factory=set)  # slugs uploaded in the same run
    on_disk: set[str] = field(default_factory=set)     # slugs of the other post files beside them
    site_hosts: set[str] = field(default_factory=set)  # full URLs to these hosts are the blog's own


def line_of(needle: str, text: str, start_line: int) -> int:
    """The first line at or after `start_line` that holds `needle` (as written or %-encoded); else start_line."""
    lines = text.split("\n")
    spellings = {needle, needle.replace(" ", "%20"), needle.replace("&", "&amp;")}
    for number in range(start_line - 1, len(lines)):
        if any(s and s in lines[number] for s in spellings):
            return number + 1
    return start_line


def body_line(text: str, body: str) -> int:
    """The line the Markdown body starts on in the source text."""
    at = text.rfind(body) if body else -1
    return text[:at].count("\n") + 1 if at >= 0 else 1


def asset_names(assets: Iterable[tuple[Path, str]]) -> set[str]:
    """The names of a post's own files (`assets/<slug>/<name>` keys) that `publish` uploads with it."""
    return {key.split("/", 2)[2] for _, key in assets}


def check_references(path: Path, data: bytes, key: str, slug: str, own_assets: set[str], known: Known,
                     content_root: Path | None) -> list[Finding]:
    """Problems and warnings of one valid post's images and links (an invalid post has none to check)."""
    try:
        post = posts.parse_post(key, data)
        rendered = render.check_render(post.body, render.RenderContext(
            params=model.render_params(post.title, post.extra)))
    except InvalidPost:
        return []  # `check` reports why; there is nothing rendered to look into
    text = posts.decode_source(data)
    start = body_line(text, post.body)
    found: list[Finding] = []
    bundle = path.parent if path.stem == "index" else None  # a Hugo bundle: its files are beside it
    for image in dict.fromkeys((*post.images, *rendered.images)):
        problem = _image_problem(image, slug, own_assets, known, content_root, bundle)
        if problem:
            found.append(Finding(path, line_of(image, text, 1 if image in post.images else start), problem))
    for target in dict.fromkeys(rendered.links):
        finding = _link_finding(path, target, known)
        if finding:
            found.append(Finding(path, line_of(target, text, start), *finding))
    return found


def _image_problem(src: str, slug: str, own_assets: set[str], known: Known, content_root: Path | None,
                   bundle: Path | None) -> str:
    if not src or _SCHEME_RE.match(src) or src.startswith(("//", "#", "?")):
        return ""  # on another site, or inline data: nothing to check here
    other = _ASSET_PATH_RE.match(src)
    if src.startswith("/") and not other:
        return (f"image '{src}' is not a file of the blog: put it in content/{ASSETS_FOLDER}/{slug}/ "
                f"and write ![…]({src.rsplit('/', 1)[-1]})")
    owner, name = (other.group(1), unquote(other.group(2))) if other else (slug, _bundle_name(src))
    if name is None:
        return f"image '{src}' points outside the post's folder"
    if owner == slug and name in own_assets:
        return ""
    if owner != slug and content_root is not None and (content_root / ASSETS_FOLDER / owner / name).is_file():
        return ""
    if known.asset is not None and known.asset(f"{ASSETS_FOLDER}/{owner}/{name}"):
        return ""
    where = _shown(content_root, owner, name, bundle if owner == slug else None)
    return f"image '{src}' not found: put the file at {where}"


def _shown(content_root: Path | None, owner: str, name: str, bundle: Path | None) -> str:
    """Where an image belongs (relative to the working folder when it is inside it)."""
    if bundle is not None:
        target = bundle / name
    elif content_root is None:
        return f"content/{ASSETS_FOLDER}/{owner}/{name}"
    else:
        target = content_root / ASSETS_FOLDER / owner / name
    try:
        return str(target.relative_to(Path.cwd()))
    except ValueError:
        return str(target)


def _bundle_name(src: str) -> str | None:
    parts = [part for part in unquote(src.split("#", 1)[0].split("?", 1)[0]).split("/") if part not in ("", ".")]
    return "/".join(parts) if parts and ".." not in parts else None


def _link_finding(path: Path, href: str, known: Known) -> tuple[str, bool] | None:
    """(message, fatal) for a link to another post that goes nowhere; None when fine or not a post link."""
    target = href
    if _SCHEME_RE.match(href):
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in known.site_hosts:
            return None  # another site's page: not ours to check
        target = parts.path  # a full URL of one of the blog's pages: checked by its path
    file = target.split("#", 1)[0].split("?", 1)[0]
    if file.lower().endswith(posts.SOURCE_SUFFIXES) and not file.startswith("/"):
        linked = (path.parent / unquote(file)).resolve()
        return None if linked.is_file() else (f"links to '{href}', but {linked} does not exist", True)
    found = _POST_PATH_RE.match(target)
    if not found:
        return None
    slug = unquote(found.group(1))
    if slug in known.publishing:
        return None
    if known.post is None:
        if slug in known.on_disk:
            return None
        return (f"links to /posts/{slug}, which is not among the posts here (`publish` checks the blog)", False)
    status = known.post(slug)
    if status in ("published", "expired"):
        return None
    if status in ("draft", "scheduled"):
        return (f"links to /posts/{slug}, which is {status}: readers get a 404 there until it is published", False)
    if known.old_url is not None and known.old_url(posts.normalize_path(f"/posts/{slug}")):
        return None
    gone = "was deleted" if status == "deleted" else "does not exist"
    return (f"links to /posts/{slug}, which {gone}", True)

