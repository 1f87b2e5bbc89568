"""The public site: every page a reader, a feed reader or a crawler asks for.

Each method answers one route with a `Page`. Reads are one GetItem or one Query
with a Limit; Markdown comes from S3 only on a cache miss. Post pages are cached in
memory under their ETag (slug, source version, index entry, template version), so a
warm view costs one GetItem and nothing else.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote
from collections.abc import Callable
from typing import Any

from chalicelib import feeds, model, pages, posts, render, search
from chalicelib.config import Settings
from chalicelib.errors import BadRequest, Gone, Moved, NotFound
from chalicelib.model import PostCard, PostRecord, Tombstone
from chalicelib.pages import Links, Page
from chalicelib.search_index import Searcher
from chalicelib.store import ContentStore, PostIndex, dumps

HOME_PAGE_SIZE = 10
TAG_PAGE_SIZE = 20
ARCHIVE_PAGE_SIZE = 50
API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 50
SITEMAP_PAGE_SIZE = 500
PAGE_CACHE_SIZE = 256
BODY_CACHE_SIZE = 512
MAX_ASSET_BYTES = 5 * 1024 * 1024  # Lambda answers at most 6 MB; larger files belong on a CDN
ASSET_NAME_RE = re.compile(r"^[^\W_][\w.-]{0,199}$")
TAGS_PAGE_SIZE = 500
MAX_PATH_CHARS = 1000  # longer request paths are not looked up
MAX_ASSET_FOLDERS = 8  # folders in a post's file name ('figures/2019/a.png') or an old site's file path
MORE_IN_TAG = 3  # posts of the same tag shown under a post
LAST_CHAR = model.LAST_CHAR
YEAR_RE = re.compile(r"^(19|20|21)\d\d$")
MONTH_RE = re.compile(r"^(0[1-9]|1[0-2])$")

# Assets are served as bytes; these are the types API Gateway must pass through as binary.
ASSET_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml", ".ico": "image/x-icon",
    ".pdf": "application/pdf", ".mp3": "audio/mpeg", ".mp4": "video/mp4", ".webm": "video/webm",
    ".zip": "application/zip",
}
DOWNLOAD_TYPE = "application/octet-stream"
# An uploaded SVG or PDF must not run script on our origin, whatever it contains.
ASSET_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


def now_utc() -> dt.datetime:
    """The current moment, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def public_fields(card: PostCard, links: Links) -> dict[str, Any]:
    """What the JSON API and the templates may show of a post: nothing internal."""
    return {
        "slug": card.slug,
        "title": card.title,
        "date": card.date,
        "date_offset": card.date_offset,
        "updated": card.updated,
        "summary": card.summary,
        "author": card.author or None,
        "authors": [a.to_dict() for a in card.authors],
        "tags": [t.to_dict() for t in card.tags],
        "reading_minutes": card.reading_minutes,
        "url": links.url(f"/posts/{card.slug}"),
        "path": links.path(f"/posts/{card.slug}"),
    }


