"""Post sources: front matter parsing, validation and slug rules. Pure: no I/O.

A source is a Markdown file under `posts/` in the content bucket (`.md`, `.markdown`, `.mdown`,
`.mkd`, `.mkdn`), with its metadata at the top in one of the forms the common generators write:

- YAML between `---` lines (Jekyll, Hugo; the closing line may be `...`),
- TOML between `+++` lines (Hugo, Zola),
- a JSON object (Hugo),
- `Key: value` lines up to the first blank line (Pelican, Python-Markdown's meta extension).

Blank lines, a BOM and indentation before the opening fence are fine. Keys are read without
regard to case (`publishDate` = `publishdate`), as Hugo and Pelican do. What each key means is
in the `KEYS` table below; every key the blog does not use is kept in `Post.extra`.
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.errors import InvalidPost, Problem

POSTS_PREFIX = "posts/"
SOURCE_SUFFIX = ".md"  # what new posts are named
SOURCE_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")  # what is read as a post

# Limits an upload must respect; each is named in the error or warning an editor sees.
MAX_SOURCE_BYTES = 1024 * 1024
MAX_FRONT_MATTER_CHARS = 64 * 1024
# Values in front matter once its aliases (*) are expanded: no more than written-out front
# matter of MAX_FRONT_MATTER_CHARS can hold, so that nested aliases cannot multiply the work.
MAX_FRONT_MATTER_NODES = MAX_FRONT_MATTER_CHARS // 2
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1000
MAX_SLUG_CHARS = 100
MAX_TAGS = 16          # tags and categories together; each one is an index write
MAX_TAG_CHARS = 50
MAX_ALIASES = 16       # old URLs of one post; real `redirect_from` lists fit
MAX_AUTHORS = 10
MAX_AUTHOR_CHARS = 1000  # all authors on one line (Hugo sites write several, as Markdown, in `author`)
MAX_IMAGES = 10
MAX_IMAGE_CHARS = 2048
MAX_PATH_BYTES = 1024  # an old URL path, UTF-8 encoded (it is part of a DynamoDB key)
MAX_URL_CHARS = 4096   # an old URL as written, before it is normalized
MAX_DATE_CHARS = 80    # longer text is no date
MIN_YEAR, MAX_YEAR = 1900, 2200  # dates outside are typos ('0213-04-20')
MAX_OFFSET = dt.timedelta(hours=18)  # the widest UTC offset ISO 8601 allows
MAX_EXTRA_BYTES = 32 * 1024  # the unknown keys, as UTF-8 JSON
MAX_EXTRA_DEPTH = 16   # nesting of lists and mappings in unknown keys
MAX_EXACT_DIGITS = 38  # DynamoDB numbers keep 38 digits: larger integers are kept as text
MAX_QUOTED_CHARS = 40  # how much of a bad value an error message quotes
MAX_SEPARATOR_CHARS = 100  # a custom `excerpt_separator`

# Slugs are lower-case letters and digits joined by hyphens. Latin accents fold to
# ASCII ('café' -> 'cafe'); other scripts stay as they are ('日本', 'привет').
SLUG_PATTERN = r"[^\W_]+(?:-[^\W_]+)*"
SLUG_RE = re.compile(rf"^{SLUG_PATTERN}$")

PARAMS_PREFIX = "params."
# Which front matter keys fill which field, first match first (lower-case; case is ignored).
# Keys that set the same field are merged (tags, authors, aliases, images) or the first
# non-empty one wins (the others stay in `extra`).
KEYS = {
    "title": ("title",),
    "date": ("date", "publishdate", "pubdate", "published"),  # then the file name's date, then:
    "date_last": ("lastmod", "modified", "updated", "last_modified_at"),  # as Hugo falls back
    "publish_at": ("publishdate", "pubdate", "published"),  # Hugo: hidden until then
    "expires_at": ("expirydate", "unpublishdate"),  # Hugo: taken down then
    "updated": ("updated", "lastmod", "last_modified_at", "modified"),
    "tags": ("tags", "tag", "categories", "category"),  # merged, in the order written
    "summary": ("summary", "excerpt", "description"),
    "authors": ("authors", "author"),
    "aliases": ("aliases", "redirect_from", "url", "permalink"),
    "images": ("images", "image", "cover", "featured_image", "feature_image", "og_image", "thumbnail"),
    "slug": ("slug",),
    "draft": ("draft",),
    "status": ("status",),  # Pelican, WordPress exports
    "build": ("build", "_build"),  # Hugo: render: never
    "headless": ("headless",),
    "excerpt_separator": ("excerpt_separator",),
}
# `status:` values (Pelican's, WordPress's) that keep a post off the site. Pelican skips a
# file whose status it does not know: so does the blog, for Pelican headers.
DRAFT_STATUSES = frozenset({"draft", "hidden", "skip", "private", "pending", "trash"})
PUBLISHED_STATUSES = frozenset({"published", "publish", "future"})
# Keys in an image mapping (`cover: {image: x.jpg}`, `image: {path: x.jpg}`), first match first.
IMAGE_MAP_KEYS = ("image", "src", "url", "path", "feature", "og_image", "overlay_image", "teaser")
# Where the teaser ends: Hugo's and Jekyll's `<!--more-->`, Pelican's summary plugin marker.
MORE_RE = re.compile(r"<!--\s*(?:more|PELICAN_END_SUMMARY)\s*-->", re.IGNORECASE)
# Folders whose posts are drafts by their generator's rules (Jekyll).
DRAFT_FOLDERS = frozenset({"_drafts"})
# File names that are not posts though they end like one (Hugo's section pages).
SECTION_NAMES = frozenset({"_index"})

# The line that opens front matter -> the lines that close it (YAML may end with '...').
FENCES = {"---": ("---", "..."), "+++": ("+++",)}
# Jekyll's dated names: `2013-05-06-name.md` (month and day may have one digit).
_JEKYLL_NAME_RE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})-(.+)$")
# Python-Markdown's meta lines, as Pelican reads them.
_PELICAN_KEY_RE = re.compile(r"^ {0,3}([A-Za-z0-9_-]+):\s*(.*)$")
_PELICAN_MORE_RE = re.compile(r"^ {4,}(.*)$")
_TOML_LINE_RE = re.compile(r"line (\d+)")
_PERMALINK_PLACEHOLDER_RE = re.compile(r"(?:^|/):[a-z]")
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # 'https://host/…'; '//a/b' is a path
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
# C0 controls but tab and line feed, and U+FFFE/U+FFFF: XML forbids them, so every text the
# blog serves loses them here. Vertical tab and form feed (pasted from word processors) are
# line breaks to their writer: they become a space. Lone surrogates become U+FFFD.
_REMOVED_CHARS = {**{c: None for c in range(0x20) if c not in (0x09, 0x0A, 0x0B, 0x0C)},
                  0x0B: " ", 0x0C: " ", 0xFFFE: None, 0xFFFF: None}
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


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
    date: dt.datetime                 # aware, in the author's own offset
    body: str                         # Markdown after the front matter
    source_key: str
    tags: tuple[Tag, ...] = ()        # tags + categories
    summary: str = ""                 # summary / excerpt / description, plain text, bounded
    teaser: str | None = None         # Markdown before <!--more-->, if the body has the marker
    updated: dt.datetime | None = None
    draft: bool = False
    authors: tuple[str, ...] = ()
    publish_at: dt.datetime | None = None   # only when later than date
    expires_at: dt.datetime | None = None
    aliases: tuple[str, ...] = ()     # normalized old URL paths ("/posts/old-slug", "/2013/04/20/x")
    images: tuple[str, ...] = ()      # as written in the front matter, first = the post's main image
    slug_from_name: bool = True       # no `slug:` key: the slug comes from the file name
    extra: dict[str, Any] = field(default_factory=dict)   # unknown keys, JSON-safe, DynamoDB-safe
    warnings: tuple[str, ...] = ()    # what was dropped or cut to publish the post anyway

    @property
    def author(self) -> str:
        """All authors in one line."""
        return ", ".join(self.authors)

    @property
    def live_at(self) -> dt.datetime:
        """When readers may first see the post: its date, or a later `publishDate`."""
        return self.publish_at or self.date

    def status(self, now: dt.datetime) -> str:
        """'draft', 'scheduled' (not live yet), 'published' or 'expired' (past `expiryDate`)."""
        if self.draft:
            return "draft"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "scheduled" if self.live_at > now else "published"

    def fallback_slugs(self) -> tuple[str, ...]:
        """Slugs to try, in order, when the file name's slug belongs to another file (none if `slug:` is set)."""
        if not self.slug_from_name:
            return ()
        day = self.date
        return tuple(_suffixed(self.slug, suffix) for suffix in
                     (f"{day.year:04d}", f"{day.year:04d}-{day.month:02d}-{day.day:02d}"))


