"""Atom feeds, the sitemap and robots.txt. Pure: no I/O.

XML is built with ElementTree, which escapes every value: no template can produce a
malformed feed.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from chalicelib.pages import Links

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_SIZE = 20
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
GENERATOR = "serverless-blog (AWS Chalice)"


@dataclass(frozen=True)
class FeedEntry:
    """A post as a feed shows it: its item and its full, sanitized HTML."""

    item: dict[str, Any]
    html: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


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
    for entry in entries:
        item = entry.item
        url = links.url(f"/posts/{item['slug']}")
        node = _sub(feed, "entry")
        _sub(node, "title", item["title"])
        _sub(node, "id", url)
        _sub(node, "link", rel="alternate", type="text/html", href=url)
        _sub(node, "published", item["date"])
        _sub(node, "updated", item.get("updated") or item["date"])
        if item.get("author"):
            _sub(_sub(node, "author"), "name", item["author"])
        for tag in item.get("tags", []):
            _sub(node, "category", term=tag["slug"], label=tag["name"])
        if item.get("summary"):
            _sub(node, "summary", item["summary"])
        _sub(node, "content", entry.html, type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def sitemap(links: Links, pages: list[tuple[str, str | None]]) -> str:
    """A sitemap of (path, last modified ISO date or None) pairs."""
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for path, modified in pages:
        url = _sub(urlset, "url")
        _sub(url, "loc", links.url(path))
        if modified:
            _sub(url, "lastmod", modified)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(urlset, encoding="unicode")


def robots(links: Links) -> str:
    """robots.txt: everything public may be crawled; the JSON API need not be."""
    return f"User-agent: *\nAllow: /\nDisallow: {links.path('/api/')}\n\nSitemap: {links.url('/sitemap.xml')}\n"