class Site:
    """Answers the public routes from the index and the content bucket."""

    def __init__(self, index: PostIndex, content: ContentStore, settings: Settings,
                 clock: Callable[[], dt.datetime] = now_utc) -> None:
        self.index = index
        self.content = content
        self.settings = settings
        self.clock = clock
        self._pages = pages.LRU(PAGE_CACHE_SIZE)
        self._bodies = pages.LRU(BODY_CACHE_SIZE)
        self._searcher = Searcher(index, content)

    # -- listings --

    def home(self, links: Links, cursor: str | None) -> Page:
        """Newest posts first, with summaries and an "older posts" link."""
        after = pages.decode_cursor(cursor)
        page = self.index.listing(self._upper(), HOME_PAGE_SIZE, after_sk=after)
        if after and not page.items:
            raise NotFound("There are no posts past this point.")
        return self._listing_page(links, "index.html", self._visible(page.items), page.next_sk, "/",
                                  heading=None, is_first=after is None)

    def tag(self, links: Links, tag: str, cursor: str | None) -> Page:
        """Posts with one tag, newest first."""
        tag = _canonical_slug(tag, "/tags/{}", "No such tag.")
        after = pages.decode_cursor(cursor)
        page = self.index.group(model.tag_group(tag), self._upper(), TAG_PAGE_SIZE, after_sk=after)
        if not page.items:
            raise NotFound("No posts carry this tag.")
        name = page.items[0].group_name or tag
        cards = self._visible([m.card for m in page.items])
        return self._listing_page(links, "tag.html", cards, page.next_sk, f"/tags/{tag}",
                                  heading=name, is_first=after is None, tag={"slug": tag, "name": name})

    def archive_month(self, links: Links, year: str, month: str, cursor: str | None) -> Page:
        """Posts of one month, newest first."""
        if re.fullmatch(r"[0-9]{1,2}", month) and MONTH_RE.match(month.zfill(2)) and month != month.zfill(2):
            raise Moved(f"/archive/{year}/{month.zfill(2)}")  # /archive/2013/4 is April 2013 too
        if not (YEAR_RE.match(year) and MONTH_RE.match(month)):
            raise NotFound("No such month.")
        after = pages.decode_cursor(cursor)
        prefix = f"{year}-{month}"
        page = self.index.listing(min(self._upper(), f"{prefix}-{LAST_CHAR}"), ARCHIVE_PAGE_SIZE,
                                  after_sk=after, lower_sk=prefix)
        if not page.items:
            raise NotFound("No posts were published that month.")
        return self._listing_page(links, "tag.html", self._visible(page.items), page.next_sk,
                                  f"/archive/{year}/{month}",
                                  heading=pages.month_name(prefix), is_first=after is None, tag=None)

    def _listing_page(self, links: Links, template: str, cards: list[PostCard], next_sk: str | None,
                      path: str, heading: str | None, is_first: bool, **extra: Any) -> Page:
        shown = [public_fields(c, links) for c in cards]
        older = pages.encode_cursor(next_sk)
        return self._page(links, template, dict(
            extra, posts=shown, heading=heading, is_first=is_first,
            older=links.path(f"{path}?cursor={older}") if older else None, canonical=links.url(path)))

    def tags(self, links: Links) -> Page:
        """Every tag with its number of posts."""
        counts = self.index.counts(model.TAGS_PK, TAGS_PAGE_SIZE).items
        tags = sorted(({"slug": c.name, "name": c.label or c.name, "count": c.count} for c in counts),
                      key=lambda t: (-t["count"], t["name"].lower()))
        return self._page(links, "tags.html", dict(tags=tags, canonical=links.url("/tags")))

    def archive(self, links: Links) -> Page:
        """Every month with posts, grouped by year, newest first."""
        months = {c.name: c.count for c in self.index.counts(model.MONTHS_PK, 12 * 300).items}
        years: dict[str, list[dict[str, Any]]] = {}
        for key in sorted(months, reverse=True):
            years.setdefault(key[:4], []).append({"key": key, "count": months[key],
                                                  "path": links.path(f"/archive/{key[:4]}/{key[5:7]}")})
        return self._page(links, "archive.html", dict(years=years, canonical=links.url("/archive")))

    # -- one post --

    def post(self, links: Links, slug: str) -> Page:
        """One post; 301 for an old URL, 410 once deleted, 404 for drafts, scheduled and unknown slugs."""
        record = self._public_post(slug)
        upper = self._upper()
        newer, older = self.index.neighbours(record.card, upper)
        more = self._more_in_tag(record.card, upper)
        # Only what readers get: a rejected upload (its error, a new revision) changes nothing for them.
        etag = pages.fingerprint("post", dumps(record.card.to_dict()), dumps(record.extra),
                                 *(dumps(c.to_dict()) for c in (newer, older) if c),
                                 *(dumps(c.to_dict()) for c in more), links.base_url, self.settings.title,
                                 pages.template_version())
        return Page(make_body=lambda: self._pages.get_or_make(
            etag, lambda: self._render_post(record, newer, older, more, links)),
            etag=etag, last_modified=pages.parse_iso(record.source.mtime))

    def _public_post(self, slug: str) -> PostRecord:
        if not posts.is_slug(slug) and _normalized(f"/posts/{slug}") in self.index.site_config().feed_paths:
            raise Moved("/feed.xml")  # an imported section's feed: Hugo's /posts/index.xml
        slug = _canonical_slug(slug, "/posts/{}", "No such post.")
        found = self.index.post(slug)
        if isinstance(found, PostRecord) and found.is_public(self.clock()):
            return found
        self.redirect(model.post_path(slug))
        if isinstance(found, Tombstone):
            raise Gone("This post has been deleted.")
        raise NotFound("No such post.")

    def elsewhere(self, path: str) -> Page:
        """A path no route matches: the one canonical spelling of a page, an old URL or an old feed
        (301), a post's file in a subfolder, an imported site's file at its old path, or 404.

        Old URLs are stored without the old site's base path, so `/blog/2013/x.html` and
        `/2013/x.html` are the same post for a site that lived under `/blog`.
        """
        config = self.index.site_config()
        canonical = _without_base(_normalized(path) or "", config.base_path)
        shape = re.fullmatch(r"/(posts|tags)/([^/]+)|/archive/([0-9]{4})/([0-9]{1,2})", canonical)
        if shape and canonical != path:
            raise Moved(canonical)  # /posts/x/, /posts/x.html, /posts/x/index.html, /tags/x/, /blog/posts/x/
        if canonical in config.feed_paths:
            raise Moved("/feed.xml")  # the old site's feed: subscribers follow, entry ids are kept
        if canonical:
            self.redirect(canonical)
        in_folder = re.fullmatch(r"/assets/([^/]+)/(.+/.+)", path)
        if in_folder:
            return self.asset(in_folder.group(1), in_folder.group(2))  # a bundle's `figures/5.png`
        found = self._site_file(path)
        if found is not None:
            return found
        raise NotFound("Nothing here. It may have moved, or the address may be mistyped.")

    def redirect(self, path: str) -> None:
        """Raise Moved if `path` is an old URL of a public post (one GetItem)."""
        redirect = self.index.redirect(path)
        if redirect is not None and redirect.public and redirect.path != model.post_path(redirect.target):
            raise Moved(f"/posts/{redirect.target}")

    def _more_in_tag(self, card: PostCard, upper: str) -> list[PostCard]:
        """The newest other posts of the post's first tag."""
        if not card.tags:
            return []
        members = self.index.group(model.tag_group(card.tags[0].slug), upper, MORE_IN_TAG + 1).items
        return [m.card for m in members if m.card.slug != card.slug][:MORE_IN_TAG]

    def _render_post(self, record: PostRecord, newer: PostCard | None, older: PostCard | None,
                     more: list[PostCard], links: Links) -> str:
        rendered = self._body(record.card, links, absolute=False, extra=record.extra)
        link = lambda c: {"slug": c.slug, "title": c.title} if c else None  # noqa: E731
        return pages.render_template(
            "post.html", post=public_fields(record.card, links), body=rendered.html, toc=rendered.toc,
            nav={"newer": link(newer), "older": link(older)}, related=[link(c) for c in more],
            related_tag=record.card.tags[0].to_dict() if record.card.tags else None,
            canonical=links.url(f"/posts/{record.slug}"), **self._common(links),
        )

    def _body(self, card: PostCard, links: Links, absolute: bool, extra: dict[str, Any] | None = None) -> render.Rendered:
        """The post's rendered Markdown, read from S3 only on a cache miss.

        Feeds render from a card, which carries no front matter beyond the title: a `param`
        shortcode naming another key shows nothing there.
        """
        base = links.base_url if absolute else links.base_path
        source = card.source
        params = model.render_params(card.title, extra or {})
        old_site = self.index.site_config().base_url if card.old_path else ""
        key = pages.fingerprint(source.id, base, render.RENDER_VERSION, dumps(params), card.old_path or "", old_site)

        def make() -> render.Rendered:
            body = posts.body_of(self.content.read_version(source.key, source.version_id))
            return render.render_markdown(body, asset_base=f"{base}/assets/{card.slug}", link_base=base,
                                          site_url=links.base_url, params=params, page_path=card.old_path or "",
                                          source_key=source.key, old_site_url=old_site)

        return self._bodies.get_or_make(key, make)

    # -- feeds and crawlers --

    def feed(self, links: Links, tag: str | None = None) -> Page:
        """Atom feed of the newest posts (of one tag), full content."""
        if tag is not None:
            if not posts.is_slug(tag):
                raise NotFound("No such tag.")
            members = self.index.group(model.tag_group(tag), self._upper(), feeds.FEED_SIZE).items
            if not members:
                raise NotFound("No posts carry this tag.")
            title = f"{self.settings.title}: {members[0].group_name or tag}"
            cards = self._visible([m.card for m in members])
            feed_path, page_path = f"/tags/{tag}/feed.xml", f"/tags/{tag}"
        else:
            cards = self._visible(self.index.listing(self._upper(), feeds.FEED_SIZE).items)
            title, feed_path, page_path = self.settings.title, "/feed.xml", "/"
        etag = pages.fingerprint("feed", title, feed_path, links.base_url, *(dumps(c.to_dict()) for c in cards))

        def make() -> str:
            entries = [feeds.FeedEntry(_feed_item(c), self._body(c, links, absolute=True).html) for c in cards]
            return feeds.atom_feed(title, links, feed_path, page_path, entries, model.utc_text(self.clock()))

        return Page(make_body=lambda: self._pages.get_or_make(etag, make), etag=etag,
                    content_type=feeds.ATOM, cache_control=pages.FEED_CACHE)

    def sitemap(self, links: Links) -> Page:
        """Every public post, tag and listing page, for search engines."""
        entries: list[tuple[str, str | None]] = [("/", None), ("/tags", None), ("/archive", None)]
        after = None
        while True:  # a sitemap lists everything: it pages through the whole listing
            page = self.index.listing(self._upper(), SITEMAP_PAGE_SIZE, after_sk=after)
            entries += [(f"/posts/{c.slug}", (c.updated or c.date)[:10]) for c in self._visible(page.items)]
            if not page.next_sk:
                break
            after = page.next_sk
        for count in self.index.counts(model.TAGS_PK, TAGS_PAGE_SIZE).items:
            entries.append((f"/tags/{count.name}", None))
        body = feeds.sitemap(links, entries)
        return pages.fixed(body, content_type=feeds.XML, cache_control=pages.FEED_CACHE,
                           etag=pages.fingerprint(body))

    def robots(self, links: Links) -> Page:
        """robots.txt, pointing at the sitemap."""
        return pages.fixed(feeds.robots(links), content_type="text/plain; charset=utf-8",
                           cache_control=pages.FEED_CACHE)

    # -- search --

    def search(self, links: Links, query_text: str | None) -> Page:
        """Ranked full-text search; every hit is checked against the index as it is now."""
        text = query_text or ""
        if len(text) > search.MAX_QUERY_CHARS:
            raise BadRequest(f"Search for at most {search.MAX_QUERY_CHARS} characters.")
        query = search.Query.parse(text)
        results: list[dict[str, Any]] = []
        if query.terms:
            hits = search.SearchIndex({"docs": self._searcher.documents()}).search(query, self._upper())
            current = self.index.get_many(model.post_key(h.doc["slug"]) for h in hits)
            now = self.clock()
            for hit in hits:
                item = current.get((model.POST_PREFIX + hit.doc["slug"], model.POST_SK))
                if item is None or item.get("status") == model.Status.DELETED.value:
                    continue
                record = PostRecord.from_item(item)
                if record.is_public(now):
                    results.append({**public_fields(record.card, links), "score": hit.score})
        context = dict(query=query.text, searched=bool(query.text), has_terms=bool(query.terms),
                       results=results, canonical=links.url("/search"), **self._common(links))
        return Page(make_body=lambda: pages.render_template("search.html", **context),
                    cache_control=pages.SEARCH_CACHE)

    # -- JSON API --

    def api_posts(self, links: Links, cursor: str | None, limit: str | None) -> Page:
        """Public posts as JSON, newest first, paginated by cursor."""
        size = _page_size(limit)
        page = self.index.listing(self._upper(), size, after_sk=pages.decode_cursor(cursor))
        older = pages.encode_cursor(page.next_sk)
        data = {
            "posts": [public_fields(c, links) for c in self._visible(page.items)],
            "next": links.url(f"/api/posts?cursor={older}&limit={size}") if older else None,
        }
        return _json(data)

    def api_post(self, links: Links, slug: str) -> Page:
        """One public post as JSON, with its HTML."""
        record = self._public_post(slug)
        rendered = self._body(record.card, links, absolute=True, extra=record.extra)
        return _json({**public_fields(record.card, links), "html": rendered.html, "toc": rendered.toc,
                      "extra": record.extra})

    # -- files --

    def stylesheet(self, name: str) -> Page:
        """The site's CSS under its content-hashed name (cached for a year)."""
        current, css = pages.stylesheet()
        if name == current:
            return pages.fixed(css, content_type="text/css; charset=utf-8", cache_control=pages.IMMUTABLE_CACHE)
        if re.match(r"^style\.[0-9a-f]{12}\.css$", name):
            # A page cached before a deploy asks for the old name: serve today's CSS, briefly cached.
            return pages.fixed(css, content_type="text/css; charset=utf-8", cache_control=pages.ERROR_CACHE)
        raise NotFound("No such file.")

    def asset(self, slug: str, name: str) -> Page:
        """A public post's file: `assets/<slug>/<name>`, or beside its source when the post is a
        bundle (`posts/…/<bundle>/figures/5.png`); else an imported site's file at this path."""
        if posts.is_slug(slug) and _is_file_name(name):
            found = self.index.post(slug)
            if isinstance(found, PostRecord) and found.is_public(self.clock()):  # a draft's files stay private
                for key in _asset_keys(found, name):
                    asset = self.content.read_asset(key, MAX_ASSET_BYTES)
                    if asset is not None:
                        return _file_page(asset, name)
                if found.card.old_path:  # an imported post's relative file, where its old page found it
                    beside = self._site_file(render.resolve_relative(found.card.old_path, name))
                    if beside is not None:
                        return beside
        found_file = self._site_file(f"/assets/{slug}/{name}")  # an old site's own /assets/ folder
        if found_file is not None:
            return found_file
        raise NotFound("No such file.")

    def _site_file(self, path: str) -> Page | None:
        """An imported site's file at its old path (one S3 GET), or None; never run as a page."""
        config = self.index.site_config()
        if not config.files_prefix or len(path) > MAX_PATH_CHARS:
            return None
        relative = _without_raw_base(path, config.base_path).strip("/")
        if not relative or path.endswith("/") or not _is_file_path(relative):
            return None
        asset = self.content.read_asset(config.files_prefix + relative, MAX_ASSET_BYTES)
        return _file_page(asset, relative.rsplit("/", 1)[-1]) if asset is not None else None

    # -- errors --

    def error_page(self, links: Links, status: int, message: str) -> Page:
        """404, 410, 400 and 500 pages in the site's look."""
        titles = {400: "Bad request", 404: "Not found", 410: "Gone", 500: "Something went wrong"}
        body = pages.render_template("error.html", status=status, title=titles.get(status, "Error"),
                                     message=message, canonical=None, **self._common(links))
        return pages.fixed(body, status=status,
                           cache_control=pages.NO_STORE if status >= 500 else pages.ERROR_CACHE)

    # -- helpers --

    def _upper(self) -> str:
        """Highest listing sort key readers may see now: scheduled posts stay hidden until their date."""
        return model.upper_bound(self.clock())

    def _visible(self, cards: list[PostCard]) -> list[PostCard]:
        """Cards readers may see now (a post past its expiry date stays listed until the rebuild)."""
        now = self.clock()
        return [c for c in cards if c.is_visible(now)]

    def _page(self, links: Links, template: str, data: dict[str, Any]) -> Page:
        """A page rendered from plain data; its ETag is a hash of that data and the templates."""
        etag = pages.fingerprint(template, dumps(data), links.base_url, self.settings.title,
                                 pages.template_version())
        return Page(make_body=lambda: pages.render_template(template, **data, **self._common(links)), etag=etag)

    def _common(self, links: Links) -> dict[str, Any]:
        return {"site": {"title": self.settings.title, "description": self.settings.description},
                "link": links.path, "absolute": links.url}