def _suffixed(slug: str, suffix: str) -> str:
    """`slug-suffix`, the slug cut so that the whole stays within MAX_SLUG_CHARS."""
    base = slug[: MAX_SLUG_CHARS - len(suffix) - 1].strip("-")
    return f"{base}-{suffix}"


# --- text -----------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Text without the characters XML and terminals cannot carry (see _REMOVED_CHARS)."""
    text = text.translate(_REMOVED_CHARS)
    return _SURROGATE_RE.sub("\ufffd", text) if not text.isascii() else text


def quote(value: Any) -> str:
    """A bad value as an error message shows it: quoted, cleaned, at most MAX_QUOTED_CHARS long."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        return "true" if value else "false" if value is False else "nothing"
    elif isinstance(value, int):
        if value.bit_length() > 128:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        text = str(value)
    elif isinstance(value, dict):
        return f"a mapping of {len(value)} key(s)"
    elif isinstance(value, (list, tuple, set)):
        return f"a list of {len(value)} item(s)"
    else:
        text = str(value)
    text = " ".join(clean_text(text[: MAX_QUOTED_CHARS * 4]).split())
    if len(text) > MAX_QUOTED_CHARS:
        text = text[: MAX_QUOTED_CHARS - 1] + "…"
    return repr(text)


def _scalar_text(value: Any) -> str:
    """A scalar front matter value as clean text ('' for none); lists and mappings are refused."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 128:
            raise ValueError(f"is {quote(value)}, not text")
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return clean_text(value.decode("utf-8", errors="replace"))
    raise ValueError(f"must be text, not {quote(value)}")


def _one_line(value: Any) -> str:
    """A scalar as one line of text: runs of white space become one space."""
    return " ".join(_scalar_text(value).split())


# --- slugs and source keys -------------------------------------------------------------------

def slugify(text: str) -> str:
    """Letters and digits joined by hyphens: 'Héllo, World!' -> 'hello-world', '日本 語' -> '日本-語'."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", clean_text(str(text))[: MAX_SLUG_CHARS * 8]):
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


def post_key_problem(key: str) -> str | None:
    """Why a bucket key is not a post source (None when it is one), in words an editor can act on."""
    if not key.startswith(POSTS_PREFIX):
        return f"only files under {POSTS_PREFIX} are posts"
    name = key.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    suffixes = ", ".join(SOURCE_SUFFIXES)
    if not name:
        return "a folder, not a file"
    if name.startswith("."):
        return "a hidden file (its name starts with '.')"
    if not dot or f".{ext.lower()}" not in SOURCE_SUFFIXES:
        kind = f"{quote('.' + ext)} files are not posts" if dot else "a file without an extension is not a post"
        return f"{kind}: a post is a Markdown file named *{suffixes.replace(', ', ', *')}"
    if not stem:
        return "the file has no name before its extension"
    if stem in SECTION_NAMES:
        return f"{quote(name)} is a Hugo section page (a list of posts), not a post"
    return None


def is_post_key(key: str) -> bool:
    """True for keys the blog publishes: `posts/…/<name>.md` (or .markdown, .mdown, .mkd, .mkdn)."""
    return post_key_problem(key) is None


def _stem(key: str) -> str:
    """The key below posts/ without its Markdown extension."""
    stem = key[len(POSTS_PREFIX):] if key.startswith(POSTS_PREFIX) else key
    lowered = stem.lower()
    for suffix in SOURCE_SUFFIXES:
        if lowered.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def _name_of(key: str) -> tuple[str | None, str]:
    """(date text of a Jekyll-style name or None, the name without it) that a key's slug comes from."""
    parts = [p for p in _stem(key).split("/") if p]
    name = parts[-1] if parts else ""
    if name in ("index", "_index") and len(parts) > 1:  # a Hugo page bundle: the folder names it
        name = parts[-2]
    jekyll = _JEKYLL_NAME_RE.match(name)
    return (jekyll.group(1), jekyll.group(2)) if jekyll else (None, name)


def slug_from_key(key: str) -> str:
    """The slug a source key implies when its front matter names none."""
    return slugify(_name_of(key)[1])


def _in_draft_folder(key: str) -> bool:
    return any(part in DRAFT_FOLDERS for part in key.split("/")[:-1])


# --- old URLs -------------------------------------------------------------------------------

