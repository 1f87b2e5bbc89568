"""A page and a feed per author, linked from posts and listings."""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import feedparser
import pytest

from conftest import source


@pytest.fixture
def team(publish):
    """Two authors, one post together, and a draft by a third who has published nothing."""
    publish("posts/a.md", source("Ada's first", date="2024-01-01", author="Ada Lovelace", tags=["Maths"]))
    publish("posts/b.md", source("Grace's first", date="2024-01-02", author="Grace Hopper"))
    publish("posts/c.md", source("Written together", date="2024-01-03", authors=["Ada Lovelace", "Grace Hopper"]))
    publish("posts/d.md", source("Not yet", date="2024-01-04", author="Hidden Writer", draft=True))


def titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h2><a href="/posts/\w">([^<]+)</a>', page)]


def test_author_page_lists_their_posts_newest_first(http, team):
    page = http.get("/authors/ada-lovelace")
    assert page.status_code == 200
    assert titles(page.text) == ["Written together", "Ada's first"]
    assert "<h1>Posts by Ada Lovelace</h1>" in page.text
    assert "<title>Posts by Ada Lovelace · The Blog</title>" in page.text
    assert '<link rel="canonical" href="http://localhost/authors/ada-lovelace">' in page.text


def test_posts_and_listings_link_every_author(http, team):
    post = http.get("/posts/c").text
    assert re.search(r'by <a href="/authors/ada-lovelace" rel="author">Ada Lovelace</a> and '
                     r'<a href="/authors/grace-hopper" rel="author">Grace Hopper</a>', post)
    assert '<meta property="article:author" content="http://localhost/authors/grace-hopper">' in post
    home = http.get("/").text
    assert home.count('href="/authors/grace-hopper"') == 2


def test_author_feed_is_valid_atom_of_their_posts(http, team):
    response = http.get("/authors/grace-hopper/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "The Blog: Grace Hopper"
    assert [e.title for e in feed.entries] == ["Written together", "Grace's first"]
    assert feed.feed.link == "http://localhost/authors/grace-hopper"
    page = http.get("/authors/grace-hopper").text
    assert 'type="application/atom+xml" title="The Blog: Grace Hopper" href="http://localhost/authors/grace-hopper/feed.xml"' in page


@pytest.mark.parametrize("path, location", [
    ("/authors/Ada%20Lovelace", "/authors/ada-lovelace"),
    ("/authors/ada-lovelace/", "/authors/ada-lovelace"),
    ("/authors/Ada-Lovelace", "/authors/ada-lovelace"),
])
def test_other_spellings_of_an_author_redirect(http, team, path, location):
    response = http.get(path)
    assert (response.status_code, response.headers.get("location")) == (301, location)


@pytest.mark.parametrize("path", ["/authors/nobody", "/authors/nobody/feed.xml", "/authors/hidden-writer",
                                  "/authors/hidden-writer/feed.xml", "/authors/..%2Fx/feed.xml"])
def test_unknown_and_unpublished_authors_are_404(http, team, path):
    response = http.get(path)
    assert response.status_code == 404
    assert b"Not yet" not in response.body


def test_sitemap_lists_authors_with_public_posts(http, team):
    root = ET.fromstring(http.get("/sitemaps/pages.xml").body)  # the sitemap index leads here
    locs = {e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert {"http://localhost/authors/ada-lovelace", "http://localhost/authors/grace-hopper"} <= locs
    assert not any("hidden-writer" in loc for loc in locs)


def test_author_page_is_one_query(http, team, calls):
    calls.clear()
    assert http.get("/authors/ada-lovelace").status_code == 200
    assert calls.keys() == [("dynamodb", "Query")]
