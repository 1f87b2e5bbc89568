"""An imported post's address on its old site, and the id its old feed gave it. Pure: no I/O.

`blogctl import` records the old site's rules (model.SiteConfig); ingest calls `old_address`
for each post of an imported site, and the post's old URL then answers 301 to its new page,
its relative links resolve against it, and its feed entry keeps its id. The rules follow
each generator's own code:

| generator | path of a post                                              | feed entry id (what the old feed used)          |
|-----------|-------------------------------------------------------------|-------------------------------------------------|
| Jekyll    | `permalink` (a style: date, pretty, ordinal, weekdate, none, | jekyll-feed's `post.id`: the URL's folder, then |
|           | or a pattern of :year :month :day :title :slug :categories   | the post's slug, after `url` + `baseurl`        |
|           | :output_ext …); default `date`                               |                                                 |
| Hugo      | `[permalinks]` per section (:year :month :day :slug :title   | the RSS guid: the page's permalink             |
|           | :section :sections :filename :contentbasename …, Go date     | (`baseURL` + path)                              |
|           | layouts such as :06); default /<section>/<slug or name>/     |                                                 |
| Pelican   | `ARTICLE_URL` ({slug}, {date:%Y}, {category}, {lang} …),     | `tag:<host>,<date>:<path>/` (feedgenerator's    |
|           | default `{slug}.html`                                        | get_tag_uri of SITEURL + '/' + url)             |

A post's own `url:`/`permalink:` address wins over the rules (Jekyll, Hugo); a Jekyll
`permalink:` pattern applies to that post alone. Paths are site-relative: the old site's
base path (`baseurl`, the path of `baseURL`/`SITEURL`) is not part of them. Pelican slugs
are made as Pelican makes them, except that without `unidecode` (not a runtime dependency)
letters outside Latin lose their accents only, and other scripts are dropped.
"""
from __future__ import annotations

import datetime as dt
import posixpath
import re
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib import posts
from chalicelib.model import ANY_SECTION, SiteConfig

JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
JEKYLL_DEFAULT_STYLE = "date"
JEKYLL_OUTPUT_EXT = ".html"  # what Markdown becomes
HUGO_DEFAULT = "/:sections/:slugorcontentbasename/"  # Hugo's path for a page without a rule
PELICAN_DEFAULT = "{slug}.html"
PELICAN_DEFAULT_CATEGORY = "misc"
PELICAN_DEFAULT_LANG = "en"
# The only fields an ARTICLE_URL may name: str.format on anything else could read attributes
# of the objects behind it (`{date.__class__…}`), so a stored pattern is parsed, never formatted.
PELICAN_FIELDS = frozenset({"slug", "date", "lang", "category", "category.slug", "category.name",
                            "author", "author.slug", "author.name"})
# Characters Jekyll (Addressable) and Hugo leave unescaped in a path.
PATH_SAFE = "/-._~!$&'()*+,;=:@%"

_JEKYLL_TOKEN_RE = re.compile(r":([a-z_]+)")
_HUGO_TOKEN_RE = re.compile(r":(\w+)(\[[^\]]*\])?")
_PLACEHOLDER_RE = re.compile(r"(?:^|/|[^A-Za-z0-9]):[a-z_]{2,}")
_JEKYLL_PRETTY_RE = re.compile(r"[^\w._~!$&'()+,;=@]+")  # Ruby's [^\p{M}\p{L}\p{Nd}._~!$&'()+,;=@]+
_JEKYLL_DEFAULT_RE = re.compile(r"[\W_]+")  # [^\p{M}\p{L}\p{Nd}]+
_GO_LAYOUT = (("January", "%B"), ("Jan", "%b"), ("Monday", "%A"), ("Mon", "%a"), ("2006", "%Y"),
              ("06", "%y"), ("01", "%m"), ("02", "%d"), ("15", "%H"), ("04", "%M"), ("05", "%S"),
              ("1", "%-m"), ("2", "%-d"))


class PermalinkError(ValueError):
    """A rule that cannot make a path (an unknown placeholder, a field not allowed)."""


@dataclass(frozen=True)
class OldAddress:
    """Where a post lived: its path as the old site served it (site-relative), and its old feed id."""

    path: str
    feed_id: str = ""