def normalize_path(path: str) -> str:
    """The one form an old URL is stored and looked up in: '/2013/Café.html?x#y' -> '/2013/café'.

    Full URLs keep only their path. Percent-escapes are decoded, text is NFC and lower case,
    query and fragment dropped, '//' collapsed, '.' and '..' resolved, a trailing '/index.html',
    '.html' or '/' dropped. Raises ValueError for what cannot be a path (too long, control
    characters, bad percent-escapes).
    """
    if not isinstance(path, str):
        raise ValueError(f"{quote(path)} is not a URL path")
    if len(path) > MAX_URL_CHARS:
        raise ValueError(f"is {len(path):,} characters; the limit is {MAX_URL_CHARS:,} (MAX_URL_CHARS)")
    text = path.strip()
    if _URL_RE.match(text):
        try:
            text = urlsplit(text).path
        except ValueError:
            raise ValueError(f"{quote(path)} is not a URL") from None
    text = text.split("#", 1)[0].split("?", 1)[0].replace("\\", "/")
    try:
        text = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"{quote(path)} has percent-escapes that are not UTF-8") from None
    if _CONTROL_RE.search(text):
        raise ValueError(f"{quote(path)} has control characters")
    parts: list[str] = []
    for part in unicodedata.normalize("NFC", text).lower().split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    if parts and parts[-1] in ("index.html", "index.htm"):
        parts.pop()
    if parts:
        parts[-1] = re.sub(r"\.html?$", "", parts[-1]) or parts[-1]
    normalized = "/" + "/".join(parts)
    if len(normalized.encode("utf-8", errors="replace")) > MAX_PATH_BYTES:
        raise ValueError(f"{quote(path)} is longer than {MAX_PATH_BYTES:,} bytes (MAX_PATH_BYTES)")
    return normalized


# --- dates ----------------------------------------------------------------------------------

_ISO_RE = re.compile(r"""
    (?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})
    (?:(?:[Tt]|\s+|\s*,\s*)(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?))?
    \s*(?P<zone>[Zz]|[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})?
    (?:\s+\(?(?P<name>[A-Za-z]{1,5}|[+-]\d{4})\)?)?
""", re.VERBOSE)
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:\s*([AaPp])\.?[Mm]\.?)?$")
_WORD_TOKEN_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?|[+-]\d{1,2}:?\d{2}|[A-Za-z]+\.?|\d+|,")
MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}
WEEKDAYS = frozenset({"mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thurs",
                      "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday"})
# Zone abbreviations with one meaning; others (IST, BST…) are ambiguous and must be offsets.
ZONE_NAMES = {"z": 0, "utc": 0, "gmt": 0, "ut": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
              "mst": -7, "mdt": -6, "pst": -8, "pdt": -7, "cet": 1, "cest": 2, "eet": 2, "eest": 3,
              "jst": 9, "kst": 9, "aest": 10, "aedt": 11}
ORDINALS = frozenset({"st", "nd", "rd", "th"})
DATE_HINT = "write it as 2013-04-20 or 2013-04-20T10:00:00+02:00"


def parse_date(value: Any, zone: dt.tzinfo = dt.timezone.utc) -> dt.datetime:
    """A date or datetime (object or text in any form Jekyll or Hugo accept) as an aware datetime.

    An offset written with the date is kept (not converted to UTC); a date without one is in
    `zone`. Raises ValueError for anything else, for years outside MIN_YEAR..MAX_YEAR, for Hugo's
    zero date (see `is_zero_date`) and offsets beyond MAX_OFFSET.
    """
    moment = _moment(value)
    if moment.date() == dt.date(1, 1, 1):
        raise ValueError(f"{quote(value)} is the zero date (no date)")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"{quote(value)}: the year {moment.year} is outside {MIN_YEAR}..{MAX_YEAR} "
                         "(MIN_YEAR..MAX_YEAR); is it a typo?")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    offset = moment.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise ValueError(f"{quote(value)}: the UTC offset is beyond ±18:00")
    return moment


def is_zero_date(value: Any) -> bool:
    """Hugo's zero date (`0001-01-01`), which means "no date"."""
    try:
        return _moment(value).date() == dt.date(1, 1, 1)
    except ValueError:
        return False


def format_utc(moment: dt.datetime) -> str:
    """The one fixed-width, sortable form the index stores a moment in: 'YYYY-MM-DDTHH:MM:SSZ'.

    A naive moment is taken as UTC.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")


def offset_of(moment: dt.datetime) -> str:
    """The UTC offset the author wrote: '+02:00', '-05:30', '+00:00' (also for naive moments)."""
    offset = moment.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes, seconds = divmod(int(abs(offset).total_seconds()), 60)
    text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{text}:{seconds:02d}" if seconds else text


def _moment(value: Any) -> dt.datetime:
    """A datetime (naive unless the value has an offset) from a date object or date text."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str) and len(value) <= MAX_DATE_CHARS * 4:
        text = " ".join(value.split())
        if len(text) <= MAX_DATE_CHARS:
            moment = _iso_moment(text) or _worded_moment(text)
            if moment is not None:
                return moment
    raise ValueError(f"{quote(value)} is not a date; {DATE_HINT}")


def _iso_moment(text: str) -> dt.datetime | None:
    """'2013-05-06', '2020-1-2 3:04', '2013/05/06 02:12:52 +0200', '2013-05-06T02:12:52.5Z', …"""
    found = _ISO_RE.fullmatch(text)
    if not found:
        return None
    zone = found.group("zone")
    name = found.group("name")
    if name and zone is None:  # '2013-05-06 10:00 (PST)' matched the name group only
        zone = name
    return _assemble(int(found.group("y")), int(found.group("m")), int(found.group("d")),
                     found.group("time"), zone)


def _worded_moment(text: str) -> dt.datetime | None:
    """Dates with month names: 'May 6, 2013', '6 May 2013 10:00', 'Mon, 06 May 2013 02:12:52 +0200'."""
    year = month = day = None
    time = zone = None
    for token in _WORD_TOKEN_RE.findall(text):
        word = token.rstrip(".").lower()
        if token == "," or word in WEEKDAYS or word == "at" or (word in ORDINALS and day is not None):
            continue
        if word in MONTHS and month is None:
            month = MONTHS[word]
        elif ":" in token and token[0].isdigit() and time is None:
            time = token
        elif word in ("am", "pm") and time is not None and "m" not in time.lower():
            time += word
        elif token[0] in "+-" or (word in ZONE_NAMES and zone is None):
            if zone is not None:
                return None
            zone = token
        elif token.isdigit() and len(token) == 4 and year is None:
            year = int(token)
        elif token.isdigit() and len(token) <= 2 and day is None:
            day = int(token)
        else:
            return None
    if year is None or month is None or day is None:
        return None
    if "".join(_WORD_TOKEN_RE.findall(text)).replace(",", "") != re.sub(r"[\s,]", "", text):
        return None  # characters the tokens did not account for: not a date we understand
    return _assemble(year, month, day, time, zone)


