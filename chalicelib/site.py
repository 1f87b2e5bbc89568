"""The public site: every page a reader, a feed reader or a crawler asks for.

Each method answers one route with a `Page`. Reads are one GetItem or one Query
with a Limit; Markdown comes from S3 only on a cache miss. Post pages are cached in
memory under their ETag (slug, source version, index entry, template version), so a
warm view costs one GetItem and nothing else.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import time
from urllib.parse import quote
from collections.abc import Callable
from typing import Any

from chalicelib import dates, lru, model, pages, posts, preview, render, templates
from chalicelib.config import Settings
from chalicelib.errors import BadRequest, Gone, InvalidPost, Moved, NotFound
from chalicelib.model import PostCard, PostRecord, SourceRejection, Tombstone
from chalicelib.links import Links, Position, decode_cursor, encode_cursor, listing_url
from chalicelib.pages import Page
from chalicelib.store import ContentStore, PostIndex, SecretParameter, Slice, dumps

log = logging.getLogger(__name__)

HOME_PAGE_SIZE = 10
TAG_PAGE_SIZE = 20
ARCHIVE_PAGE_SIZE = 50
API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 50
SITEMAP_PAGE_SIZE = 500
SITEMAP_PAGES = "pages.xml"
MAX_MONTHS = 12 * 200  # the archive's months: two centuries of posts
PAGE_CACHE_SIZE = 256
BODY_CACHE_SIZE = 512
# Assets are answered with a redirect to a signed bucket URL: any size, any Accept header.
ASSET_URL_SECONDS = 3600  # how long a signed URL works (less, if the signing credentials expire first)
ASSET_REDIRECT_SECONDS = 300  # how long a browser or CDN may reuse one redirect: well inside the above
ASSET_REDIRECT_CACHE = f"public, max-age={ASSET_REDIRECT_SECONDS}, s-maxage={ASSET_REDIRECT_SECONDS}"
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
# A preview is for the people holding its link: never indexed, never cached, never sent on as a referrer.
PREVIEW_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}
PREVIEW_CACHE = "private, no-store"


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
                 clock: Callable[[], dt.datetime] = now_utc, preview_secret: SecretParameter | None = None) -> None:
        self.index = index
        self.content = content
        self.settings = settings
        self.clock = clock
        # The secret that signs preview links, re-read every preview.SECRET_TTL_SECONDS (tests move its clock).
        self.preview_secret = preview.SecretCache(preview_secret.read) if preview_secret is not None else None
        self._pages: lru.LRU[str | bytes] = lru.LRU(PAGE_CACHE_SIZE)
        self._bodies: lru.LRU[render.Rendered] = lru.LRU(BODY_CACHE_SIZE)

    # -- listings --

    def home(self, links: Links, cursor: str | None, before: str | None = None, page: str | None = None) -> Page:
        """Newest posts first, with summaries; newer and older pages by cursor."""
        upper = self._upper()
        position = Position.parse(cursor, before, page)
        found, paging = self._paged(links, "/", position, HOME_PAGE_SIZE, upper, None, lambda a, b: self.index.listing(
            upper, HOME_PAGE_SIZE, after_sk=a, before_sk=b))
        return self._listing_page(links, "index.html", found, paging, heading=None)

    def tag(self, links: Links, tag: str, cursor: str | None, before: str | None = None,
            page: str | None = None) -> Page:
        """Posts with one tag, newest first."""
        tag = _canonical_slug(tag, "/tags/{}", "No such tag.")
        return self._group_page(links, model.tag_group(tag), f"/tags/{tag}", tag, "No posts carry this tag.",
                                Position.parse(cursor, before, page), kind="tag")

    def author(self, links: Links, author: str, cursor: str | None, before: str | None = None,
               page: str | None = None) -> Page:
        """Posts by one author, newest first."""
        author = _canonical_slug(author, "/authors/{}", "No such author.")
        return self._group_page(links, model.author_group(author), f"/authors/{author}", author,
                                "No posts by this author.", Position.parse(cursor, before, page), kind="author")

    def _group_page(self, links: Links, group: str, path: str, slug: str, missing: str, position: Position,
                    kind: str) -> Page:
        upper = self._upper()
        found, paging = self._paged(links, path, position, TAG_PAGE_SIZE, upper, None, lambda a, b: self.index.group(
            group, upper, TAG_PAGE_SIZE, after_sk=a, before_sk=b), key=lambda m: m.card.listing_sk)
        if not found:
            raise NotFound(missing)
        name = found[0].group_name or slug
        return self._listing_page(links, "tag.html", [m.card for m in found], paging, heading=name,
                                  group={"kind": kind, "slug": slug, "name": name, "feed": f"{path}/feed.xml"})

    def archive_month(self, links: Links, year: str, month: str, cursor: str | None, before: str | None = None,
                      page: str | None = None) -> Page:
        """Posts of one month, newest first."""
        if re.fullmatch(r"[0-9]{1,2}", month) and MONTH_RE.match(month.zfill(2)) and month != month.zfill(2):
            raise Moved(f"/archive/{year}/{month.zfill(2)}")  # /archive/2013/4 is April 2013 too
        if not (YEAR_RE.match(year) and MONTH_RE.match(month)):
            raise NotFound("No such month.")
        prefix = f"{year}-{month}"
        upper = min(self._upper(), f"{prefix}-{LAST_CHAR}")
        position = Position.parse(cursor, before, page)
        found, paging = self._paged(
            links, f"/archive/{year}/{month}", position, ARCHIVE_PAGE_SIZE, upper, prefix,
            lambda a, b: self.index.listing(upper, ARCHIVE_PAGE_SIZE, after_sk=a, before_sk=b, lower_sk=prefix))
        if not found:
            raise NotFound("No posts were published that month.")
        return self._listing_page(links, "tag.html", found, paging, heading=dates.month_name(prefix), group=None)

    def _paged(self, links: Links, path: str, position: Position, size: int, upper: str, lower: str | None,
               read: Callable[[str | None, str | None], Slice],
               key: Callable[[Any], str] = lambda card: card.listing_sk) -> tuple[list[Any], dict[str, Any]]:
        """One page of a listing and the links around it: newer, older, the page numbers we know.

        Cursors are sort keys, so every page is one Query at any depth; numbers cannot be
        jumped to, only counted from the first page (carried in the URL, shown in the title).
        Read backwards, the page's canonical URL is its forwards spelling (after the post
        just newer than it), so each stretch of posts has one URL.
        """
        cursor = position.cursor
        if cursor is not None and not ((lower or "") <= cursor <= upper):
            raise NotFound("There are no posts past this point.")
        number = position.number
        if position.before:
            found = read(None, position.before)
            if found.peek_sk is None and len(found.items) < size:  # nothing newer beyond: the first page
                position, found = Position(), read(None, None)
        else:
            found = read(position.after, None)
        if not found.items and not position.is_first:
            raise NotFound("There are no posts past this point.")
        first = position.is_first or (position.before is not None and found.peek_sk is None)
        items = found.items
        newer: tuple[str, int | None] | None = None
        older: tuple[str, int | None] | None = None
        if first:
            number, canonical = 1, path
            if position.before or found.next_sk:
                older = (listing_url(path, after=key(items[-1]), number=2), 2)
        else:
            canonical = (listing_url(path, after=found.peek_sk, number=number) if position.before
                         else listing_url(path, after=position.after, number=number))
            newer_number = number - 1 if number else None
            newer = (path if newer_number == 1 else listing_url(path, before=key(items[0]), number=newer_number),
                     newer_number)
            older_sk = key(items[-1]) if position.before else found.next_sk
            if older_sk:
                older = (listing_url(path, after=older_sk, number=number + 1 if number else None),
                         number + 1 if number else None)
        def link(found: tuple[str, int | None] | None) -> dict[str, Any] | None:
            return {"path": links.path(found[0]), "url": links.url(found[0]), "number": found[1]} if found else None

        paging = {"number": number, "is_first": first, "newer": link(newer), "older": link(older),
                  "first": links.path(path) if number is not None and number > 2 else None,
                  "canonical": links.url(canonical)}
        return items, paging

    def _listing_page(self, links: Links, template: str, cards: list[PostCard], paging: dict[str, Any],
                      heading: str | None, **extra: Any) -> Page:
        shown = [public_fields(c, links) for c in self._visible(cards)]
        return self._page(links, template, dict(extra, posts=shown, heading=heading, paging=paging,
                                                is_first=paging["is_first"], canonical=paging["canonical"]))

    def tags(self, links: Links) -> Page:
        """Every tag with its number of posts."""
        counts = self.index.counts(model.TAGS_PK, TAGS_PAGE_SIZE).items
        most = max((c.count for c in counts), default=1)
        tags = sorted(({"slug": c.name, "name": c.label or c.name, "count": c.count,
                        "weight": templates.cloud_weight(c.count, most)} for c in counts),
                      key=lambda t: (t["name"].lower(), t["slug"]))
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
        record, images = self._public_post(slug)
        upper = self._upper()
        newer, older = self.index.neighbours(record.card, upper)
        more = self._more_in_tag(record.card, upper)
        # Only what readers get: a rejected upload (its error, a new revision) changes nothing for them.
        etag = pages.fingerprint("post", dumps(record.card.to_dict()), dumps(record.extra),
                                 dumps(images.dimensions()),
                                 *(dumps(c.to_dict()) for c in (newer, older) if c),
                                 *(dumps(c.to_dict()) for c in more), links.base_url, self.settings.title,
                                 templates.template_version())
        return Page(make_body=lambda: self._pages.get_or_make(
            etag, lambda: self._render_post(record, images, newer, older, more, links)),
            etag=etag, last_modified=pages.parse_iso(record.source.mtime))

    def _public_post(self, slug: str) -> tuple[PostRecord, model.ImageSizes]:
        """A post readers may see, with its image sizes (one Query); else Moved, Gone or NotFound."""
        if not posts.is_slug(slug) and _normalized(f"/posts/{slug}") in self.index.site_config().feed_paths:
            raise Moved("/feed.xml")  # an imported section's feed: Hugo's /posts/index.xml
        slug = _canonical_slug(slug, "/posts/{}", "No such post.")
        found, images = self.index.post_page(slug)
        if isinstance(found, PostRecord) and found.is_public(self.clock()):
            return found, images
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
        shape = re.fullmatch(r"/(posts|tags|authors)/([^/]+)|/archive/([0-9]{4})/([0-9]{1,2})", canonical)
        if shape and canonical != path:
            raise Moved(canonical)  # /posts/x/, /posts/x.html, /posts/x/index.html, /tags/x/, /blog/posts/x/
        year = re.fullmatch(r"/archive/([0-9]{4})/?", path)
        if year and YEAR_RE.match(year.group(1)):
            raise Moved(f"/archive#{year.group(1)}")  # a year is a section of the archive page
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

    def _render_post(self, record: PostRecord, images: model.ImageSizes, newer: PostCard | None,
                     older: PostCard | None, more: list[PostCard], links: Links) -> str:
        rendered = self._body(record.card, links, absolute=False, extra=record.extra, images=images)
        return self._post_html(record.card, rendered, newer, older, more, links,
                               canonical=links.url(f"/posts/{record.slug}"))

    def _post_html(self, card: PostCard, rendered: render.Rendered | None, newer: PostCard | None,
                   older: PostCard | None, more: list[PostCard], links: Links, template: str = "post.html",
                   **context: Any) -> str:
        """A post page (or its preview, with template="preview.html") from its card and body."""
        def link(c: PostCard | None) -> dict[str, str] | None:
            return {"slug": c.slug, "title": c.title} if c else None

        return templates.render_template(
            template, post=public_fields(card, links), body=rendered.html if rendered else "",
            toc=rendered.toc if rendered else "",
            nav={"newer": link(newer), "older": link(older)}, related=[link(c) for c in more],
            related_tag=card.tags[0].to_dict() if card.tags else None, **context, **self._common(links),
        )

    def _body(self, card: PostCard, links: Links, absolute: bool, extra: dict[str, Any] | None = None,
              images: model.ImageSizes | None = None, asset_base: str | None = None) -> render.Rendered:
        """The post's rendered Markdown, read from S3 only on a cache miss.

        Feeds render from a card, which carries no front matter beyond the title: a `param`
        shortcode naming another key shows nothing there; nor image sizes (feed readers lay
        out their own way). Images are under `asset_base` (default: the post's /assets/ folder).
        """
        base = links.base_url if absolute else links.base_path
        source = card.source
        params = model.render_params(card.title, extra or {})
        sizes = images.dimensions() if images is not None else {}
        assets = asset_base or f"{base}/assets/{card.slug}"
        old_site = self.index.site_config().base_url if card.old_path else ""
        key = pages.fingerprint(source.id, base, assets, render.RENDER_VERSION, dumps(params), dumps(sizes),
                                card.old_path or "", old_site)

        def make() -> render.Rendered:
            body = posts.body_of(self.content.read_version(source.key, source.version_id))
            return render.render_markdown(body, asset_base=assets, link_base=base, site_url=links.base_url,
                                          params=params, image_sizes=sizes, page_path=card.old_path or "",
                                          source_key=source.key, old_site_url=old_site)

        return self._bodies.get_or_make(key, make)

    # -- feeds and crawlers (feeds and search_index are imported where used: a cold post view never loads them) --

    def feed(self, links: Links, tag: str | None = None, author: str | None = None) -> Page:
        """Atom feed of the newest posts (of one tag, or one author), full content."""
        from chalicelib import feeds

        if tag is not None or author is not None:
            kind, named = ("tags", tag) if tag is not None else ("authors", author or "")
            slug = _canonical_slug(named, f"/{kind}/{{}}/feed.xml", f"No such {kind[:-1]}.")
            group = model.tag_group(slug) if tag is not None else model.author_group(slug)
            members = self.index.group(group, self._upper(), feeds.FEED_SIZE).items
            if not members:
                raise NotFound("No posts carry this tag." if tag is not None else "No posts by this author.")
            title = f"{self.settings.title}: {members[0].group_name or slug}"
            cards = self._visible([m.card for m in members])
            feed_path, page_path = f"/{kind}/{slug}/feed.xml", f"/{kind}/{slug}"
        else:
            cards = self._visible(self.index.listing(self._upper(), feeds.FEED_SIZE).items)
            title, feed_path, page_path = self.settings.title, "/feed.xml", "/"
        etag = pages.fingerprint("feed", title, feed_path, links.base_url, *(dumps(c.to_dict()) for c in cards))

        def make() -> str:
            # Wall time, not CPU: the function's timeout is wall time, and a 512 MB Lambda gets a
            # fraction of a core. Bodies in the cache cost nothing; a cold feed stops rendering at the budget.
            started, entries = time.monotonic(), []
            for card in cards:
                within = time.monotonic() - started < feeds.FEED_RENDER_SECONDS
                html = self._body(card, links, absolute=True).html if within else None
                entries.append(feeds.FeedEntry(_feed_item(card), html))
            return feeds.atom_feed(title, links, feed_path, page_path, entries, model.utc_text(self.clock()))

        return Page(make_body=lambda: self._pages.get_or_make(etag, make), etag=etag,
                    content_type=feeds.ATOM, cache_control=pages.FEED_CACHE)

    def sitemap(self, links: Links) -> Page:
        """The sitemap index: one sitemap of pages and tags, and one of posts per month."""
        from chalicelib import feeds

        months = self.index.counts(model.MONTHS_PK, MAX_MONTHS).items
        files = [SITEMAP_PAGES, *(f"posts-{c.name}.xml" for c in sorted(months, key=lambda c: c.name, reverse=True))]
        body = feeds.sitemap_index(links, [f"/sitemaps/{name}" for name in files])
        return pages.fixed(body, content_type=feeds.XML, cache_control=pages.FEED_CACHE, etag=pages.fingerprint(body))

    def sitemap_file(self, links: Links, name: str) -> Page:
        """One sitemap of the index: `pages.xml` (listings, tags, authors) or `posts-YYYY-MM.xml` (a month's posts).

        Each holds at most feeds.MAX_SITEMAP_URLS URLs (sitemaps.org's limit) and
        feeds.MAX_SITEMAP_BYTES, read a Query page at a time: a month is a few hundred posts,
        the tags a few thousand; past the caps the rest is cut and logged.
        """
        from chalicelib import feeds

        entries: list[tuple[str, str | None]] = []
        month = re.fullmatch(r"posts-([0-9]{4}-[0-9]{2})\.xml", name)
        if name == SITEMAP_PAGES:
            entries = [("/", None), ("/tags", None), ("/archive", None)]
            for pk, kind in ((model.TAGS_PK, "tags"), (model.AUTHORS_PK, "authors")):
                after = None
                while len(entries) < feeds.MAX_SITEMAP_URLS:
                    counts = self.index.counts(pk, TAGS_PAGE_SIZE, after=after)
                    entries += [(f"/{kind}/{c.name}", None) for c in counts.items]
                    if not counts.next_sk:
                        break
                    after = counts.next_sk
        elif month:
            prefix = month.group(1)
            upper, after = min(self._upper(), f"{prefix}-{LAST_CHAR}"), None
            while len(entries) < feeds.MAX_SITEMAP_URLS:
                found = self.index.listing(upper, SITEMAP_PAGE_SIZE, after_sk=after, lower_sk=prefix)
                entries += [(f"/posts/{c.slug}", (c.updated or c.date)[:10]) for c in self._visible(found.items)]
                if not found.next_sk:
                    break
                after = found.next_sk
            if not entries:
                raise NotFound("No posts were published that month.")
        else:
            raise NotFound("No such sitemap.")
        body, held = feeds.sitemap(links, entries)
        if held < len(entries):  # a month or a vocabulary past the design's limit (README: limits of the design)
            log.warning("sitemap %s holds %d of its %d URLs (feeds.MAX_SITEMAP_URLS, MAX_SITEMAP_BYTES)",
                        name, held, len(entries))
        return pages.fixed(body, content_type=feeds.XML, cache_control=pages.FEED_CACHE, etag=pages.fingerprint(body))

    def robots(self, links: Links) -> Page:
        """robots.txt, pointing at the sitemap."""
        from chalicelib import feeds

        return pages.fixed(feeds.robots(links), content_type="text/plain; charset=utf-8",
                           cache_control=pages.FEED_CACHE)

    # -- search --

    def search(self, links: Links, query_text: str | None) -> Page:
        """Ranked full-text search (chalicelib/search): only what the query needs is read, and
        every hit is checked against the index as it is now."""
        from chalicelib import search_index

        found = search_index.search(self.index, self.content, self.clock(), query_text or "")
        results = [{**public_fields(PostRecord.from_item(hit.item).card, links), "score": hit.score,
                    "snippet_html": str(hit.snippet)} for hit in found.hits]
        context = dict(query=found.query.text, searched=bool(found.query.text), has_terms=bool(found.query),
                       results=results, total=found.total, exact=found.exact,
                       suggestion=_suggestion(links, found.suggestion),
                       canonical=links.url("/search"), **self._common(links))
        return Page(make_body=lambda: templates.render_template("search.html", **context),
                    cache_control=pages.SEARCH_CACHE)

    # -- JSON API --

    def api_posts(self, links: Links, cursor: str | None, limit: str | None) -> Page:
        """Public posts as JSON, newest first, paginated by cursor."""
        size = _page_size(limit)
        page = self.index.listing(self._upper(), size, after_sk=decode_cursor(cursor))
        older = encode_cursor(page.next_sk)
        data = {
            "posts": [public_fields(c, links) for c in self._visible(page.items)],
            "next": links.url(f"/api/posts?cursor={older}&limit={size}") if older else None,
        }
        return _json(data)

    def api_post(self, links: Links, slug: str) -> Page:
        """One public post as JSON, with its HTML."""
        record, images = self._public_post(slug)
        rendered = self._body(record.card, links, absolute=True, extra=record.extra, images=images)
        return _json({**public_fields(record.card, links), "html": rendered.html, "toc": rendered.toc,
                      "extra": record.extra})

    # -- files --

    def stylesheet(self, name: str) -> Page:
        """The site's CSS under its content-hashed name (cached for a year)."""
        current, css = templates.stylesheet()
        if name == current:
            return pages.fixed(css, content_type="text/css; charset=utf-8", cache_control=pages.IMMUTABLE_CACHE)
        if re.match(r"^style\.[0-9a-f]{12}\.css$", name):
            # A page cached before a deploy asks for the old name: serve today's CSS, briefly cached.
            return pages.fixed(css, content_type="text/css; charset=utf-8", cache_control=pages.ERROR_CACHE)
        raise NotFound("No such file.")

    def asset(self, slug: str, name: str) -> Page:
        """A public post's file: `assets/<slug>/<name>`, or beside its source when the post is a
        bundle (`posts/…/<bundle>/figures/5.png`); else an imported site's file at this path.
        Answered with a redirect to a signed URL (see _asset_redirect)."""
        if posts.is_slug(slug) and _is_file_name(name):
            found = self.index.post(slug)
            if isinstance(found, PostRecord) and found.is_public(self.clock()):  # a draft's files stay private
                for key in _asset_keys(found, name):
                    if self.content.head(key) is not None:
                        return self._asset_redirect(key, name)
                if found.card.old_path:  # an imported post's relative file, where its old page found it
                    beside = self._site_file(render.resolve_relative(found.card.old_path, name))
                    if beside is not None:
                        return beside
        found_file = self._site_file(f"/assets/{slug}/{name}")  # an old site's own /assets/ folder
        if found_file is not None:
            return found_file
        raise NotFound("No such file.")

    def _site_file(self, path: str) -> Page | None:
        """An imported site's file at its old path (one S3 HEAD, then a redirect), or None."""
        config = self.index.site_config()
        if not config.files_prefix or len(path) > MAX_PATH_CHARS:
            return None
        relative = _without_raw_base(path, config.base_path).strip("/")
        if not relative or path.endswith("/") or not _is_file_path(relative):
            return None
        key = config.files_prefix + relative
        return self._asset_redirect(key, relative) if self.content.head(key) is not None else None

    def _asset_redirect(self, key: str, name: str, redirect_cache: str = "") -> Page:
        """302 to a short-lived signed URL of the bucket: every client gets the bytes, whatever it
        accepts, with the right type and a year's caching (each signed URL is its own resource).

        The redirect itself is cached far less long than the URL it names lives, so no cache
        ever hands out a dead URL. Files a browser could run script in (SVG) or does not know
        are downloads when opened directly; as `<img>` an SVG shows as usual.
        """
        extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        content_type = ASSET_TYPES.get(extension, DOWNLOAD_TYPE)
        attachment = content_type in (DOWNLOAD_TYPE, ASSET_TYPES[".svg"])
        disposition = f"attachment; filename*=UTF-8''{quote(name.rsplit('/', 1)[-1])}" if attachment else None
        url = self.content.signed_url(key, ASSET_URL_SECONDS, content_type, pages.IMMUTABLE_CACHE, disposition)
        return pages.fixed("", status=302, headers={"Location": url}, cache_control=redirect_cache or ASSET_REDIRECT_CACHE)

    # -- previews: one unpublished post, for whoever holds a signed link (chalicelib/preview.py) --

    def preview(self, links: Links, slug: str, token: str) -> Page:
        """A draft, scheduled or rejected post as it will look, marked as a preview; 404 without a live link."""
        state = self._previewed(slug, token)
        base = links.path(preview.path(slug, token))  # its images come through the link too
        expires = preview.expiry_text(int(token.partition(".")[0]))
        if isinstance(state, PostRecord) and state.error is None:
            upper = max(self._upper(), model.listing_sort_key(state.visible_from, LAST_CHAR))
            newer, older = self.index.neighbours(state.card, upper)
            more = self._more_in_tag(state.card, upper)
            rendered = self._body(state.card, links, absolute=False, extra=state.extra, asset_base=base)
            note: dict[str, Any] = {"status": state.status_now(self.clock()).value,
                                    "visible_from": state.visible_from, "expires": expires, "problems": []}
            body = self._post_html(state.card, rendered, newer, older, more, links, template="preview.html",
                                   canonical=None, preview=note)
        else:
            body = self._rejected_preview(state, links, base, expires)
        return pages.fixed(body, cache_control=PREVIEW_CACHE, headers=dict(PREVIEW_HEADERS))

    def preview_asset(self, slug: str, token: str, name: str) -> Page:
        """An image or file of a previewed post, for a live link only."""
        self._previewed(slug, token)  # a live link, to something there is to preview
        if not ASSET_NAME_RE.match(name) or ".." in name:
            raise NotFound("No such file.")
        return self._asset_redirect(f"assets/{slug}/{name}", name, redirect_cache=PREVIEW_CACHE)

    def _preview_allows(self, slug: str, token: str) -> bool:
        """Is the link live? The same work for every wrong token: nothing is read before this answers."""
        if self.preview_secret is None:
            raise RuntimeError("this Site was made without the preview secret")
        return preview.verify(self.preview_secret.get(), slug, token, self.clock().timestamp())

    def _previewed(self, slug: str, token: str) -> PostRecord | Tombstone | SourceRejection:
        """What a live link shows: the post, or the latest upload of a source in error."""
        if not self._preview_allows(slug, token) or not posts.is_slug(slug):
            raise NotFound("No such post.")
        found: PostRecord | Tombstone | SourceRejection | None = self.index.post(slug)
        if found is None or (isinstance(found, Tombstone) and found.error is None):
            keys = [model.rejection_key(key) for key in preview.source_keys(slug)]
            items = self.index.get_many(keys).values()
            found = next((SourceRejection.from_item(i) for i in items), None)
        if found is None or (isinstance(found, Tombstone) and found.error is None):
            raise NotFound("No such post.")
        return found

    def _rejected_preview(self, state: PostRecord | Tombstone | SourceRejection, links: Links, base: str,
                          expires: str) -> str:
        """The latest upload of a source in error, as far as it can be shown, with its problems."""
        error = state.error
        assert error is not None
        key = state.source.key if isinstance(state, PostRecord) else state.source_key
        data = self.content.read_version_at_most(key, error.source_id, posts.MAX_SOURCE_BYTES)
        rendered = None
        title = state.card.title if isinstance(state, PostRecord) else posts.slug_from_key(key)
        if data is not None:
            title = preview.loose_title(data) or title
            try:
                rendered = render.check_render(posts.body_of(data), render.RenderContext(
                    asset_base=base, link_base=links.base_path, site_url=links.base_url))
            except InvalidPost:
                rendered = None  # the body itself is what was rejected: the problems say why
        if isinstance(state, PostRecord):
            card = dataclasses.replace(state.card, title=title)
        else:
            card = PostCard(slug=posts.slug_from_key(key), title=title, date=error.at,
                            source=model.SourceVersion(key=key, etag=error.etag, mtime=error.at,
                                                       version_id=error.source_id))
        note: dict[str, Any] = {"status": "error", "visible_from": "", "expires": expires,
                                "problems": list(error.problems), "kept": isinstance(state, PostRecord)}
        return self._post_html(card, rendered, None, None, [], links, template="preview.html", canonical=None,
                               preview=note)

    # -- errors --

    def error_page(self, links: Links, status: int, message: str) -> Page:
        """404, 410, 400 and 500 pages in the site's look."""
        titles = {400: "Bad request", 404: "Not found", 410: "Gone", 500: "Something went wrong"}
        body = templates.render_template("error.html", status=status, title=titles.get(status, "Error"),
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
                                 templates.template_version())
        return Page(make_body=lambda: templates.render_template(template, **data, **self._common(links)), etag=etag)

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


def _canonical_slug(text: str, pattern: str, missing: str) -> str:
    """A slug from a URL; Moved when it is spelled otherwise ('IJM' -> 'ijm'), NotFound when it is none."""
    if posts.is_slug(text):
        return text
    forgivable = "/" not in text and "\\" not in text
    slug = posts.slugify(_normalized("/" + text) or "") if forgivable else ""
    if slug and slug != text:
        raise Moved(pattern.format(slug))
    raise NotFound(missing)


def _suggestion(links: Links, query: str | None) -> dict[str, str] | None:
    """A "did you mean" link for the search page, when the engine offers a query."""
    return {"query": query, "path": links.path("/search?q=") + quote(query, safe="")} if query else None


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
