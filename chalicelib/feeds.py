"""Atom feeds, the sitemap and robots.txt. Pure: no I/O.

XML is built with ElementTree, which escapes every value, and every value first loses
the characters XML 1.0 cannot carry at all (C0 controls, lone surrogates, U+FFFE/FFFF):
whatever a post holds, the feed is well-formed. A feed is at most MAX_FEED_BYTES: an
entry whose HTML is over MAX_ENTRY_HTML_BYTES, or that was not rendered because the feed
spent FEED_RENDER_SECONDS already, carries its summary and a link instead, and entries
stop before the cap.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from dataclasses import dataclass
from typing import Any

from chalicelib.links import Links

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_SITEMAP_URLS = 50_000  # per sitemap file (sitemaps.org's limit)
# Per sitemap file, well under Lambda's 6 MB response: URLs of the longest slugs take about 190 bytes
# each, so this cap, not MAX_SITEMAP_URLS, ends such a file (at about 16,500 URLs).
MAX_SITEMAP_BYTES = 3 * 1024 * 1024
FEED_SIZE = 20
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
GENERATOR = "serverless-blog (AWS Chalice)"
MAX_FEED_BYTES = 1024 * 1024  # feed readers and CDNs handle this well; Lambda's limit is 6 MB
MAX_ENTRY_HTML_BYTES = 128 * 1024  # a larger post is summarized in the feed, with a link to it
# Wall time a feed spends rendering its entries' bodies; the entries after carry their summary. Each
# body renders within render.MAX_RENDER_SECONDS of CPU, so a cold feed costs at most this plus one
# body's render: inside the API function's 15 s even at 512 MB's share of a core.
FEED_RENDER_SECONDS = 3.0
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Everything outside XML 1.0's Char production.
NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedEntry:
    """A post as a feed shows it: its item and its full, sanitized HTML (None: its summary and a link)."""

    item: dict[str, Any]
    html: str | None


def xml_text(text: str) -> str:
    """`text` without the characters XML cannot carry."""
    return NOT_XML_RE.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: xml_text(value) for name, value in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _entry(feed: ET.Element, links: Links, entry: FeedEntry) -> ET.Element:
    """One post as an Atom entry, summarized if its HTML is too large for a feed."""
    item = entry.item
    url = links.url(f"/posts/{item['slug']}")
    node = _sub(feed, "entry")
    _sub(node, "title", item["title"])
    _sub(node, "id", item.get("feed_id") or url)  # an imported post keeps its old feed's id: no duplicates
    _sub(node, "link", rel="alternate", type="text/html", href=url)
    _sub(node, "published", item["date"])
    _sub(node, "updated", item.get("updated") or item["date"])
    if item.get("author"):
        _sub(_sub(node, "author"), "name", item["author"])
    for tag in item.get("tags", []):
        _sub(node, "category", term=tag["slug"], label=tag["name"])
    if item.get("summary"):
        _sub(node, "summary", item["summary"])
    content = xml_text(entry.html or "")
    if entry.html is None or len(content.encode("utf-8")) > MAX_ENTRY_HTML_BYTES:
        content = (f"<p>{escape(item.get('summary') or '')}</p>\n"
                   f'<p><a href="{escape(url)}">Read the whole post on the site.</a></p>')
    _sub(node, "content", content, type="html")
    return node


def atom_feed(title: str, links: Links, feed_path: str, page_path: str, entries: list[FeedEntry],
              fallback_updated: str) -> str:
    """An Atom 1.0 feed of `entries` (newest first) with full content."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", title)
    _sub(feed, "id", links.url(page_path))
    updated = max((e.item.get("updated") or e.item["date"] for e in entries), default=fallback_updated)
    _sub(feed, "updated", updated)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=links.url(feed_path))
    _sub(feed, "link", rel="alternate", type="text/html", href=links.url(page_path))
    author = _sub(feed, "author")
    _sub(author, "name", title)
    _sub(feed, "generator", GENERATOR)
    used = len(XML_DECLARATION) + len(ET.tostring(feed, encoding="utf-8"))
    for entry in entries:
        node = _entry(feed, links, entry)
        used += len(ET.tostring(node, encoding="utf-8"))
        if used > MAX_FEED_BYTES:  # this one would not fit: the feed ends before it
            feed.remove(node)
            break
    return XML_DECLARATION + ET.tostring(feed, encoding="unicode")


def sitemap(links: Links, pages: list[tuple[str, str | None]]) -> tuple[str, int]:
    """A sitemap of (path, last modified ISO date or None) pairs, and how many of them it holds:
    at most MAX_SITEMAP_URLS, and it ends before MAX_SITEMAP_BYTES."""
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    used, held = len(XML_DECLARATION) + len(ET.tostring(urlset, encoding="utf-8")), 0
    for path, modified in pages[:MAX_SITEMAP_URLS]:
        url = _sub(urlset, "url")
        _sub(url, "loc", links.url(path))
        if modified:
            _sub(url, "lastmod", modified)
        used += len(ET.tostring(url, encoding="utf-8"))
        if used > MAX_SITEMAP_BYTES:
            urlset.remove(url)
            break
        held += 1
    return XML_DECLARATION + ET.tostring(urlset, encoding="unicode"), held


def sitemap_index(links: Links, paths: list[str]) -> str:
    """A sitemap index pointing at the site's sitemap files."""
    index = ET.Element("sitemapindex", {"xmlns": SITEMAP_NS})
    for path in paths:
        _sub(_sub(index, "sitemap"), "loc", links.url(path))
    return XML_DECLARATION + ET.tostring(index, encoding="unicode")


def robots(links: Links) -> str:
    """robots.txt: everything public may be crawled; the JSON API need not be."""
    return f"User-agent: *\nAllow: /\nDisallow: {links.path('/api/')}\n\nSitemap: {links.url('/sitemap.xml')}\n"