def old_address(config: SiteConfig, key: str, post: posts.Post, meta: Mapping[Any, Any]) -> OldAddress | None:
    """The old address of a post of an imported site (None when no site was imported).

    `meta` is the post's front matter as written. Raises PermalinkError for a rule that
    cannot be applied.
    """
    make = _GENERATORS.get(config.generator)
    if make is None:
        return None
    return make(config, key, post, _Meta(meta))


def is_pattern(text: str) -> bool:
    """Does a `permalink:` value hold placeholders (':title', ':year') rather than an address?"""
    return bool(_PLACEHOLDER_RE.search(text))


class _Meta:
    """Front matter values by key: exactly (Jekyll) or without regard to case (Hugo, Pelican)."""

    def __init__(self, meta: Mapping[Any, Any]) -> None:
        self.exact = {str(k): v for k, v in meta.items()}
        self.folded = {str(k).lower(): v for k, v in reversed(list(meta.items()))}

    def text(self, name: str, exact: bool = False) -> str:
        value = (self.exact if exact else self.folded).get(name)
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            return ""
        return " ".join(str(value).split())


def _key_parts(key: str) -> list[str]:
    """The folders and file name of a source below `posts/`."""
    return [p for p in key.removeprefix(posts.POSTS_PREFIX).split("/") if p]


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _escaped(path: str) -> str:
    return quote(path, safe=PATH_SAFE)


def _absolute(config: SiteConfig, path: str) -> str:
    """The old site's URL of a site-relative path ('' when the old site's address is unknown)."""
    if not re.match(r"^https?://", config.base_url):  # no host: the old ids cannot be made again
        return ""
    return config.base_url.rstrip("/") + _escaped(path)


def _own_address(meta: _Meta, names: tuple[str, ...], exact: bool) -> str | None:
    """A post's own `url:`/`permalink:` address, when it names one (not a pattern, not another site)."""
    for name in names:
        text = meta.text(name, exact)
        if text and not is_pattern(text) and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
            return text if text.startswith("/") else "/" + text
    return None


# -- Jekyll --

def jekyll_slugify(text: str, pretty: bool, cased: bool) -> str:
    """Jekyll's Utils.slugify in its default mode (letters and digits) or `pretty` mode (URL-safe marks too)."""
    slug = (_JEKYLL_PRETTY_RE if pretty else _JEKYLL_DEFAULT_RE).sub("-", text).strip("-")
    return slug if cased else slug.lower()


def _jekyll_categories(key: str, meta: _Meta) -> list[str]:
    """Folder categories (the folders above `_posts`), then `categories`, then `category`."""
    parts = _key_parts(key)
    found = parts[:parts.index("_posts")] if "_posts" in parts else []
    for name in ("categories", "category"):
        value = meta.exact.get(name)
        if isinstance(value, str):
            found += value.split() if name == "categories" else [value]
        elif isinstance(value, list):
            found += [str(v) for v in value if v is not None]
    return list(dict.fromkeys(found))


def _jekyll(config: SiteConfig, key: str, post: posts.Post, meta: _Meta) -> OldAddress:
    name = _stem(_key_parts(key)[-1])
    dated = re.match(r"^\d{2,4}-\d{1,2}-\d{1,2}-(.+)$", name)
    file_slug = (dated.group(1) if dated else name).rstrip(".")
    slug = meta.text("slug", exact=True) or file_slug
    own = meta.text("permalink", exact=True)
    address = _own_address(meta, ("permalink",), exact=True)
    if address is None:
        pattern = own if own and is_pattern(own) else (config.permalinks.get(ANY_SECTION) or JEKYLL_DEFAULT_STYLE)
        pattern = JEKYLL_STYLES.get(pattern, pattern)
        date = post.date
        values: dict[str, str] = {
            "year": date.strftime("%Y"), "month": date.strftime("%m"), "day": date.strftime("%d"),
            "hour": date.strftime("%H"), "minute": date.strftime("%M"), "second": date.strftime("%S"),
            "i_day": str(date.day), "i_month": str(date.month), "short_month": date.strftime("%b").upper(),
            "long_month": date.strftime("%B"), "short_year": date.strftime("%y"),
            "w_year": date.strftime("%G"), "week": date.strftime("%V"), "w_day": date.strftime("%u"),
            "short_day": date.strftime("%a").upper(), "long_day": date.strftime("%A"),
            "y_day": date.strftime("%j"), "title": jekyll_slugify(slug, pretty=True, cased=True),
            "slug": jekyll_slugify(slug, pretty=False, cased=False), "name": jekyll_slugify(name, False, False),
            "categories": "/".join(c.lower() for c in _jekyll_categories(key, meta)),
            "output_ext": config.settings.get("output_ext") or JEKYLL_OUTPUT_EXT, "collection": "posts",
            "path": "/" + "/".join(_key_parts(key)), "basename": name,
        }
        address = _jekyll_expand(pattern, values)
    folder = posixpath.dirname(address.rstrip("/")) or "/"
    feed_path = posixpath.join(folder, slug)  # jekyll-feed's post.id: Document#id
    return OldAddress(address, _absolute(config, feed_path))


