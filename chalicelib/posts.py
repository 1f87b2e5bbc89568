"""Post sources: front matter parsing, validation and slug rules. Pure: no I/O.

A source is `posts/<slug>.md` in the content bucket: UTF-8 Markdown with YAML front
matter between `---` lines (TOML between `+++` lines, as Hugo writes it, works too).
Hugo and Jekyll posts import unchanged: `lastmod`, `description`, Jekyll's dated file
names and Hugo's `<slug>/index.md` bundles are understood.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import InvalidPost, Problem

POSTS_PREFIX = "posts/"
SOURCE_SUFFIX = ".md"

# Limits an upload must respect; each is named in the error an editor sees.
MAX_SOURCE_BYTES = 1024 * 1024
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1000
MAX_SLUG_CHARS = 100
MAX_TAGS = 16
MAX_TAG_CHARS = 50
MAX_ALIASES = 8

# Slugs are lower-case letters and digits joined by hyphens. Latin accents fold to
# ASCII ('café' -> 'cafe'); other scripts stay as they are ('日本', 'привет').
SLUG_PATTERN = r"[^\W_]+(?:-[^\W_]+)*"
SLUG_RE = re.compile(rf"^{SLUG_PATTERN}$")
# The line that opens front matter -> the lines that close it (YAML may end with '...').
FENCES = {"---": ("---", "..."), "+++": ("+++",)}
_JEKYLL_NAME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_SPACED_OFFSET_RE = re.compile(r"^(.*\d)\s+([+-]\d{2}:?\d{2}|Z)$")
_TOML_LINE_RE = re.compile(r"line (\d+)")

KNOWN_KEYS = frozenset(
    {"title", "date", "updated", "lastmod", "tags", "summary", "description",
     "draft", "author", "aliases", "slug", "publishDate", "expiryDate"}
)


@dataclass(frozen=True)
class Tag:
    """A tag as editors wrote it (`name`) and as URLs carry it (`slug`)."""

    slug: str
    name: str


@dataclass(frozen=True)
class Post:
    """A valid post source, ready to index and render."""

    slug: str
    title: str
    date: dt.datetime
    body: str
    source_key: str
    tags: tuple[Tag, ...] = ()
    summary: str = ""
    updated: dt.datetime | None = None
    draft: bool = False
    authors: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    teaser: str | None = None
    publish_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    images: tuple[str, ...] = ()
    slug_from_name: bool = True

    @property
    def author(self) -> str:
        """The authors' names, for one line of text."""
        return ", ".join(self.authors)

    def status(self, now: dt.datetime) -> str:
        """'draft', 'scheduled' (dated in the future), 'expired' or 'published'."""
        if self.draft:
            return "draft"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "scheduled" if max(self.date, self.publish_at or self.date) > now else "published"

    def fallback_slugs(self) -> tuple[str, ...]:
        """Other slugs to try when this one belongs to another file (same-name posts of other years)."""
        if not self.slug_from_name:
            return ()
        return (f"{self.slug}-{self.date:%Y}", f"{self.slug}-{self.date:%Y-%m-%d}")


def slugify(text: str) -> str:
    """Letters and digits joined by hyphens: 'Héllo, World!' -> 'hello-world', '日本 語' -> '日本-語'."""
    kept = []
    for char in unicodedata.normalize("NFKD", str(text)):
        # Drop an accent only from an ASCII letter: other scripts need their marks.
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    folded = unicodedata.normalize("NFKC", "".join(kept)).lower()
    slug = re.sub(r"[\W_]+", "-", folded).strip("-")
    return slug[:MAX_SLUG_CHARS].strip("-")


def is_slug(text: str) -> bool:
    """Could `text` be a slug (of a post or a tag)? Anything else cannot be in the index."""
    return len(text) <= MAX_SLUG_CHARS and SLUG_RE.match(text) is not None and text == text.lower()


def is_post_key(key: str) -> bool:
    """True for keys the blog publishes: `posts/…/<name>.md`."""
    return key.startswith(POSTS_PREFIX) and key.endswith(SOURCE_SUFFIX) and len(key) > len(
        POSTS_PREFIX + SOURCE_SUFFIX
    )