def _assemble(year: int, month: int, day: int, time: str | None, zone: str | None) -> dt.datetime | None:
    hour = minute = second = micro = 0
    if time:
        parts = _TIME_RE.match(time.strip())
        if not parts:
            return None
        hour, minute = int(parts.group(1)), int(parts.group(2))
        second = int(parts.group(3) or 0)
        micro = int((parts.group(4) or "0")[:6].ljust(6, "0"))
        meridiem = (parts.group(5) or "").lower()
        if meridiem:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if meridiem == "p" else 0)
        if second == 60:  # a leap second, as RFC 3339 allows: the moment before
            second, micro = 59, 999999
    tz = _zone(zone) if zone else None
    if zone and tz is None:
        return None
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _zone(text: str) -> dt.tzinfo | None:
    if text.lower() in ZONE_NAMES:
        return dt.timezone(dt.timedelta(hours=ZONE_NAMES[text.lower()]))
    found = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", text)
    if not found:
        return None
    hours, minutes = int(found.group(2)), int(found.group(3) or 0)
    if minutes >= 60 or hours >= 24:
        return None
    delta = dt.timedelta(hours=hours, minutes=minutes)
    return dt.timezone(-delta if found.group(1) == "-" else delta)


# --- source text and front matter -------------------------------------------------------------

def parse_post(key: str, data: bytes, zone: dt.tzinfo = dt.timezone.utc) -> Post:
    """Parse and validate one source; raise InvalidPost listing every problem found.

    `zone` is the site's time zone: dates written without an offset are in it.
    """
    text = decode_source(data)
    found = _front_matter(text)
    meta = _load(found)
    if found.format == "pelican" and not {"title", "date"} & {str(k).lower() for k in meta}:
        # Markdown that starts with 'Note: …' is a file without metadata, not a Pelican header.
        raise InvalidPost([_no_front_matter(found.first_line)])
    return _build_post(key, meta, found.body, zone, _MetaLines(text, found), found.format)


def decode_source(data: bytes) -> str:
    """Bytes to text: UTF-8 only, BOM dropped, CRLF and CR line ends made LF, unsafe characters dropped."""
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
    text = _normalized(text)
    if not text.strip():
        raise InvalidPost([Problem("file is empty")])
    return text


def too_large(size: int) -> Problem:
    """The problem of a file over MAX_SOURCE_BYTES."""
    return Problem(f"file is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,} bytes (MAX_SOURCE_BYTES)")


def _normalized(text: str) -> str:
    """BOM dropped, CRLF and CR line ends made LF, characters XML forbids dropped (see clean_text)."""
    return clean_text(text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class _FrontMatter:
    """Where a source's metadata is: its format, its text and the line it starts on, and the body."""

    format: str            # 'yaml', 'toml', 'json' or 'pelican'
    raw: str
    first_line: int        # 1-based line of raw's first line
    last_line: int         # 1-based line of raw's last line
    body: str


def _front_matter(text: str) -> _FrontMatter:
    """Find the metadata of a source; raise InvalidPost if it has none or it is not closed."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    opening = lines[start].strip() if start < len(lines) else ""
    if opening in FENCES:
        closers = FENCES[opening]
        indent = len(lines[start]) - len(lines[start].lstrip())
        # The closing fence is no further in than the opening one: a `---` inside an indented
        # YAML block is text, not the end of the front matter.
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() in closers
                    and len(lines[i]) - len(lines[i].lstrip()) <= indent), None)
        if end is None:
            raise InvalidPost([Problem(f"front matter is not closed: add a line '{opening}' after it", start + 1)])
        return _FrontMatter("toml" if opening == "+++" else "yaml", "\n".join(lines[start + 1:end]),
                            start + 2, end, "\n".join(lines[end + 1:]).strip("\n"))
    if opening.startswith("{"):
        return _json_front_matter(lines, start)
    if _PELICAN_KEY_RE.match(lines[start] if start < len(lines) else ""):
        end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
        header = lines[start:end]
        # Python-Markdown ends the metadata at the first line that is neither 'Key: value'
        # nor an indented continuation; that line belongs to the body.
        cut = next((i for i, line in enumerate(header) if i and not _PELICAN_KEY_RE.match(line)
                    and not _PELICAN_MORE_RE.match(line)), len(header))
        body = lines[start + cut:] if cut < len(header) else lines[end:]
        return _FrontMatter("pelican", "\n".join(header[:cut]), start + 1, start + cut,
                            "\n".join(body).strip("\n"))
    raise InvalidPost([_no_front_matter(start + 1)])


def _no_front_matter(line: int) -> Problem:
    return Problem("no front matter: start the file with a line '---', then 'title:' and 'date:', then '---'", line)


def _json_front_matter(lines: list[str], start: int) -> _FrontMatter:
    """Hugo's JSON front matter: one object at the top of the file."""
    rest = "\n".join(lines[start:])
    end = _json_object_end(rest)
    if end is None:
        raise InvalidPost([Problem("front matter is a JSON object that is not closed", start + 1)])
    raw = rest[:end]
    last = start + raw.count("\n")
    tail = rest[end:].split("\n", 1)
    return _FrontMatter("json", raw, start + 1, last + 1, (tail[1] if len(tail) > 1 else "").strip("\n"))


def _json_object_end(text: str) -> int | None:
    """Index just after the JSON object text starts with (strings and escapes respected), or None."""
    depth = 0
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def body_of(data: bytes) -> str:
    """The Markdown body of a source that was valid when indexed, without validating it again."""
    text = _normalized(data.decode("utf-8", errors="replace"))
    try:
        return _front_matter(text).body
    except InvalidPost:
        return text


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split text into (front matter mapping, Markdown body, line where the front matter starts)."""
    found = _front_matter(_normalized(text))
    return _load(found), found.body, found.first_line


def _load(found: _FrontMatter) -> dict[str, Any]:
    """The metadata mapping of a source, in its own format."""
    if len(found.raw) > MAX_FRONT_MATTER_CHARS:
        raise InvalidPost([Problem(f"front matter is {len(found.raw):,} characters; the limit is "
                                   f"{MAX_FRONT_MATTER_CHARS:,} (MAX_FRONT_MATTER_CHARS)", found.first_line)])
    loader = {"yaml": _load_yaml, "toml": _load_toml, "json": _load_json, "pelican": _load_pelican}
    try:
        meta = loader[found.format](found)
    except RecursionError:
        raise InvalidPost([Problem("front matter is nested too deeply", found.first_line)]) from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InvalidPost([Problem("front matter must be a mapping of 'key: value' lines", found.first_line)])
    return meta


@functools.lru_cache(maxsize=1)
def _front_matter_loader() -> type:
    """YAML's safe loader with aliases bounded, with timestamps left as text.

    Jekyll sites reuse values with anchors and aliases (`path: &image a.jpg`, `feature: *image`),
    but nested aliases expand exponentially when the values are walked ("billion laughs"),
    which would stall ingest: a document that expands to more than MAX_FRONT_MATTER_NODES
    values, or whose alias refers to the value it is in, is refused. Timestamps stay text so that
    `parse_date` reads every date the same way, and a bad one ('2013-13-45') is an error on its
    own key rather than a YAML error. Made on first use: PyYAML takes a tenth of the cold
    start to import, and page views never parse YAML.
    """
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        def compose_document(self) -> Any:
            node = super().compose_document()
            _expanded_size(node, {}, set())
            return node

    FrontMatterLoader.add_constructor(  # type: ignore[type-var]  # (the stubs' constructor type is narrower)
        "tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)
    return FrontMatterLoader


def _expanded_size(node: Any, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many values `node` holds once aliases are expanded (each shared node counted once
    per use, each computed once); over MAX_FRONT_MATTER_NODES or circular is a YAML error."""
    import yaml

    if id(node) in sizes:
        return sizes[id(node)]
    if id(node) in open_nodes:
        raise yaml.composer.ComposerError(None, None, "an alias (*) refers to the value it is in",
                                          node.start_mark)
    open_nodes.add(id(node))
    children = node.value if isinstance(node, yaml.SequenceNode) else \
        [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
    size = 1
    for child in children:
        size += _expanded_size(child, sizes, open_nodes)
        if size > MAX_FRONT_MATTER_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_FRONT_MATTER_NODES:,} values once aliases (*) are expanded "
                "(MAX_FRONT_MATTER_NODES)", node.start_mark)
    open_nodes.discard(id(node))
    sizes[id(node)] = size
    return size