def _jekyll_expand(pattern: str, values: Mapping[str, str]) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        for candidate in (name, name.rstrip("_")):  # ':title_' is ':title' then '_'
            if candidate in values:
                return _escaped(values[candidate]) + name[len(candidate):]
        raise PermalinkError(f"permalink {pattern!r}: ':{name}' is not a Jekyll placeholder")

    path = re.sub(r"/{2,}", "/", "/" + _JEKYLL_TOKEN_RE.sub(replace, pattern))
    return path


# -- Hugo --

def hugo_urlize(text: str, lower: bool = True) -> str:
    """Hugo's path sanitizing: letters, digits, marks and `._~+#/\\` kept, spaces and hyphens as one hyphen."""
    kept: list[str] = []
    hyphen = False
    for char in text:
        category = unicodedata.category(char)
        if char.isalpha() or category == "Nd" or category.startswith("M") or char in "./\\_#+~":
            if hyphen:
                kept.append("-")
                hyphen = False
            kept.append(char)
        elif kept and (char == "-" or char.isspace()):
            hyphen = True
    slug = "".join(kept)
    return slug.lower() if lower else slug


def _go_layout(layout: str, date: dt.datetime) -> str:
    """A Go time layout (':2006', ':01', ':Jan') as Hugo formats the post's date."""
    out, at = [], 0
    while at < len(layout):
        for token, code in _GO_LAYOUT:
            if layout.startswith(token, at):
                out.append(str(int(date.strftime(code[0] + code[2]))) if code.startswith("%-") else date.strftime(code))
                at += len(token)
                break
        else:
            out.append(layout[at])
            at += 1
    return "".join(out)


def _hugo(config: SiteConfig, key: str, post: posts.Post, meta: _Meta) -> OldAddress:
    parts = _key_parts(key)
    bundle = _stem(parts[-1]) == "index" and len(parts) > 1
    base_name = parts[-2] if bundle else _stem(parts[-1])
    folders = parts[:-2] if bundle else parts[:-1]
    section = folders[0] if folders else ""
    lower = config.settings.get("disable_path_to_lower") != "true"
    urlize: Callable[[str], str] = lambda text: hugo_urlize(text, lower)  # noqa: E731
    address = _own_address(meta, ("url",), exact=False)
    if address is None:
        raw_slug = meta.text("slug")
        title = urlize(post.title)
        date = post.date
        values = {
            "year": date.strftime("%Y"), "month": date.strftime("%m"), "monthname": date.strftime("%B").lower(),
            "day": date.strftime("%d"), "weekday": str(int(date.strftime("%w"))),
            "weekdayname": date.strftime("%A").lower(), "yearday": str(int(date.strftime("%j"))),
            "section": section, "sections": section, "title": title,
            "slug": urlize(raw_slug) if raw_slug else title,
            "filename": urlize(base_name), "contentbasename": urlize(base_name),
            "slugorfilename": urlize(raw_slug) if raw_slug else urlize(base_name),
            "slugorcontentbasename": urlize(raw_slug) if raw_slug else urlize(base_name),
            "contentbasenameorslug": urlize(base_name),
        }
        pattern = config.permalinks.get(section) or config.permalinks.get(ANY_SECTION) or HUGO_DEFAULT

        def replace(found: re.Match[str]) -> str:
            name, index = found.group(1), found.group(2)
            if index:
                raise PermalinkError(f"permalink {pattern!r}: slices such as ':{name}{index}' are not supported")
            if name in values:
                return values[name]
            if name[0].isdigit() or name[:3] in ("Jan", "Mon"):
                return _go_layout(name, date)
            raise PermalinkError(f"permalink {pattern!r}: ':{name}' is not a Hugo permalink attribute")

        address = re.sub(r"/{2,}", "/", "/" + _HUGO_TOKEN_RE.sub(replace, pattern))
        if config.settings.get("ugly_urls") == "true":
            address = address.rstrip("/") + ".html" if address != "/" else address
        elif not posixpath.splitext(address)[1] and not address.endswith("/"):
            address += "/"
        address = address.lower() if lower else address
    return OldAddress(address, _absolute(config, address))


