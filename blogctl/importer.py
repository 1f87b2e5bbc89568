"""`blogctl import SITE_DIR`: move a whole Hugo, Jekyll or Pelican site into the blog.

1. Recognize the generator and read its config (YAML, TOML or JSON; `pelicanconf.py` and
   `publishconf.py` by `ast`, never executed): base URL, time zone, permalink rules, where
   posts and static files are.
2. Record those rules as the site's config (model.SiteConfig), where ingest and the rebuild
   find them: old URLs redirect, naive dates use the site's time zone, feed ids are kept.
3. Upload the files as they are (never rewritten), files before posts, skipping those whose
   ETag (MD5) already matches: running the import twice changes nothing.
4. Wait for ingest of each uploaded post (its index entry names the upload's VersionId) and
   print a report: published, rejected with the reason, warnings, each old URL -> new URL.

Bucket keys (the editor finds each file where the old site had it):

| what                | Hugo                                  | Jekyll                             | Pelican                     |
|---------------------|---------------------------------------|------------------------------------|-----------------------------|
| posts               | `posts/<path below content/>`         | `posts/<path below the site root>` | `posts/<path below PATH>`   |
|                     | (`posts/posts/x.md`, bundles with     | (`posts/_posts/2013-04-20-x.md`,   | (`posts/2013/x.md`)         |
|                     | their files: `posts/posts/b/index.md`)| `posts/_drafts/…`)                 |                             |
| site-wide files     | `files/<path>`: `static/` (and the    | `files/<path>`: every file Jekyll  | `files/<path>`: STATIC_PATHS|
|                     | theme's), content files outside       | copies as it is (no front matter,  | (and EXTRA_PATH_METADATA's  |
|                     | bundles                               | not `_`/`.`-prefixed, not excluded)| paths)                      |

Pages (about pages, list templates, Liquid feeds) are not posts: they are listed as skipped.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import html.parser
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from blogctl.publishing import content_type
from chalicelib import model, posts
from chalicelib.model import SITE_FILES_PREFIX, PostRecord, SiteConfig, SourceRejection, Tombstone
from chalicelib.store import SITE_CONFIG_TTL_SECONDS, ContentStore, PostIndex

MAX_FILE_BYTES = 100 * 1024 * 1024  # one file of an old site; readers get it from S3 through a signed URL

IMPORT_WORKERS = 8            # uploads and index reads in flight at once
POLL_SECONDS = 1.0            # between two looks at the index while ingest works
WAIT_BASE_SECONDS = 120       # how long to wait for ingest: this, plus
WAIT_PER_POST_SECONDS = 2.0   # this per uploaded post (1,000 posts: 34 minutes at most)
MAX_FILES = 100_000           # files one import considers; a larger folder is refused
MAX_REPORTED = 50             # entries per list in the text report (the JSON report has all)
MAX_CONFIG_BYTES = 1024 * 1024
# After changing the rules, how long to wait before uploading posts: a warm function may hold the
# previous config this long (store.SITE_CONFIG_TTL_SECONDS).
SETTLE_SECONDS = SITE_CONFIG_TTL_SECONDS

HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
                "config.json")
JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
PELICAN_CONFIGS = ("pelicanconf.py", "publishconf.py")  # the second (publishing) overrides the first
# Jekyll copies no file or folder whose name starts with these, and excludes these by default.
JEKYLL_HIDDEN = ("_", ".", "#", "~")
JEKYLL_EXCLUDED = ("Gemfile", "Gemfile.lock", "node_modules", "vendor", ".sass-cache", ".jekyll-cache", "gemfiles",
                   "_site", ".git")
NOT_SITE_FILES = (".git", ".github", ".gitignore", ".DS_Store", "Thumbs.db")
MARKUP_SUFFIXES = (".html", ".htm", ".rst", ".adoc", ".asciidoc", ".org", ".pandoc", ".textile", ".ipynb")
JEKYLL_POST_NAME_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}-.+$")  # Jekyll reads no other file in _posts


class SiteError(Exception):
    """The folder is not a site this command can import (the message says why)."""


@dataclass(frozen=True)
class Upload:
    """One file to put in the bucket, as it is."""

    path: Path
    key: str
    kind: str  # post | file

    @property
    def is_post(self) -> bool:
        return self.kind == "post"


@dataclass
class OldSite:
    """A site folder as read: its rules, the files to upload, what is left out and why."""

    generator: str
    root: Path
    config: SiteConfig
    uploads: list[Upload] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path below the folder, why)
    warnings: list[str] = field(default_factory=list)

    def skip(self, path: Path, why: str) -> None:
        self.skipped.append((self._relative(path), why))

    def add_post(self, path: Path, key: str) -> None:
        """A post to upload, unless its key is no post key (a hidden file…): then it is skipped, with why."""
        problem = posts.post_key_problem(key)
        if problem:
            self.skip(path, problem)
        else:
            self.uploads.append(Upload(path, key, "post"))

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


# -- recognizing and reading a site --


def pelican_config(root: Path) -> Path | None:
    """The Pelican settings file of a folder: pelicanconf.py, or another top-level .py file that
    sets SITENAME and Pelican's own settings (sites built with `pelican -s settings.py`)."""
    if (root / PELICAN_CONFIGS[0]).is_file():
        return root / PELICAN_CONFIGS[0]
    for path in sorted(root.glob("*.py")):
        try:
            names = set(pelican_settings(path)[0])
        except (SyntaxError, ValueError, OSError, SiteError):
            continue  # not a settings file Pelican could read either
        if "SITENAME" in names and names & {"ARTICLE_URL", "ARTICLE_SAVE_AS", "PATH", "THEME", "TIMEZONE"}:
            return path
    return None