def slug_from_key(key: str) -> str:
    """The slug a source key implies when its front matter names none."""
    stem = key[len(POSTS_PREFIX):-len(SOURCE_SUFFIX)] if is_post_key(key) else key
    parts = [p for p in stem.split("/") if p]
    name = parts[-1] if parts else ""
    if name in ("index", "_index") and len(parts) > 1:  # a Hugo page bundle
        name = parts[-2]
    jekyll = _JEKYLL_NAME_RE.match(name)
    if jekyll:
        name = jekyll.group(2)
    return slugify(name)


def _date_from_key(key: str) -> str | None:
    """The date of a Jekyll-style file name (`2013-04-20-title.md`), if it has one."""
    name = key.rsplit("/", 1)[-1]
    jekyll = _JEKYLL_NAME_RE.match(name)
    return jekyll.group(1) if jekyll else None


def parse_post(key: str, data: bytes) -> Post:
    """Parse and validate one source; raise InvalidPost listing every problem found."""
    text = decode_source(data)
    meta, body, meta_line = split_front_matter(text)
    return _build_post(key, meta, body, _MetaLines(text, meta_line))


def decode_source(data: bytes) -> str:
    """Bytes to text: UTF-8 only, BOM dropped, CRLF and CR line ends made LF."""
    if len(data) > MAX_SOURCE_BYTES:
        raise InvalidPost([too_large(len(data))])
    if not data.strip():
        raise InvalidPost([Problem("file is empty")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InvalidPost([Problem(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}; save the file as UTF-8",
            line,
        )]) from None
    return _normalized(text)


def too_large(size: int) -> Problem:
    """The problem of a file over MAX_SOURCE_BYTES."""
    return Problem(f"file is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,} bytes (MAX_SOURCE_BYTES)")


def _normalized(text: str) -> str:
    """BOM dropped, CRLF and CR line ends made LF."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _closing_line(lines: list[str]) -> int | None:
    """Index of the line closing the front matter that lines[0] opens (None if not closed or not opened)."""
    closers = FENCES.get(lines[0].rstrip(), ())
    return next((i for i in range(1, len(lines)) if lines[i].rstrip() in closers), None)


def body_of(data: bytes) -> str:
    """The Markdown body of a source that was valid when indexed, without validating it again."""
    text = _normalized(data.decode("utf-8", errors="replace"))
    lines = text.split("\n")
    end = _closing_line(lines)
    return "\n".join(lines[end + 1:]).strip("\n") if end is not None else text


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split text into (front matter mapping, Markdown body, line where the front matter starts)."""
    lines = text.split("\n")
    fence = lines[0].rstrip()
    if fence not in FENCES:
        raise InvalidPost([Problem(
            "no front matter: start the file with a line '---', then 'title:' and 'date:', then '---'", 1
        )])
    end = _closing_line(lines)
    if end is None:
        raise InvalidPost([Problem(f"front matter is not closed: add a line '{fence}' after it", 1)])
    raw = "\n".join(lines[1:end])
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise InvalidPost([Problem(f"front matter is {len(raw):,} characters; the limit is "
                                   f"{MAX_FRONT_MATTER_CHARS:,} (MAX_FRONT_MATTER_CHARS)", 1)])
    meta = _load_toml(raw) if fence == "+++" else _load_yaml(raw)
    body = "\n".join(lines[end + 1:]).strip("\n")
    return meta, body, 2


@functools.lru_cache(maxsize=1)
def _front_matter_loader() -> type:
    """YAML's safe loader without anchors and aliases.

    Front matter never needs them, and nested aliases expand exponentially when the
    values are copied ("billion laughs"), which would stall ingest. Made on first use:
    PyYAML takes a tenth of the cold start to import, and page views never parse YAML.
    """
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases (& and *) are not allowed in front matter",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)

    return FrontMatterLoader


def _load_yaml(raw: str) -> dict[str, Any]:
    import yaml

    try:
        meta = yaml.load(raw, Loader=_front_matter_loader()) if raw.strip() else {}
    except RecursionError:
        raise InvalidPost([Problem("front matter is nested too deeply", 1)]) from None
    except (ValueError, TypeError, OverflowError) as err:  # YAML's own conversions, e.g. 2013-13-45
        raise InvalidPost([Problem(f"front matter is not valid YAML: {err}", 1)]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        line = mark.line + 2 if mark is not None else 1
        raise InvalidPost([Problem(f"front matter is not valid YAML: {problem}", line)]) from None
    return _ensure_mapping(meta)


def _load_toml(raw: str) -> dict[str, Any]:
    import tomllib

    try:
        meta = tomllib.loads(raw)
    except RecursionError:
        raise InvalidPost([Problem("front matter is nested too deeply", 1)]) from None
    except tomllib.TOMLDecodeError as err:
        found = _TOML_LINE_RE.search(str(err))
        line = int(found.group(1)) + 1 if found else 1
        raise InvalidPost([Problem(f"front matter is not valid TOML: {err}", line)]) from None
    return _ensure_mapping(meta)


def _ensure_mapping(meta: Any) -> dict[str, Any]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InvalidPost([Problem("front matter must be a mapping of 'key: value' lines", 2)])
    return {str(k): v for k, v in meta.items()}


class _MetaLines:
    """Finds the line a front matter key was written on, for error messages."""

    def __init__(self, text: str, first_line: int) -> None:
        self._lines = text.split("\n")
        self._first = first_line

    def of(self, key: str) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*[:=]")
        for number, line in enumerate(self._lines[self._first - 1:], start=self._first):
            if line.rstrip() in ("---", "+++", "..."):
                break
            if pattern.match(line):
                return number
        return 1


def _build_post(key: str, meta: dict[str, Any], body: str, where: _MetaLines) -> Post:
    problems: list[Problem] = []

    def check(name: str, convert, value: Any, *args: Any) -> Any:
        try:
            return convert(value, *args)
        except ValueError as err:
            problems.append(Problem(f"'{name}': {err}", where.of(name)))
            return None

    title = check("title", _title, meta.get("title"))
    date_value = meta.get("date", _date_from_key(key))
    date = check("date", _required_date, date_value)
    updated_key = "updated" if "updated" in meta else "lastmod"
    updated = check(updated_key, _optional_date, meta.get(updated_key))
    tags = check("tags", _tags, meta.get("tags"))
    summary_key = "summary" if "summary" in meta else "description"
    summary = check(summary_key, _summary, meta.get(summary_key))
    draft = check("draft", _bool, meta.get("draft", False))
    author = check("author", _text, meta.get("author", ""), 200)
    aliases = check("aliases", _aliases, meta.get("aliases"))
    slug = check("slug", _slug, meta.get("slug"), key)
    publish_at = check("publishDate", _optional_date, meta.get("publishDate"))
    expires_at = check("expiryDate", _optional_date, meta.get("expiryDate"))
    if problems:
        raise InvalidPost(problems)
    extra = {k: _json_safe(v) for k, v in meta.items() if k not in KNOWN_KEYS}
    return Post(
        slug=slug, title=title, date=date, body=body, source_key=key,
        tags=tags, summary=summary, updated=updated, draft=draft, authors=(author,) if author else (),
        aliases=tuple(a for a in aliases if a != normalize_path(f"/posts/{slug}")), extra=extra,
        slug_from_name=meta.get("slug") in (None, ""),
        publish_at=publish_at if publish_at and date and publish_at > date else None, expires_at=expires_at,
    )


def _title(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("missing; every post needs a title")
    if isinstance(value, (dict, list)):
        raise ValueError("must be text, not a list or mapping")
    title = " ".join(str(value).split())
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"is {len(title)} characters; the limit is {MAX_TITLE_CHARS} (MAX_TITLE_CHARS)")
    return title


def _required_date(value: Any) -> dt.datetime:
    if value is None or value == "":
        raise ValueError("missing; every post needs a date such as 2013-04-20")
    return parse_date(value)


def _optional_date(value: Any) -> dt.datetime | None:
    return None if value in (None, "") else parse_date(value)


def parse_date(value: Any) -> dt.datetime:
    """A date or datetime (object or ISO text) as an aware UTC datetime; naive means UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        spaced = _SPACED_OFFSET_RE.match(text)  # Jekyll writes '2013-04-20 10:00:00 +0200'
        if spaced:
            text = spaced.group(1) + spaced.group(2)
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a date; write it as 2013-04-20 or 2013-04-20T10:00:00Z") from None
    else:
        raise ValueError(f"{value!r} is not a date; write it as 2013-04-20 or 2013-04-20T10:00:00Z")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def format_utc(moment: dt.datetime) -> str:
    """The one stored form of a moment: fixed-width UTC to the second."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def offset_of(moment: dt.datetime) -> str:
    """A moment's UTC offset as '+02:00'."""
    offset = moment.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def normalize_path(path: str) -> str:
    """The one form an old URL is stored and looked up in."""
    from urllib.parse import unquote, urlsplit

    text = unquote(urlsplit(str(path).strip()).path)
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    if parts and parts[-1].lower() in ("index.html", "index.htm"):
        parts.pop()
    joined = "/" + "/".join(parts)
    joined = re.sub(r"\.html?$", "", joined, flags=re.IGNORECASE)
    return unicodedata.normalize("NFC", joined).lower()


def _tags(value: Any) -> tuple[Tag, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, (list, tuple)):
        names = value
    else:
        raise ValueError("must be a list (tags: [a, b]) or a comma-separated string")
    tags: dict[str, Tag] = {}
    for name in names:
        if isinstance(name, (dict, list)):
            raise ValueError(f"{name!r} is not a tag name")
        display = " ".join(str(name).split())
        if not display:
            continue
        if len(display) > MAX_TAG_CHARS:
            raise ValueError(f"{display[:20]!r}… is over {MAX_TAG_CHARS} characters (MAX_TAG_CHARS)")
        slug = slugify(display)
        if not slug:
            raise ValueError(f"{display!r} has no letters or digits to make a URL from")
        tags.setdefault(slug, Tag(slug=slug, name=display))
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags; the limit is {MAX_TAGS} (MAX_TAGS)")
    return tuple(tags.values())


def _summary(value: Any) -> str:
    return _text(value, MAX_SUMMARY_CHARS, "MAX_SUMMARY_CHARS")


def _text(value: Any, limit: int, limit_name: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError("must be text, not a list or mapping")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise ValueError(f"is {len(text)} characters; the limit is {limit} {f'({limit_name})' if limit_name else ''}".rstrip())
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        return value.strip().lower() in ("true", "yes")
    raise ValueError(f"{value!r} must be true or false")


def _aliases(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be a list of old slugs or paths")
    aliases: list[str] = []
    for item in items:
        # A bare old slug means /posts/<slug>; Hugo writes paths ('/posts/old-name/', '/2013/old.html').
        text = str(item).strip()
        path = normalize_path(text if "/" in text else f"/posts/{slugify(text)}")
        if path == "/":
            raise ValueError(f"{item!r} has no slug in it")
        if path not in aliases:
            aliases.append(path)
    if len(aliases) > MAX_ALIASES:
        raise ValueError(f"{len(aliases)} aliases; the limit is {MAX_ALIASES} (MAX_ALIASES)")
    return tuple(aliases)


def _slug(value: Any, key: str) -> str:
    if value not in (None, ""):
        if isinstance(value, (dict, list)):
            raise ValueError("must be text")
        slug = slugify(str(value))
        if not slug:
            raise ValueError(f"{value!r} has no letters or digits to make a URL from")
        return slug
    slug = slug_from_key(key)
    if not slug:
        raise ValueError(f"the file name {key!r} has no letters or digits; rename it or set 'slug:'")
    return slug


def _json_safe(value: Any) -> Any:
    """Front matter values as JSON-compatible data, so unknown keys can be stored and served."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return str(value)  # DynamoDB has no float type; text keeps the value exactly
    return str(value)


def scaffold(title: str, date: dt.datetime, tags: list[str] | None = None, draft: bool = True) -> str:
    """The text of a new post, for `blogctl new`."""
    import yaml

    meta = {"title": title, "date": date.strftime("%Y-%m-%dT%H:%M:%SZ"), "tags": list(tags or []),
            "summary": "", "draft": draft}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\nWrite your post here, in Markdown.\n"