# PyYAML's words for common mistakes -> what the editor should do.
YAML_HINTS = (
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed", "put the value in quotes: it contains ': '"),
    ("cannot start any token", "put the value in quotes: it starts with a character YAML reserves"),
    ("while scanning an alias", "put the value in quotes: it starts with '*'"),
    ("while scanning an anchor", "put the value in quotes: it starts with '&'"),
    ("while scanning a quoted scalar", "a quote is not closed"),
    ("while parsing a flow sequence", "a '[' is not closed"),
    ("while parsing a flow mapping", "a '{' is not closed"),
)


def _load_yaml(found: _FrontMatter) -> Any:
    import yaml

    if not found.raw.strip():
        return {}
    try:
        return yaml.load(found.raw, Loader=_front_matter_loader())
    except (ValueError, TypeError, OverflowError) as err:  # YAML's own conversions, e.g. an int of 5,000 digits
        raise InvalidPost([Problem(f"front matter is not valid YAML: {err}", found.first_line)]) from None
    except yaml.YAMLError as err:
        raise InvalidPost([_yaml_problem(err, found)]) from None


def _yaml_problem(err: Any, found: _FrontMatter) -> Problem:
    """A YAML error on the line of the mistake.

    PyYAML reports where it noticed the problem (`problem_mark`), which for an unclosed quote
    or bracket is the end of the front matter; the place the broken token or collection began
    (`context_mark`) is where the editor must look then. A scanner's context is always the
    start of the token it could not finish, and a flow collection's is its unclosed bracket:
    those are the better lines too. (A block's context is only where the mapping began.)
    """
    import yaml

    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    problem_mark = getattr(err, "problem_mark", None)
    context_mark = getattr(err, "context_mark", None)
    at_end = problem_mark is not None and problem_mark.index >= len(found.raw.rstrip())
    use_context = context_mark is not None and (
        at_end or isinstance(err, yaml.scanner.ScannerError) or (context or "").startswith("while parsing a flow"))
    mark = context_mark if use_context else problem_mark
    if mark is None and getattr(err, "position", None) is not None:  # the reader's errors
        line = found.first_line + found.raw[: err.position].count("\n")
    else:
        line = found.first_line + mark.line if mark is not None else found.first_line
    words = f"{context}: {problem}" if context else problem
    hint = next((h for trigger, h in YAML_HINTS if trigger in words), None)
    return Problem(f"front matter is not valid YAML: {words}" + (f" ({hint})" if hint else ""), line)


def _load_toml(found: _FrontMatter) -> Any:
    import tomllib

    try:
        return tomllib.loads(found.raw)
    except tomllib.TOMLDecodeError as err:
        located = _TOML_LINE_RE.search(str(err))
        line = found.first_line + int(located.group(1)) - 1 if located else found.first_line
        raise InvalidPost([Problem(f"front matter is not valid TOML: {err}", line)]) from None
    except ValueError as err:  # an integer too long to convert
        raise InvalidPost([Problem(f"front matter is not valid TOML: {err}", found.first_line)]) from None


def _load_json(found: _FrontMatter) -> Any:
    try:
        return json.loads(found.raw)
    except json.JSONDecodeError as err:
        raise InvalidPost([Problem(f"front matter is not valid JSON: {err.msg}",
                                   found.first_line + err.lineno - 1)]) from None
    except ValueError as err:  # an integer too long to convert
        raise InvalidPost([Problem(f"front matter is not valid JSON: {err}", found.first_line)]) from None


def _load_pelican(found: _FrontMatter) -> dict[str, Any]:
    """`Key: value` lines (keys lower-cased, as Pelican does); indented lines continue a value."""
    meta: dict[str, Any] = {}
    key = ""
    for line in found.raw.split("\n"):
        entry = _PELICAN_KEY_RE.match(line)
        if entry:
            key, value = entry.group(1).lower(), entry.group(2).strip()
            if key in meta:  # a key written twice: both values kept, as a list
                meta[key] = [*(meta[key] if isinstance(meta[key], list) else [meta[key]]), value]
            else:
                meta[key] = value
        elif key:
            more = line.strip()
            if isinstance(meta[key], list):
                meta[key][-1] = f"{meta[key][-1]}\n{more}"
            else:
                meta[key] = f"{meta[key]}\n{more}"
    return meta


class _MetaLines:
    """Finds the line a front matter key was written on, for error messages."""

    def __init__(self, text: str, found: _FrontMatter) -> None:
        self._lines = text.split("\n")
        self._found = found

    def of(self, key: str) -> int:
        key = key.removeprefix(PARAMS_PREFIX)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[:=]", re.IGNORECASE)
        first, last = self._found.first_line, self._found.last_line
        for number in range(first, min(last, len(self._lines)) + 1):
            if pattern.match(self._lines[number - 1]):
                return number
        return max(first - 1, 1)


# --- from front matter to Post ------------------------------------------------------------------