def detect(root: Path) -> str:
    """'hugo', 'jekyll' or 'pelican', from the files only that generator reads."""
    if not root.is_dir():
        raise SiteError(f"{root} is not a folder")
    if pelican_config(root) is not None:
        return "pelican"
    if any((root / name).is_file() for name in JEKYLL_CONFIGS) or (root / "_posts").is_dir():
        return "jekyll"
    if any((root / name).is_file() for name in HUGO_CONFIGS) or (root / "config" / "_default").is_dir():
        return "hugo"
    raise SiteError(f"{root} is no Hugo, Jekyll or Pelican site: it has no hugo.toml (or config.*), "
                    "_config.yml or pelicanconf.py")


def read_site(root: Path) -> OldSite:
    """Read a site folder: its config and the files to upload."""
    root = root.resolve()
    generator = detect(root)
    return {"hugo": _read_hugo, "jekyll": _read_jekyll, "pelican": _read_pelican}[generator](root)


def _load(path: Path) -> dict[str, Any]:
    """A YAML, TOML or JSON config file as a mapping."""
    text = path.read_bytes()[:MAX_CONFIG_BYTES + 1]
    if len(text) > MAX_CONFIG_BYTES:
        raise SiteError(f"{path} is over {MAX_CONFIG_BYTES:,} bytes (MAX_CONFIG_BYTES)")
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text.decode("utf-8"))
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as err:  # a config the generator itself could not read
        raise SiteError(f"{path}: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SiteError(f"{path}: not a mapping of settings")
    return data


def _walk(root: Path, skip_dir: Callable[[Path], bool] = lambda p: False) -> Iterator[Path]:
    """Files below `root` in a stable order, not following links out of it; at most MAX_FILES."""
    count = 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not skip_dir(here / d) and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            count += 1
            if count > MAX_FILES:
                raise SiteError(f"{root} holds more than {MAX_FILES:,} files (MAX_FILES)")
            yield path


def _is_markdown(path: Path) -> bool:
    return path.suffix.lower() in posts.SOURCE_SUFFIXES


def _mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a map, else an empty one (a setting that is missing or of another shape)."""
    return value if isinstance(value, dict) else {}


def _folded(mapping: dict[str, Any]) -> dict[str, Any]:
    """Keys lower-cased, at every level (Hugo reads its settings without regard to case)."""
    return {str(k).lower(): _folded(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def _add_files(site: OldSite, folder: Path, below: str = "", keep: Callable[[Path], bool] = lambda p: True) -> None:
    """Every file of `folder` as a site file at `below/<its path in folder>`."""
    for path in _walk(folder, lambda p: p.name in NOT_SITE_FILES):
        if path.name in NOT_SITE_FILES or not keep(path):
            continue
        relative = path.relative_to(folder).as_posix()
        _add_file(site, path, f"{below.strip('/')}/{relative}".lstrip("/"))


def _add_file(site: OldSite, path: Path, served_at: str) -> None:
    if path.stat().st_size > MAX_FILE_BYTES:
        site.skip(path, f"over {MAX_FILE_BYTES:,} bytes (MAX_FILE_BYTES): upload it to the bucket by hand")
        return
    site.uploads.append(Upload(path, SITE_FILES_PREFIX + served_at, "file"))


def _feed_path(path: str) -> str:
    return posts.normalize_path("/" + path.lstrip("/"))


def _read_hugo(root: Path) -> OldSite:
    settings: dict[str, Any] = {}
    found = next((root / n for n in HUGO_CONFIGS if (root / n).is_file()), None)
    if found is not None:
        settings = _folded(_load(found))
    default = root / "config" / "_default"
    if default.is_dir():  # config/_default/hugo.toml, permalinks.toml, params.toml …
        for path in sorted(default.iterdir()):
            if path.suffix in (".toml", ".yaml", ".yml", ".json"):
                values = _folded(_load(path))
                if path.stem in ("hugo", "config"):
                    settings.update(values)
                else:
                    settings[path.stem.lower()] = values
    rules = settings.get("permalinks") or {}
    if isinstance(rules.get("page"), dict):  # Hugo 0.120+: [permalinks.page] posts = …
        rules = rules["page"]
    permalinks = {str(k): v for k, v in rules.items() if isinstance(v, str)}
    ugly = settings.get("uglyurls")
    config = SiteConfig(
        generator="hugo", base_url=str(settings.get("baseurl") or "").rstrip("/"),
        time_zone=str(settings.get("timezone") or ""), permalinks=permalinks,
        settings={"ugly_urls": "true" if ugly is True else "",
                  "disable_path_to_lower": "true" if settings.get("disablepathtolower") else ""},
    )
    site = OldSite("hugo", root, config)
    if isinstance(ugly, dict):
        site.warnings.append("uglyURLs per section is not supported: every section is taken as pretty")
    content = root / str(settings.get("contentdir") or "content")
    params = _mapping(settings.get("params"))
    sections = params.get("mainsections") or []
    sections = [sections] if isinstance(sections, str) else [str(s) for s in sections]
    imported: set[str] = set()
    files = list(_walk(content)) if content.is_dir() else []
    bundles = {p.parent for p in files if p.stem == "index" and _is_markdown(p)}
    for path in files:
        relative = path.relative_to(content)
        section = relative.parts[0] if len(relative.parts) > 1 else ""
        in_bundle = next((folder for folder in path.parents if folder in bundles), None)
        if _is_markdown(path):
            if path.stem == "_index":
                site.skip(path, "a section's list page, not a post")
            elif in_bundle is not None and path.stem != "index":
                site.skip(path, "a Markdown resource of a page bundle, not a page")
            elif not section or (in_bundle is not None and in_bundle.parent == content):
                site.skip(path, "a page at the top of content/, not a post")
            elif sections and section not in sections:
                site.skip(path, f"section {section!r} is not in params.mainSections {sections}")
            else:
                site.add_post(path, posts.POSTS_PREFIX + relative.as_posix())
                imported.add(section)
        elif path.suffix.lower() in MARKUP_SUFFIXES:
            site.skip(path, "not Markdown: only Markdown posts are imported")
        elif in_bundle is not None:
            site.uploads.append(Upload(path, posts.POSTS_PREFIX + relative.as_posix(), "file"))
        else:
            _add_file(site, path, relative.as_posix())  # a section's own files, published at their path
    statics = settings.get("staticdir") or "static"
    themes = settings.get("theme") or []
    folders = [root / "themes" / t / "static" for t in ([themes] if isinstance(themes, str) else themes)]
    folders += [root / s for s in ([statics] if isinstance(statics, str) else statics)]
    for folder in folders:  # the site's own files come last and win over the theme's
        if folder.is_dir():
            _add_files(site, folder)
    rss = str(settings.get("rssuri") or "index.xml")  # older Hugo let `rssURI` name the feed file
    feeds = [f"/{name}" for name in dict.fromkeys(("index.xml", rss))]
    feeds += [f"/{section}{feed}" for section in sorted(imported) for feed in list(feeds)]
    site.config = SiteConfig(**{**asdict(config), "feed_paths": tuple(dict.fromkeys(_feed_path(f) for f in feeds)),
                                "files_prefix": SITE_FILES_PREFIX})
    return site


def _jekyll_skipped(root: Path, path: Path, excluded: set[str], included: set[str]) -> bool:
    """Would Jekyll leave this out of the site? (hidden names, `exclude:`, its default exclusions)"""
    parts = path.relative_to(root).parts
    for at, part in enumerate(parts):
        prefix = "/".join(parts[:at + 1])
        if part in included or prefix in included:
            continue
        if part.startswith(JEKYLL_HIDDEN) or part in JEKYLL_EXCLUDED or prefix in excluded or part in excluded:
            return True
    return False


def _has_front_matter(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(8)
    head = head.lstrip(b"\xef\xbb\xbf")
    return head.startswith(b"---") and head[3:4] in (b"\n", b"\r", b" ", b"-")


def _read_jekyll(root: Path) -> OldSite:
    found = next((root / n for n in JEKYLL_CONFIGS if (root / n).is_file()), None)
    settings = _load(found) if found is not None else {}
    source = (root / str(settings.get("source") or ".")).resolve()
    if not source.is_dir():  # e.g. a folder a build step makes: read as it is, the site would have no post
        raise SiteError(f"{found} sets source: {settings.get('source')}, and {source} is not a folder here; "
                        "import the folder the posts are in, with the config beside it")
    permalink = str(settings.get("permalink") or "")
    for default in settings.get("defaults") or []:  # front matter defaults: the posts' permalink
        scope = default.get("scope") or {} if isinstance(default, dict) else {}
        values = default.get("values") or {} if isinstance(default, dict) else {}
        if scope.get("type") == "posts" and scope.get("path", "") in ("", "_posts") and values.get("permalink"):
            permalink = str(values["permalink"])
    feed = _mapping(settings.get("feed"))
    config = SiteConfig(
        generator="jekyll", base_url=(str(settings.get("url") or "").rstrip("/") + "/" +
                                      str(settings.get("baseurl") or "").strip("/")).rstrip("/"),
        time_zone=str(settings.get("timezone") or ""), permalinks={model.ANY_SECTION: permalink} if permalink else {},
    )
    site = OldSite("jekyll", root, config)
    if not config.base_url.startswith(("http://", "https://")):
        site.warnings.append("_config.yml sets no url: the old site's address is unknown, so the old feed's "
                             "entry ids cannot be made again (feed readers may show its posts once more)")
    if not settings.get("timezone"):
        site.warnings.append("_config.yml sets no timezone: Jekyll used the building machine's; UTC is assumed")
    excluded = {str(e).strip("/") for e in settings.get("exclude") or []}
    included = {str(i).strip("/") for i in settings.get("include") or []}
    feeds = [str(feed.get("path") or "feed.xml")]
    collections = source / str(settings.get("collections_dir") or ".")
    for path in _walk(source, lambda p: p.name in ("_site", ".git", "node_modules", "vendor", ".jekyll-cache")):
        relative = path.relative_to(source)
        parts = relative.parts
        in_posts = "_posts" in parts[:-1] or "_drafts" in parts[:-1]
        if in_posts and collections in path.parents:
            if not _is_markdown(path):
                if path.suffix.lower() in MARKUP_SUFFIXES:
                    site.skip(path, "not Markdown: only Markdown posts are imported")
                continue
            if not JEKYLL_POST_NAME_RE.match(path.stem) and "_drafts" not in parts:
                site.skip(path, "Jekyll publishes only posts named YYYY-MM-DD-title")
                continue
            site.add_post(path, posts.POSTS_PREFIX + relative.as_posix())
        elif _jekyll_skipped(source, path, excluded, included) or path == found:
            continue
        elif _has_front_matter(path):
            if path.suffix == ".xml" and any(word in path.stem for word in ("feed", "atom", "rss")):
                feeds.append(relative.as_posix())
            site.skip(path, "a page (it has front matter), not a post")
        else:
            _add_file(site, path, relative.as_posix())
    site.config = SiteConfig(**{**asdict(config), "files_prefix": SITE_FILES_PREFIX,
                                "feed_paths": tuple(dict.fromkeys(_feed_path(f) for f in feeds))})
    return site


def pelican_settings(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The literal settings a Pelican settings file assigns (read by `ast`, never run), and those it could not read."""
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise SiteError(f"{path} is over {MAX_CONFIG_BYTES:,} bytes (MAX_CONFIG_BYTES)")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, Any] = {}
    unread = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if not name.isupper():
                continue
            try:
                found[name] = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                unread.append(name)
    return found, unread