def _normalized(path: str) -> str | None:
    """An old URL's stored form (posts.normalize_path), or None for what cannot be one."""
    if len(path) > MAX_PATH_CHARS:
        return None
    try:
        return posts.normalize_path(path)
    except ValueError:
        return None


def _without_base(path: str, base: str) -> str:
    """A normalized path below the old site's base path, as old URLs are stored ('/blog/x' -> '/x')."""
    if base and (path == base or path.startswith(base + "/")):
        return path[len(base):] or "/"
    return path


def _without_raw_base(path: str, base: str) -> str:
    """A request path without the old site's base path (compared without regard to case)."""
    if base and (path.lower() == base or path.lower().startswith(base + "/")):
        return path[len(base):]
    return path


def _is_file_name(name: str) -> bool:
    """A post's file: names of letters, digits, '.', '-' and '_' in at most MAX_ASSET_FOLDERS folders."""
    parts = name.split("/")
    return len(parts) <= MAX_ASSET_FOLDERS + 1 and all(ASSET_NAME_RE.match(p) and ".." not in p for p in parts)


def _is_file_path(path: str) -> bool:
    """An old site's file path: no hidden, empty, '.' or '..' parts, no control characters."""
    parts = path.split("/")
    return (len(parts) <= MAX_ASSET_FOLDERS + 1 and not re.search(r"[\x00-\x1f\x7f\\]", path)
            and all(p and not p.startswith(".") for p in parts))