class _Meta:
    """Front matter keys looked up without regard to case, remembering which ones were used.

    Hugo (0.123 and later) puts the keys it does not define itself under `params:`
    (`params: {author: …, cover: …}`): those are found too, after the top-level ones, and
    named 'params.<key>'.
    """

    def __init__(self, meta: dict[Any, Any]) -> None:
        self.items: dict[str, Any] = {}
        self.by_name: dict[str, list[str]] = {}  # lower-case name -> the keys written so
        self.params_key: str | None = None
        for key, value in meta.items():
            self._add(clean_text(_key_text(key)), value)
        params = [k for k in self.by_name.get("params", ()) if isinstance(self.items[k], dict)]
        if params:
            self.params_key = params[0]
            for key, value in self.items[self.params_key].items():
                self._add(f"{PARAMS_PREFIX}{clean_text(_key_text(key))}", value)
        self.used: set[str] = set()

    def _add(self, name: str, value: Any) -> None:
        if name not in self.items:
            self.items[name] = value
            self.by_name.setdefault(name.removeprefix(PARAMS_PREFIX).strip().lower(), []).append(name)

    def present(self, names: Iterable[str]) -> list[tuple[str, Any]]:
        """(key as written, value) of each name present with a value, in `names` order."""
        return [(key, self.items[key]) for name in names for key in self.by_name.get(name, ())
                if not _is_empty(self.items[key])]

    def drop_empty(self, names: Iterable[str]) -> None:
        """Count known keys left empty (`tags:`, `description = ""`) as used: they are no unknown data."""
        self.used.update(key for name in names for key in self.by_name.get(name, ())
                         if _is_empty(self.items[key]))

    def first(self, names: Iterable[str]) -> tuple[str, Any] | None:
        found = self.present(names)
        return found[0] if found else None

    def use(self, key: str) -> None:
        self.used.add(key)

    def unused(self) -> dict[str, Any]:
        """The keys no field used; `params` without the entries that were used."""
        unused = {k: v for k, v in self.items.items() if k not in self.used and not k.startswith(PARAMS_PREFIX)}
        if self.params_key in unused:
            rest = {k.removeprefix(PARAMS_PREFIX): v for k, v in self.items.items()
                    if k.startswith(PARAMS_PREFIX) and k not in self.used}
            if rest:
                unused[self.params_key] = rest
            else:
                del unused[self.params_key]
        return unused


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _key_text(key: Any) -> str:
    try:
        return key if isinstance(key, str) else _scalar_text(key)
    except ValueError:
        return quote(key)


class _Collector:
    """Problems and warnings found while building a post, each with its line."""

    def __init__(self, where: _MetaLines | None) -> None:
        self.where = where
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def line(self, key: str) -> int:
        return self.where.of(key) if self.where else 1

    def check(self, key: str, convert: Callable[..., Any], *args: Any) -> Any:
        """convert(*args), or None with a problem on `key`'s line if it raises ValueError."""
        try:
            return convert(*args)
        except ValueError as err:
            self.problems.append(Problem(f"'{key}': {err}", self.line(key)))
            return None

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"'{key}': {message}")


def build_post(key: str, meta: dict[Any, Any], body: str, zone: dt.tzinfo = dt.timezone.utc) -> Post:
    """A Post from an already-parsed front matter mapping; raise InvalidPost listing every problem."""
    return _build_post(key, meta, clean_text(body), zone, None, "yaml")


def _build_post(key: str, meta: dict[Any, Any], body: str, zone: dt.tzinfo, where: _MetaLines | None,
                fmt: str) -> Post:
    keys = _Meta(meta)
    found = _Collector(where)
    name_date, name = _name_of(key)

    title = _build_title(keys, found, name if name_date else None)
    date, date_key = _build_date(keys, found, zone, name_date)
    publish_at = expires_at = updated = None
    if date is not None:
        publish_at = _later_moment(keys, found, zone, KEYS["publish_at"], date, skip=date_key)
    expires = keys.first(KEYS["expires_at"])
    if expires:
        keys.use(expires[0])
        expires_at = found.check(expires[0], _optional_moment, expires[1], zone)
    updated_entry = next((e for e in keys.present(KEYS["updated"]) if e[0] != date_key), None)
    if updated_entry:
        keys.use(updated_entry[0])
        updated = found.check(updated_entry[0], _optional_moment, updated_entry[1], zone)
    tags = _build_tags(keys, found, fmt, jekyll=bool(name_date) or "layout" in keys.by_name)
    summary = _build_summary(keys, found)
    draft = _build_draft(keys, found, fmt) or _in_draft_folder(key)
    authors = _build_authors(keys, found, fmt)
    images = _build_images(keys, found)
    slug, slug_from_name = _build_slug(keys, found, key)
    aliases = _build_aliases(keys, found, slug)
    teaser = _teaser(body, keys)
    keys.drop_empty(name for names in KEYS.values() for name in names)
    if found.problems:
        raise InvalidPost(found.problems)
    extra = _extra(keys.unused(), found)
    assert title is not None and date is not None  # else found.problems held why
    return Post(
        slug=slug, title=title, date=date, body=body, source_key=key, tags=tags, summary=summary,
        teaser=teaser, updated=updated, draft=draft, authors=authors, publish_at=publish_at,
        expires_at=expires_at, aliases=aliases, images=images, slug_from_name=slug_from_name,
        extra=extra, warnings=tuple(found.warnings),
    )


def _build_title(keys: _Meta, found: _Collector, jekyll_name: str | None) -> str | None:
    entry = keys.first(KEYS["title"])
    if entry is None:
        if jekyll_name:  # Jekyll titles a post without one after its file name
            return " ".join(word.capitalize() for word in _one_line(jekyll_name).replace("-", " ").split())
        found.problems.append(Problem("'title': missing; every post needs a title", found.line("title")))
        return None
    keys.use(entry[0])
    title: str | None = found.check(entry[0], _title, entry[1])
    return title


def _title(value: Any) -> str:
    title = _one_line(value)
    if not title:
        raise ValueError("missing; every post needs a title")
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"is {len(title):,} characters; the limit is {MAX_TITLE_CHARS} (MAX_TITLE_CHARS)")
    return title


def _build_date(keys: _Meta, found: _Collector, zone: dt.tzinfo,
                name_date: str | None) -> tuple[dt.datetime | None, str | None]:
    """The post's date and the key it came from (None: the file name): `date`, Hugo's fallbacks, the name."""
    candidates: list[tuple[str | None, Any]] = [
        (k, v) for k, v in keys.present(KEYS["date"])
        if not (k.lower() == "published" and _is_boolish(v))]  # Jekyll's `published: false`
    if name_date:
        candidates.append((None, name_date))
    candidates += keys.present(KEYS["date_last"])
    for date_key, value in candidates:
        known = len(found.problems)
        moment = found.check(date_key or "date", _optional_moment, value, zone)
        if moment is not None or len(found.problems) > known:
            if date_key:
                keys.use(date_key)
            return moment, date_key
        if date_key:
            keys.use(date_key)  # Hugo's zero date: no date here, try the next source
    found.problems.append(Problem("'date': missing; every post needs a date such as 2013-04-20",
                                  found.line("date")))
    return None, None