def _read_pelican(root: Path) -> OldSite:
    settings: dict[str, Any] = {}
    warnings = []
    for path in (pelican_config(root), root / PELICAN_CONFIGS[1]):  # publishconf.py wins, as `make publish` has it
        if path is not None and path.is_file():
            values, unread = pelican_settings(path)
            settings.update(values)
            warnings += [f"{path.name}: {n} is not a literal value; its default is used" for n in unread
                         if n in ("SITEURL", "ARTICLE_URL", "PATH", "TIMEZONE", "STATIC_PATHS", "ARTICLE_PATHS")]
    # Without PATH, the content folder is what `pelican content` (pelican-quickstart's Makefile) names.
    content = (root / str(settings.get("PATH") or ("content" if (root / "content").is_dir() else "."))).resolve()

    def setting(name: str, default: str) -> str:
        value = settings.get(name)
        return str(value).lower() if isinstance(value, bool) else (str(value) if value is not None else default)

    config = SiteConfig(
        generator="pelican", base_url=str(settings.get("SITEURL") or "").rstrip("/"),
        time_zone=str(settings.get("TIMEZONE") or ""),
        permalinks={model.ANY_SECTION: str(settings["ARTICLE_URL"])} if settings.get("ARTICLE_URL") else {},
        settings={"slug_source": setting("SLUGIFY_SOURCE", "title"),
                  "preserve_case": setting("SLUGIFY_PRESERVE_CASE", "false"),
                  "use_unicode": setting("SLUGIFY_USE_UNICODE", "false"),
                  "use_folder_as_category": setting("USE_FOLDER_AS_CATEGORY", "true"),
                  "default_category": setting("DEFAULT_CATEGORY", "misc"),
                  "default_lang": setting("DEFAULT_LANG", "en"),
                  "author": setting("AUTHOR", "")},
    )
    site = OldSite("pelican", root, config, warnings=warnings)
    statics = [str(p).strip("/") for p in settings.get("STATIC_PATHS", ["images"])]
    pages = [str(p).strip("/") for p in settings.get("PAGE_PATHS", ["pages"])]
    articles = [str(p).strip("/") for p in settings.get("ARTICLE_PATHS", [""])]
    excludes = [str(p).strip("/") for p in settings.get("ARTICLE_EXCLUDES", [])]
    extra = _mapping(settings.get("EXTRA_PATH_METADATA"))

    def under(relative: str, folders: Iterable[str]) -> bool:
        return any(f == "" or relative == f or relative.startswith(f + "/") for f in folders)

    for path in _walk(content, lambda p: p.name.startswith(".")):
        relative = path.relative_to(content).as_posix()
        if under(relative, [s for s in statics if s]):
            moved = extra.get(relative)
            path_setting = _mapping(moved).get("path")
            served = path_setting if isinstance(path_setting, str) else relative
            _add_file(site, path, served)
        elif not _is_markdown(path):
            if path.suffix.lower() in MARKUP_SUFFIXES:
                site.skip(path, "not Markdown: only Markdown articles are imported")
        elif under(relative, [p for p in pages if p]):
            site.skip(path, "a page (PAGE_PATHS), not an article")
        elif under(relative, excludes) or not under(relative, articles):
            site.skip(path, "outside ARTICLE_PATHS")
        else:
            site.add_post(path, posts.POSTS_PREFIX + relative)
    feeds = [settings.get(n, d) for n, d in (("FEED_ALL_ATOM", "feeds/all.atom.xml"), ("FEED_ALL_RSS", None),
                                             ("FEED_ATOM", None), ("FEED_RSS", None))]
    site.config = SiteConfig(**{**asdict(config), "files_prefix": SITE_FILES_PREFIX,
                                "feed_paths": tuple(dict.fromkeys(_feed_path(str(f)) for f in feeds if f))})
    return site