# -- Pelican --

def pelican_slugify(text: str, preserve_case: bool = False, use_unicode: bool = False) -> str:
    """Pelican's slugify with its default SLUG_REGEX_SUBSTITUTIONS (see the module's note on unidecode)."""
    value = unicodedata.normalize("NFKD", text)
    if not use_unicode:
        value = "".join(c for c in value if not unicodedata.combining(c)).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value)
    value = re.sub(r"[-\s]+", "-", value.strip())
    value = value if preserve_case else value.lower()
    return value.strip()


class _Named:
    """Pelican's URLWrapper: `{category}` is the name, `{category.slug}` its slug."""

    def __init__(self, name: str, slugify: Callable[[str], str]) -> None:
        self.name = name
        self.slug = slugify(name)

    def __str__(self) -> str:
        return self.name


def _pelican(config: SiteConfig, key: str, post: posts.Post, meta: _Meta) -> OldAddress:
    settings = config.settings

    def slugify(text: str) -> str:
        return pelican_slugify(text, settings.get("preserve_case") == "true", settings.get("use_unicode") == "true")

    parts = _key_parts(key)
    source = _stem(parts[-1])
    slug = meta.text("slug") or slugify(source if settings.get("slug_source") == "basename" else post.title)
    category = meta.text("category")
    if not category:
        by_folder = settings.get("use_folder_as_category", "true") == "true" and len(parts) > 1
        category = parts[-2] if by_folder else settings.get("default_category") or PELICAN_DEFAULT_CATEGORY
    author = (meta.text("author") or meta.text("authors")).split(",")[0].strip() or settings.get("author", "")
    fields: dict[str, Any] = {
        "slug": slug, "date": post.date, "lang": meta.text("lang") or settings.get("default_lang") or
        PELICAN_DEFAULT_LANG, "category": _Named(category, slugify), "author": _Named(author, slugify),
    }
    url = pelican_format(config.permalinks.get(ANY_SECTION) or PELICAN_DEFAULT, fields)
    path = "/" + url.lstrip("/")
    feed_id = ""
    if re.match(r"^https?://", config.base_url):
        link = urlsplit(f"{config.base_url.rstrip('/')}/{url}")
        feed_id = f"tag:{link.hostname},{post.date.strftime('%Y-%m-%d')}:{link.path}/"
    return OldAddress(path, feed_id)


def pelican_format(pattern: str, fields: Mapping[str, Any]) -> str:
    """An ARTICLE_URL with its fields filled in; only PELICAN_FIELDS may be named."""
    out = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as err:
        raise PermalinkError(f"ARTICLE_URL {pattern!r}: {err}") from None
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if name not in PELICAN_FIELDS or conversion or (spec and "{" in spec):
            raise PermalinkError(f"ARTICLE_URL {pattern!r}: {{{name}}} is not one of {sorted(PELICAN_FIELDS)}")
        head, _, attribute = name.partition(".")
        value = fields[head]
        value = getattr(value, attribute) if attribute else value
        out.append(value.strftime(spec) if isinstance(value, dt.datetime) and spec else format(str(value), spec or ""))
    return "".join(out)


_GENERATORS: dict[str, Callable[[SiteConfig, str, posts.Post, _Meta], OldAddress]] = {
    "jekyll": _jekyll, "hugo": _hugo, "pelican": _pelican,
}