def _asset_keys(record: PostRecord, name: str) -> list[str]:
    """Where a post's file may be: beside a bundle's source (never a source itself), then under assets/."""
    keys = []
    source = record.source.key
    folder, _, file_name = source.rpartition("/")
    if file_name.rsplit(".", 1)[0] == "index" and folder != posts.POSTS_PREFIX.rstrip("/") and \
            not name.lower().endswith(posts.SOURCE_SUFFIXES):
        keys.append(f"{folder}/{name}")
    keys.append(f"assets/{record.slug}/{name}")
    return keys


def _file_page(asset: Any, name: str) -> Page:
    """A stored file as a response: an allow-listed type, anything else a download; never active content."""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    content_type = ASSET_TYPES.get(extension, DOWNLOAD_TYPE)
    headers = {"Content-Security-Policy": ASSET_CSP}
    if content_type == DOWNLOAD_TYPE:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return pages.fixed(asset.body, content_type=content_type, etag=asset.etag,
                       last_modified=asset.last_modified, cache_control="public, max-age=86400", headers=headers)


def _canonical_slug(text: str, pattern: str, missing: str) -> str:
    """A slug from a URL; Moved when it is spelled otherwise ('IJM' -> 'ijm'), NotFound when it is none."""
    if posts.is_slug(text):
        return text
    forgivable = "/" not in text and "\\" not in text
    slug = posts.slugify(_normalized("/" + text) or "") if forgivable else ""
    if slug and slug != text:
        raise Moved(pattern.format(slug))
    raise NotFound(missing)


def _feed_item(card: PostCard) -> dict[str, Any]:
    """A card as the feed writer reads it."""
    return {**card.to_dict(), "author": card.author or None}


def _page_size(limit: str | None) -> int:
    if limit in (None, ""):
        return API_PAGE_SIZE
    if not re.fullmatch(r"[0-9]{1,3}", limit) or not 1 <= int(limit) <= API_MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be a number from 1 to {API_MAX_PAGE_SIZE}.")
    return int(limit)


def _json(data: dict[str, Any]) -> Page:
    return pages.fixed(json.dumps(data, ensure_ascii=False), content_type="application/json",
                       cache_control=pages.PAGE_CACHE)