# -- importing --


@dataclass
class PostReport:
    """One post source after the import: where it stands and where its old URLs lead."""

    key: str
    status: str            # published | draft | scheduled | expired | error | waiting
    slug: str = ""
    message: str = ""      # the rejection's reason
    warnings: list[str] = field(default_factory=list)
    old_urls: list[str] = field(default_factory=list)  # as the old site served them, then the other old paths
    new_url: str = ""


@dataclass
class Report:
    """What an import did."""

    generator: str
    folder: str
    config: dict[str, Any]
    config_changed: bool = False
    uploaded: int = 0
    unchanged: int = 0
    posts: list[PostReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        """Posts per status."""
        return Counter(p.status for p in self.posts)

    @property
    def ok(self) -> bool:
        """Nothing rejected, nothing still waiting for ingest."""
        return not (self.counts["error"] or self.counts["waiting"])


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def import_site(site: OldSite, content: ContentStore, index: PostIndex, *, settle_seconds: float | None = None,
                deliver: Callable[[], Any] | None = None, wait: bool = True,
                log: Callable[[str], None] = lambda text: None) -> Report:
    """Record the site's rules, upload what changed, wait for ingest, and say how each post stands.

    `settle_seconds` (default SETTLE_SECONDS): after a change of rules, the wait before uploading
    posts, while running functions may keep the previous config. `deliver`: called while waiting
    (tests hand the queue to ingest with it; a stage's functions need no help).
    """
    settle_seconds = SETTLE_SECONDS if settle_seconds is None else settle_seconds
    report = Report(site.generator, str(site.root), asdict(site.config), skipped=list(site.skipped),
                    warnings=list(site.warnings))
    stored = index.site_config(max_age=0)
    report.config_changed = stored != site.config
    if report.config_changed:
        index.put_site_config(site.config)
        log(f"site config written ({site.generator}, base URL {site.config.base_url or 'none'})")
        if settle_seconds > 0:
            log(f"waiting {settle_seconds:g} s for running functions to read it (SITE_CONFIG_TTL_SECONDS)")
            time.sleep(settle_seconds)
    # Posts ingested under other rules must be ingested again: they are uploaded again (a new version).
    again = report.config_changed and bool(stored.generator)
    existing = {ref.key: ref.etag for prefix in (posts.POSTS_PREFIX, SITE_FILES_PREFIX) for ref in content.list(prefix)}
    digests = {u.key: _md5(u.path) for u in site.uploads}
    files = [u for u in site.uploads if not u.is_post and existing.get(u.key) != digests[u.key]]
    same = [u.key for u in site.uploads if u.is_post and not again and existing.get(u.key) == digests[u.key]]
    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        states: dict[str, Any] = dict(zip(same, pool.map(lambda k: model.primary_state(index.source_states(k)), same)))
    # A post already in the bucket is uploaded again when the index does not describe that version.
    stale = {k for k, state in states.items() if state is None or state.seen_etag != digests[k]}
    sources = [u for u in site.uploads if u.is_post and (u.key not in states or u.key in stale)]
    for key in stale:
        del states[key]
    report.unchanged = len(site.uploads) - len(files) - len(sources)
    identities: dict[str, str] = {}

    def put(upload: Upload) -> None:
        ref = content.put(upload.key, upload.path.read_bytes(), content_type(upload.path))
        if upload.is_post:
            identities[upload.key] = ref.identity

    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        for batch in (files, sources):  # files first: a post's images exist when it goes live
            for done, _ in enumerate(pool.map(put, batch), 1):
                if done % 100 == 0:
                    log(f"uploaded {done} of {len(batch)} {'posts' if batch is sources else 'files'}")
    report.uploaded = len(files) + len(sources)
    log(f"uploaded {report.uploaded} file(s) ({len(sources)} post(s)); {report.unchanged} already there")
    if wait:
        states.update(_wait_for_ingest(identities, index, deliver, log))
    post_keys = [u.key for u in site.uploads if u.is_post]
    missing = [k for k in post_keys if k not in states]
    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        states.update(zip(missing, pool.map(lambda k: model.primary_state(index.source_states(k)), missing)))
    report.posts = [_post_report(key, states.get(key), identities.get(key)) for key in post_keys]
    return report


def _wait_for_ingest(identities: dict[str, str], index: PostIndex, deliver: Callable[[], Any] | None,
                     log: Callable[[str], None]) -> dict[str, Any]:
    """Each uploaded post's index state once ingest has seen the upload (or at the deadline)."""
    pending = dict(identities)
    found: dict[str, Any] = {}
    deadline = time.monotonic() + WAIT_BASE_SECONDS + WAIT_PER_POST_SECONDS * len(pending)
    last_note = time.monotonic()

    def look(key: str) -> tuple[str, Any]:
        return key, model.primary_state(index.source_states(key))

    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        while pending:
            if deliver is not None:
                deliver()
            for key, state in pool.map(look, list(pending)):
                found[key] = state
                if state is not None and state.seen_id == pending[key]:
                    del pending[key]
            if not pending or time.monotonic() > deadline:
                break
            if time.monotonic() - last_note > 10:
                log(f"waiting for ingest: {len(identities) - len(pending)} of {len(identities)} post(s) done")
                last_note = time.monotonic()
            time.sleep(POLL_SECONDS)
    for key in pending:
        found[key] = "waiting"
    return found


def _post_report(key: str, state: Any, identity: str | None) -> PostReport:
    if state == "waiting" or state is None:
        return PostReport(key, "waiting" if identity else "error",
                          message="" if identity else "the index does not know this file: upload it again")
    if isinstance(state, SourceRejection):
        return PostReport(key, "error", message=state.error.message)
    if isinstance(state, Tombstone):
        return PostReport(key, "deleted", slug=state.slug)
    record: PostRecord = state
    olds = ([record.card.old_path] if record.card.old_path else []) + [
        p for p in record.old_paths if not record.card.old_path or p != posts.normalize_path(record.card.old_path)]
    return PostReport(key, record.status.value, slug=record.slug,
                      message=record.error.message if record.error else "", warnings=list(record.warnings),
                      old_urls=olds, new_url=f"/posts/{record.slug}")


# -- the report --


def format_report(report: Report) -> str:
    """The report as an editor reads it."""
    counts = report.counts
    config = report.config
    lines = [f"{report.generator.capitalize()} site {report.folder}",
             f"  base URL {config['base_url'] or '(none)'}, time zone {config['time_zone'] or 'UTC'}, "
             f"permalinks {config['permalinks'] or '(the default)'}",
             f"  config {'written' if report.config_changed else 'unchanged'}; {report.uploaded} file(s) uploaded, "
             f"{report.unchanged} already there",
             "posts: " + ", ".join(f"{counts[s]} {s if s != 'error' else 'rejected'}"
                                   for s in ("published", "scheduled", "draft", "expired", "error", "waiting")
                                   if counts[s]) if report.posts else "posts: none found"]
    rejected = [p for p in report.posts if p.status == "error" or p.message]
    if rejected:
        lines.append("rejected (fix the file and run the import again):")
        lines += [f"  {p.key}: {p.message}" for p in rejected[:MAX_REPORTED]]
    waiting = [p for p in report.posts if p.status == "waiting"]
    if waiting:
        lines.append(f"not ingested yet ({len(waiting)}): see `blogctl status` in a while")
    warned = [p for p in report.posts if p.warnings]
    if warned or report.warnings:
        lines.append("warnings:")
        lines += [f"  {w}" for w in report.warnings]
        lines += [f"  {p.key}: {'; '.join(p.warnings)}" for p in warned[:MAX_REPORTED]]
    if report.skipped:
        reasons = Counter(why for _, why in report.skipped)
        lines.append(f"not imported ({len(report.skipped)} file(s)):")
        lines += [f"  {n} × {why}" for why, n in reasons.most_common()]
    moved = [(old, p.new_url) for p in report.posts if p.new_url for old in p.old_urls]
    if moved:
        lines.append("old URL -> new URL:")
        base = config["base_url"]
        lines += [f"  {base}{old} -> {new}" for old, new in moved[:MAX_REPORTED * 4]]
        if len(moved) > MAX_REPORTED * 4:
            lines.append(f"  … and {len(moved) - MAX_REPORTED * 4} more (--json lists them all)")
    return "\n".join(lines)


def cmd_import(args: argparse.Namespace) -> int:
    """`blogctl import SITE_DIR`: read the site, import it, print the report."""
    from blogctl.cli import connect
    from chalicelib import services

    try:
        site = read_site(Path(args.site_dir))
    except (SiteError, OSError, SyntaxError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    connect(args)
    log = (lambda text: None) if args.json else (lambda text: print(f"[import] {text}", file=sys.stderr, flush=True))
    log(f"{site.generator} site: {sum(u.is_post for u in site.uploads)} post(s), "
        f"{sum(not u.is_post for u in site.uploads)} other file(s), {len(site.skipped)} left out")
    report = import_site(site, services.content(), services.index(), wait=not args.no_wait, log=log)
    check = check_site(report, args.check) if args.check else None
    survey = None
    if args.check:
        from blogctl.survey import survey_site

        log(f"counting what readers find at {args.check}")
        survey = survey_site(site, report, args.check)
    if args.json:
        print(json.dumps({**asdict(report), **({"check": asdict(check)} if check else {}),
                          **({"survey": {**asdict(survey), "valid": survey.valid, "meant_public": survey.meant_public,
                                         "row": survey.row(site.root.name, check)}} if survey else {})},
                         indent=2, default=str))
    else:
        print(format_report(report))
        if check is not None and survey is not None:
            print(f"check of {args.check}: {check.summary()}")
            print("\n".join(f"  {failure}" for failure in check.failures))
            print(survey.summary())
            print("\n".join(f"  {line}" for line in survey.details()))
            print(f"README row: {survey.row(site.root.name, check)}")
    return 0 if report.ok else 1


# -- checking a running blog after the import --


@dataclass
class Check:
    """What a reader finds on the blog after an import: old URLs, images and links between posts."""

    posts: int = 0
    old_urls: int = 0
    old_urls_ok: int = 0
    images: int = 0
    images_ok: int = 0
    external_images: int = 0   # on other hosts: not the blog's to serve
    links: int = 0
    links_ok: int = 0
    other_links: int = 0       # to addresses that name no post: pages not imported, listings, typos
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line of numbers, as the README's tables show them."""
        def share(ok: int, total: int) -> str:
            return f"{ok}/{total} ({100 * ok / total:.1f}%)" if total else "0/0"
        return (f"posts {self.posts}; old URLs that work {share(self.old_urls_ok, self.old_urls)}; images shown "
                f"{share(self.images_ok, self.images)} (+{self.external_images} on other hosts); links between "
                f"posts that resolve {share(self.links_ok, self.links)} (+{self.other_links} to no post)")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # each hop is followed by hand, to count and bound them


def _get(url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "blogctl-import-check"})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def follow(url: str, accept: str = "text/html", hops: int = 3) -> tuple[str, int, dict[str, str], bytes]:
    """GET `url`, following at most `hops` redirects: (final URL, status, headers, body)."""
    for _ in range(hops + 1):
        status, headers, body = _get(url, accept)
        if status not in (301, 302, 307, 308) or "location" not in headers:
            return url, status, headers, body
        url = urljoin(url, headers["location"])
    return url, 0, {}, b""


class _PostBody(html.parser.HTMLParser):
    """The images and links inside a post page's `<div class="post-body">`."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self._depth:
            self._depth += tag == "div"
            if tag == "img" and found.get("src"):
                self.images.append(found["src"] or "")
            elif tag == "a" and found.get("href") and "anchor" not in (found.get("class") or "") \
                    and "footnote" not in (found.get("class") or ""):
                self.links.append(found["href"] or "")
        elif tag == "div" and "post-body" in (found.get("class") or "").split():
            self._depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "div":
            self._depth -= 1


IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"  # what browsers send for <img>
PAGE_SUFFIXES = ("", ".html", ".htm", ".md", ".markdown")
NOT_POSTS = ("/tags", "/archive", "/search", "/feed.xml", "/static/", "/categories", "/category/", "/tag/")


def check_site(report: Report, blog_url: str) -> Check:
    """Visit, on the running blog, every old URL of the imported posts, their images and their links to pages."""
    base = blog_url.rstrip("/")
    host = urlsplit(base).netloc
    check = Check()
    published = [p for p in report.posts if p.status == "published"]
    check.posts = len(published)
    base_path = SiteConfig.from_item(report.config).base_path

    def fail(text: str) -> None:
        if len(check.failures) < MAX_REPORTED * 4 and text not in check.failures:
            check.failures.append(text)

    def old(post: PostReport, path: str) -> tuple[PostReport, str, bool]:
        final, status, _, _ = follow(base + quote(path, safe="/%:@!$&'()*+,;=-._~"))
        return post, path, status == 200 and urlsplit(final).path.endswith(post.new_url)

    def page(post: PostReport) -> tuple[PostReport, str]:
        _, status, _, body = follow(base + post.new_url)
        return post, body.decode("utf-8", "replace") if status == 200 else ""

    def image(url: str) -> tuple[str, bool]:
        _, status, headers, _ = follow(url, IMAGE_ACCEPT)
        return url, status == 200 and headers.get("content-type", "").startswith("image/")

    def link(url: str) -> tuple[str, bool]:
        final, status, _, _ = follow(url)
        return url, status == 200 and "/posts/" in urlsplit(final).path

    # A link that does not resolve still counts as one between posts when its last part names a post.
    names = {posts.slugify(n) for p in report.posts for n in (p.slug, posts.slug_from_key(p.key),
                                                               *(u.rstrip("/").rsplit("/", 1)[-1] for u in p.old_urls))}

    def names_a_post(url: str) -> bool:
        last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        return posts.slugify(re.sub(r"\.(html?|md|markdown)$", "", last)) in names

    olds = [(p, u) for p in published for u in p.old_urls[:1] + [base_path + p.old_urls[0]] * bool(base_path) +
            p.old_urls[1:]]
    with concurrent.futures.ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        for post, path, ok in pool.map(lambda pair: old(*pair), olds):
            check.old_urls += 1
            check.old_urls_ok += ok
            if not ok:
                fail(f"old URL {path} does not lead to {post.new_url}")
        images: list[str] = []  # one entry per <img> and per <a> on a page: each is counted, each URL fetched once
        links: list[str] = []
        for post, html in pool.map(page, published):
            body = _PostBody(html)
            for src in body.images:
                url = urljoin(base + post.new_url, src)
                if urlsplit(url).netloc == host:
                    images.append(url)
                else:
                    check.external_images += 1
            for href in body.links:
                url = urljoin(base + post.new_url, href).split("#", 1)[0]
                path = urlsplit(url).path[len(urlsplit(base).path):]
                if urlsplit(url).netloc != host or path in ("", "/") or path.startswith(NOT_POSTS):
                    continue
                if os.path.splitext(path.rstrip("/"))[1].lower() in PAGE_SUFFIXES:
                    links.append(url)
        shown = dict(pool.map(image, sorted(set(images))))
        for url in images:
            check.images += 1
            check.images_ok += shown[url]
            if not shown[url]:
                fail(f"image {url} is not shown")
        resolved = dict(pool.map(link, sorted(set(links))))
        for url in links:
            if resolved[url] or names_a_post(url):
                check.links += 1
                check.links_ok += resolved[url]
                if not resolved[url]:
                    fail(f"link {url} does not lead to its post")
            else:
                check.other_links += 1
                fail(f"link {url} names no post (a page, a listing or a typo)")
    return check
