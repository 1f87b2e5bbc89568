"""Feeds and the sitemap: well-formed whatever the content, never over their size cap. Pure."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import feeds, render
from chalicelib.links import Links

LINKS = Links(base_url="https://blog.example")
NASTY = "tab\there \x0b vertical \x1b[31m escape \x00 nul \ufffe \uffff \ud800 lone \udfff end & <b> ]]>"


def item(slug: str = "a-post", **fields) -> dict:
    return {"slug": slug, "title": "A post", "date": "2024-01-02T00:00:00Z", "tags": [], "summary": "Short.",
            **fields}


def feed_of(entries: list[feeds.FeedEntry]) -> str:
    return feeds.atom_feed("The Blog", LINKS, "/feed.xml", "/", entries, "2024-01-01T00:00:00Z")


def test_control_characters_and_lone_surrogates_never_break_the_xml():
    entry = feeds.FeedEntry(item(title=NASTY, summary=NASTY, author=NASTY,
                                 tags=[{"slug": "t", "name": NASTY}]), html=f"<p>{NASTY}</p>")
    xml = feed_of([entry])
    root = ET.fromstring(xml.encode("utf-8"))  # raises on anything not well-formed
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    title = parsed.entries[0].title
    assert title.startswith("tab\there") and "vertical" in title and "end & <b> ]]>" in title
    assert "\x0b" not in title and "\x00" not in title and "\ufffe" not in title
    assert root.find(f"{{{feeds.ATOM_NS}}}entry") is not None


def test_sitemap_is_well_formed_with_odd_paths():
    xml, held = feeds.sitemap(LINKS, [("/posts/a\x0bb", "2024-01-01\x0c"), ("/tags/x&y", None)])
    assert held == 2
    root = ET.fromstring(xml.encode())
    urls = [loc.text for loc in root.iter(f"{{{feeds.SITEMAP_NS}}}loc")]
    assert urls == ["https://blog.example/posts/a%0Bb", "https://blog.example/tags/x&y"]
    assert [m.text for m in root.iter(f"{{{feeds.SITEMAP_NS}}}lastmod")] == ["2024-01-01"]


def test_a_sitemap_of_the_longest_urls_ends_before_its_byte_cap():
    pages = [(f"/posts/{n:06d}" + "s" * 94, "2025-06-01") for n in range(feeds.MAX_SITEMAP_URLS)]
    xml, held = feeds.sitemap(LINKS, pages)
    assert len(xml.encode("utf-8")) <= feeds.MAX_SITEMAP_BYTES
    root = ET.fromstring(xml.encode())
    locs = [loc.text for loc in root.iter(f"{{{feeds.SITEMAP_NS}}}loc")]
    assert 0 < held == len(locs) < feeds.MAX_SITEMAP_URLS
    assert locs == [LINKS.url(path) for path, _ in pages[:held]]


def test_a_sitemap_holds_at_most_the_url_limit():
    xml, held = feeds.sitemap(LINKS, [("/t", None)] * (feeds.MAX_SITEMAP_URLS + 5))
    assert held == feeds.MAX_SITEMAP_URLS == xml.count("<loc>")


def test_a_large_entry_is_summarized_with_a_link():
    big = "<p>" + "word " * (feeds.MAX_ENTRY_HTML_BYTES // 5 + 10) + "</p>"
    xml = feed_of([feeds.FeedEntry(item(summary="The gist."), big), feeds.FeedEntry(item("small"), "<p>Hi</p>")])
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    first, second = parsed.entries
    assert "The gist." in first.content[0].value and "https://blog.example/posts/a-post" in first.content[0].value
    assert len(first.content[0].value) < 1000
    assert second.content[0].value == "<p>Hi</p>"


def test_the_feed_stops_before_its_size_cap():
    html = "<p>" + "x" * (feeds.MAX_ENTRY_HTML_BYTES - 100) + "</p>"
    entries = [feeds.FeedEntry(item(f"post-{n}"), html) for n in range(feeds.FEED_SIZE)]
    xml = feed_of(entries)
    assert len(xml.encode("utf-8")) <= feeds.MAX_FEED_BYTES
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    count = len(parsed.entries)
    assert 0 < count < feeds.FEED_SIZE
    assert [e.link for e in parsed.entries] == [f"https://blog.example/posts/post-{n}" for n in range(count)]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=300))
def test_any_title_and_body_make_a_well_formed_feed(title, body):
    rendered = render.render_markdown(body)
    xml = feed_of([feeds.FeedEntry(item(title=title, summary=render.summarize(body)), rendered.html)])
    ET.fromstring(xml.encode("utf-8"))
    assert not feedparser.parse(xml).bozo