def _optional_moment(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A moment, or None for Hugo's zero date."""
    return None if is_zero_date(value) else parse_date(value, zone)


def _later_moment(keys: _Meta, found: _Collector, zone: dt.tzinfo, names: tuple[str, ...],
                  date: dt.datetime, skip: str | None) -> dt.datetime | None:
    """Hugo's `publishDate`, when it is later than the post's date (else the date rules alone)."""
    for name, value in keys.present(names):
        if name == skip or (name.lower() == "published" and _is_boolish(value)):
            continue
        keys.use(name)
        moment = found.check(name, _optional_moment, value, zone)
        return moment if moment is not None and moment > date else None
    return None


def _is_boolish(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in
                                       ("true", "false", "yes", "no"))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if _is_boolish(value):
        return value.strip().lower() in ("true", "yes")
    raise ValueError(f"{quote(value)} must be true or false")


def _build_draft(keys: _Meta, found: _Collector, fmt: str) -> bool:
    """Any of the generators' ways to keep a post off the site makes it a draft."""
    draft = False
    for name, value in keys.present(KEYS["draft"]):
        keys.use(name)
        draft = bool(found.check(name, _bool, value)) or draft
    for name, value in keys.present(("published",)):
        if _is_boolish(value):
            keys.use(name)
            draft = draft or found.check(name, _bool, value) is False
    for name, value in keys.present(KEYS["status"]):
        status = value.strip().lower() if isinstance(value, str) else None
        if status in DRAFT_STATUSES | PUBLISHED_STATUSES or fmt == "pelican":
            keys.use(name)
            draft = draft or status not in PUBLISHED_STATUSES
    for name, value in keys.present(KEYS["build"]):
        render = value.get("render") if isinstance(value, dict) else None
        if render is False or (isinstance(render, str) and render.strip().lower() in ("never", "false")):
            draft = True
    for name, value in keys.present(KEYS["headless"]):
        draft = draft or value is True
    return draft


def _listed(value: Any, split: Callable[[str], list[str]]) -> list[Any]:
    """A value that may be one item, a list of items, or a string of items."""
    if isinstance(value, str):
        return split(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        raise ValueError("must be a list or text, not a mapping")
    return [value]


def _comma_split(text: str) -> list[str]:
    return text.split(",")


def _pelican_split(text: str) -> list[str]:
    """Pelican splits lists on ';' when there is one, else on ','."""
    return text.split(";") if ";" in text else text.split(",")


def _build_tags(keys: _Meta, found: _Collector, fmt: str, jekyll: bool) -> tuple[Tag, ...]:
    """Tags and categories in one list, in the order written, without duplicates."""
    tags: dict[str, Tag] = {}
    order = {name: i for i, name in enumerate(keys.items)}
    for name, value in sorted(keys.present(KEYS["tags"]), key=lambda e: order[e[0]]):
        plural = name.lower() in ("tags", "categories")
        split: Callable[[str], list[str]]
        if fmt == "pelican":
            split = _pelican_split
        elif jekyll and plural and isinstance(value, str) and "," not in value:
            split = str.split  # Jekyll's `categories: news releases` is two categories
        else:
            split = _comma_split
        keys.use(name)
        found.check(name, _add_tags, tags, value, split)
    if len(tags) > MAX_TAGS:
        dropped = [quote(tag.name) for tag in list(tags.values())[MAX_TAGS:]]
        more = " …" if len(dropped) > 5 else ""
        found.warnings.append(f"{len(tags)} tags and categories; the limit is {MAX_TAGS} (MAX_TAGS): "
                              f"{', '.join(dropped[:5])}{more} left out")
    return tuple(tags.values())[:MAX_TAGS]


def _add_tags(tags: dict[str, Tag], value: Any, split: Callable[[str], list[str]]) -> None:
    for item in _listed(value, split):
        if isinstance(item, (dict, list, tuple)):
            raise ValueError(f"{quote(item)} is not a tag name")
        display = _one_line(item)
        if not display:
            continue
        if len(display) > MAX_TAG_CHARS:
            raise ValueError(f"{quote(display)} is over {MAX_TAG_CHARS} characters (MAX_TAG_CHARS)")
        slug = slugify(display)
        if not slug:
            raise ValueError(f"{quote(display)} has no letters or digits to make a URL from")
        tags.setdefault(slug, Tag(slug=slug, name=display))


def _build_summary(keys: _Meta, found: _Collector) -> str:
    entry = keys.first(KEYS["summary"])
    if entry is None:
        return ""
    name, value = entry
    text = found.check(name, _plain_text, value)
    if text is None:
        return ""
    keys.use(name)
    if len(text) > MAX_SUMMARY_CHARS:
        found.warn(name, f"is {len(text):,} characters; cut to {MAX_SUMMARY_CHARS} (MAX_SUMMARY_CHARS)")
        text = text[: MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return str(text)


def _plain_text(value: Any) -> str:
    """Text without HTML tags and comments, entities decoded, white space collapsed."""
    text = _without_comments(_scalar_text(value)[: MAX_SUMMARY_CHARS * 4])
    return " ".join(clean_text(html.unescape(_TAG_RE.sub(" ", text))).split())


def _without_comments(text: str) -> str:
    """Text without HTML comments (an unclosed one runs to the end), in one pass."""
    kept, at = [], 0
    while (start := text.find("<!--", at)) >= 0:
        kept.append(text[at:start])
        end = text.find("-->", start + 4)
        at = len(text) if end < 0 else end + 3
    kept.append(text[at:])
    return " ".join(kept)


def _build_authors(keys: _Meta, found: _Collector, fmt: str) -> tuple[str, ...]:
    authors: list[str] = []
    for name, value in keys.present(KEYS["authors"]):
        keys.use(name)
        found.check(name, _add_authors, authors, value, _pelican_split if fmt == "pelican" else lambda s: [s])
    if len(authors) > MAX_AUTHORS:
        found.warnings.append(f"{len(authors)} authors; the limit is {MAX_AUTHORS} (MAX_AUTHORS): the rest left out")
        authors = authors[:MAX_AUTHORS]
    kept: list[str] = []
    room = MAX_AUTHOR_CHARS
    for author in authors:
        if len(author) > room:
            found.warnings.append(f"the authors are over {MAX_AUTHOR_CHARS} characters (MAX_AUTHOR_CHARS): "
                                  f"cut after {quote(author[:room])}")
            if room > 1:
                kept.append(author[: room - 1] + "…")
            break
        kept.append(author)
        room -= len(author) + 2  # the ", " that joins them
    return tuple(kept)


def _add_authors(authors: list[str], value: Any, split: Callable[[str], list[str]]) -> None:
    for item in [value] if isinstance(value, dict) else _listed(value, split):
        if isinstance(item, dict):  # jekyll-seo-tag's and Hugo themes' `author: {name: …, avatar: …}`
            item = item.get("name") or item.get("display_name") or ""
        author = _one_line(item)
        if author and author not in authors:
            authors.append(author)


def _build_images(keys: _Meta, found: _Collector) -> tuple[str, ...]:
    images: list[str] = []
    for name, value in keys.present(KEYS["images"]):
        named = [_image_of(item) for item in (value if isinstance(value, list) else [value])]
        named = [n for n in named if n]
        if not named:
            continue  # `image: false` and the like: not an image, kept in extra
        keys.use(name)
        for image in named:
            if len(image) > MAX_IMAGE_CHARS:
                found.warn(name, f"{quote(image)} is over {MAX_IMAGE_CHARS} characters (MAX_IMAGE_CHARS); left out")
            elif image not in images:
                images.append(image)
    if len(images) > MAX_IMAGES:
        found.warnings.append(f"{len(images)} images; the limit is {MAX_IMAGES} (MAX_IMAGES): the rest left out")
    return tuple(images[:MAX_IMAGES])


def _image_of(value: Any) -> str:
    """The image a front matter value names: text, or a mapping such as `{image: x.jpg, alt: …}`."""
    if isinstance(value, dict):
        lowered = {_key_text(k).lower(): v for k, v in value.items()}
        value = next((lowered[k] for k in IMAGE_MAP_KEYS if isinstance(lowered.get(k), str)), "")
    return clean_text(value).strip() if isinstance(value, str) else ""


def _build_slug(keys: _Meta, found: _Collector, key: str) -> tuple[str, bool]:
    entry = keys.first(KEYS["slug"])
    if entry is not None:
        keys.use(entry[0])
        slug = found.check(entry[0], _slug, entry[1])
        return slug, False
    slug = slug_from_key(key)
    if not slug:
        found.problems.append(Problem(f"'slug': the file name {quote(key)} has no letters or digits; "
                                      "rename it or set 'slug:'", found.line("slug")))
    return slug, True


def _slug(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("must be text")
    slug = slugify(_scalar_text(value))
    if not slug:
        raise ValueError(f"{quote(value)} has no letters or digits to make a URL from")
    return slug


def _build_aliases(keys: _Meta, found: _Collector, slug: str | None) -> tuple[str, ...]:
    """Old URLs of the post as normalized paths (Hugo `aliases`, `redirect_from`, `url`, `permalink`)."""
    aliases: list[str] = []
    own = f"/posts/{slug}" if slug else None
    for name, value in keys.present(KEYS["aliases"]):
        keys.use(name)
        kind = name.lower()
        found.check(name, _add_aliases, aliases, value, kind, own, lambda m, n=name: found.warn(n, m))
    if len(aliases) > MAX_ALIASES:
        found.warnings.append(f"{len(aliases)} old URLs; the limit is {MAX_ALIASES} (MAX_ALIASES): the rest left out")
    return tuple(aliases[:MAX_ALIASES])


def _add_aliases(aliases: list[str], value: Any, kind: str, own: str | None,
                 warn: Callable[[str], None]) -> None:
    for item in _listed(value, lambda s: [s]):
        text = _one_line(item)
        if not text:
            continue
        if kind in ("url", "permalink"):
            if _URL_RE.match(text):
                continue  # a link elsewhere (some themes' link posts), not this post's old address
            if _PERMALINK_PLACEHOLDER_RE.search(text):
                warn(f"{quote(text)} is a pattern (':title', ':year'…), not an address; left out")
                continue
        relative = not (text.startswith("/") or _URL_RE.match(text))
        if relative:  # Hugo: relative to the post's section; elsewhere: to the site
            text = ("/posts/" if kind == "aliases" else "/") + text
        try:
            path = normalize_path(text)
        except ValueError as err:
            warn(f"{err}; left out")
            continue
        if path == "/":
            warn("the home page cannot redirect to a post; left out")
        elif path != own and path not in aliases:
            aliases.append(path)


def _teaser(body: str, keys: _Meta) -> str | None:
    """The Markdown before the `<!--more-->` marker (or the post's own `excerpt_separator`)."""
    entry = keys.first(KEYS["excerpt_separator"])
    separator = entry[1] if entry and isinstance(entry[1], str) else None
    if entry and separator and separator.strip() and len(separator) <= MAX_SEPARATOR_CHARS:
        keys.use(entry[0])
        at = body.find(separator)
    else:
        marker = MORE_RE.search(body)
        at = marker.start() if marker else -1
    teaser = body[:at].strip() if at >= 0 else ""
    return teaser or None


def _extra(unused: dict[str, Any], found: _Collector) -> dict[str, Any]:
    """The keys the blog does not use, as JSON-safe, DynamoDB-safe values, at most MAX_EXTRA_BYTES."""
    extra: dict[str, Any] = {}
    size = 2
    for name, value in unused.items():
        if not clean_text(name):
            found.warn(name, "an empty key; left out")
            continue
        try:
            safe = _json_safe(value, 0)
        except ValueError as err:
            found.warn(name, f"{err}; left out")
            continue
        cost = len(json.dumps({name: safe}, ensure_ascii=False).encode("utf-8", errors="replace"))
        if size + cost > MAX_EXTRA_BYTES:
            found.warn(name, f"the unknown keys are over {MAX_EXTRA_BYTES:,} bytes (MAX_EXTRA_BYTES); left out")
            continue
        extra[name] = safe
        size += cost
    return extra


def _json_safe(value: Any, depth: int) -> Any:
    """Front matter values as JSON data DynamoDB can store too: no floats, no integers over 38 digits."""
    if depth > MAX_EXTRA_DEPTH:
        raise ValueError(f"nested more than {MAX_EXTRA_DEPTH} levels (MAX_EXTRA_DEPTH)")
    if isinstance(value, dict):  # DynamoDB refuses an empty map key: such entries are left out
        named = ((clean_text(_key_text(k)), v) for k, v in value.items())
        return {name: _json_safe(v, depth + 1) for name, v in named if name}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) < 10 ** MAX_EXACT_DIGITS:
            return value
        return str(value) if value.bit_length() <= 10_000 else hex(value)  # text keeps it exactly
    if isinstance(value, float):
        return repr(value)  # DynamoDB has no float type; text keeps the value exactly
    return _scalar_text(value)


def scaffold(title: str, date: dt.datetime, tags: list[str] | None = None, draft: bool = True) -> str:
    """The text of a new post, for `blogctl new`."""
    import yaml

    meta = {"title": title, "date": format_utc(date), "tags": list(tags or []),
            "summary": "", "draft": draft}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\nWrite your post here, in Markdown.\n"
