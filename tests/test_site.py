"""Every page a reader expects, through the test client: listings, tags, archive, search, redirects."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import feedparser
import html5lib
import pytest

from blogctl.localstack import scheduled_event
from conftest import publish_now, shared_setup, source


def rebuild():
    import app

    app.rebuild_index(scheduled_event(), None)


def links_in(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


@shared_setup
def many():
    """25 posts over three months, every third tagged 'python' (shared by the tests that only read it)."""
    for n in range(25):
        month = 1 + n // 10
        tags = ["Python"] if n % 3 == 0 else ["Misc"]
        publish_now(f"posts/post-{n:02d}.md", source(f"Post number {n:02d}", date=f"2024-{month:02d}-{1 + n % 10:02d}",
                                                     tags=tags, body=f"Body of post {n:02d}."))
    rebuild()


def test_home_pages_through_older_posts_by_cursor(http, many):
    seen, path = [], "/"
    for _ in range(5):
        page = http.get(path)
        assert page.status_code == 200
        seen += re.findall(r"Post number (\d\d)", page.text)
        older = re.findall(r'<a class="older" rel="next" href="([^"]+)"', page.text)
        if not older:
            break
        path = older[0].replace("&amp;", "&")
    assert seen == [f"{n:02d}" for n in range(24, -1, -1)]


def test_cursor_past_the_end_is_a_404(http, many):
    from chalicelib.links import encode_cursor

    assert http.get(f"/?cursor={encode_cursor('1999-01-01T00:00:00Z#nothing')}").status_code == 404


def test_tags_page_counts_posts(http, many):
    page = http.get("/tags")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Python 9" in text and "Misc 16" in text


def test_tag_page_lists_its_posts_and_has_a_feed(http, many):
    page = http.get("/tags/python")
    assert page.status_code == 200
    assert "Posts tagged “Python”" in page.text
    assert set(re.findall(r"Post number (\d\d)", page.text)) == {f"{n:02d}" for n in range(0, 25, 3)}
    feed = feedparser.parse(http.get("/tags/python/feed.xml").body)
    assert not feed.bozo
    assert feed.feed.title == "The Blog: Python"
    assert len(feed.entries) == 9


def test_unknown_tag_is_a_404_page(http, many):
    assert http.get("/tags/no-such-tag").status_code == 404
    assert http.get("/tags/no-such-tag/feed.xml").status_code == 404


def test_archive_groups_by_year_and_month(http, many):
    page = http.get("/archive")
    assert "January 2024" in page.text and "March 2024" in page.text
    month = http.get("/archive/2024/02")
    assert set(re.findall(r"Post number (\d\d)", month.text)) == {f"{n}" for n in range(10, 20)}
    assert http.get("/archive/2024/13").status_code == 404
    assert http.get("/archive/1990/01").status_code == 404


def test_feed_has_the_newest_twenty(http, many):
    feed = feedparser.parse(http.get("/feed.xml").body)
    assert not feed.bozo
    assert len(feed.entries) == 20
    assert feed.entries[0].title == "Post number 24"


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_urls(http) -> list[str]:
    """Every URL the sitemap index leads to, each file fetched and parsed."""
    index = ET.fromstring(http.get("/sitemap.xml").body)
    assert index.tag == SITEMAP + "sitemapindex"
    urls = []
    for loc in index.iter(SITEMAP + "loc"):
        response = http.get((loc.text or "").split("localhost", 1)[1])
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
        urls += [e.text or "" for e in ET.fromstring(response.body).iter(SITEMAP + "loc")]
    return urls


def test_sitemap_index_leads_to_every_post_and_tag(http, many):
    urls = sitemap_urls(http)
    assert sorted(u.rsplit("/", 1)[1] for u in urls if "/posts/" in u) == [f"post-{n:02d}" for n in range(25)]
    assert any(u.endswith("/tags/python") for u in urls)


def test_sitemap_files_are_per_month_and_unknown_ones_are_404(http, many):
    index = ET.fromstring(http.get("/sitemap.xml").body)
    files = [loc.text.rsplit("/", 1)[1] for loc in index.iter(SITEMAP + "loc")]
    assert files == ["pages.xml", "posts-2024-03.xml", "posts-2024-02.xml", "posts-2024-01.xml"]
    assert http.get("/sitemaps/posts-1999-01.xml").status_code == 404
    assert http.get("/sitemaps/other.xml").status_code == 404


def test_sitemap_reads_past_dynamodbs_one_megabyte_pages(http, publish, monkeypatch):
    """A Query stops at 1 MB with LastEvaluatedKey set: a sitemap must follow it, not stop short."""
    from chalicelib import services

    for n in range(7):
        publish(f"posts/p{n}.md", source(f"P{n}", date="2024-05-0" + str(n + 1)))
    db = services.index()._db
    real = db.query

    def short_pages(**kwargs):  # as DynamoDB does when items are large: two items per page
        return real(**{**kwargs, "Limit": min(kwargs.get("Limit", 2), 2)})

    monkeypatch.setattr(db, "query", short_pages)
    urls = sitemap_urls(http)
    assert len([u for u in urls if "/posts/" in u]) == 7


def test_search_ranks_title_matches_first(http, publish):
    publish("posts/a.md", source("Kangaroo facts", body="All about them."))
    publish("posts/b.md", source("Other animals", body="A kangaroo appears once."))
    publish("posts/c.md", source("Nothing here", body="Wombats."))
    rebuild()
    page = http.get("/search?q=kangaroo")
    titles = re.findall(r'<h2><a href="/posts/\w">([^<]+)</a>', page.text)
    assert titles == ["Kangaroo facts", "Other animals"]
    assert "2 posts match" in page.text


def test_search_handles_empty_absurd_and_prefix_queries(http, publish):
    publish("posts/a.md", source("Kangaroo facts"))
    rebuild()
    assert "Type words" in http.get("/search").text
    assert "has no words to search for" in http.get("/search?q=%21%21%21").text
    assert "No posts match" in http.get("/search?q=zzzzzz").text
    assert "Kangaroo facts" in http.get("/search?q=kang").text  # search as you type
    assert http.get("/search?q=" + "a" * 600).status_code == 400
    assert http.get("/search?q=" + "word%20" * 60).status_code == 200


def test_search_finds_a_post_at_once_before_any_rebuild(http, publish):
    publish("posts/a.md", source("Kangaroo facts"))
    page = http.get("/search?q=kangaroo")
    assert page.status_code == 200
    assert "Kangaroo facts" in page.text  # ingest queued its text; queries read the queue


def test_deleted_post_answers_410_gone(http, publish, remove):
    publish("posts/gone.md", source("Gone soon"))
    remove("posts/gone.md")
    page = http.get("/posts/gone")
    assert page.status_code == 410
    assert "Gone" in page.text and "<!doctype html>" in page.text


def test_alias_answers_301_to_the_new_slug(http, publish):
    publish("posts/new-name.md", source("Renamed", aliases=["old-name"]))
    page = http.get("/posts/old-name")
    assert page.status_code == 301
    assert page.headers["location"] == "/posts/new-name"


def test_renamed_slug_redirects(http, publish):
    publish("posts/p.md", source("P"))
    publish("posts/p.md", source("P", slug="p-renamed"))
    assert http.get("/posts/p").headers["location"] == "/posts/p-renamed"


def test_related_and_neighbour_links_on_a_post(http, many):
    page = http.get("/posts/post-12")
    assert 'rel="prev" href="/posts/post-11"' in page.text
    assert 'rel="next" href="/posts/post-13"' in page.text
    related = re.search(r'<aside class="related".*?</aside>', page.text, re.S).group(0)
    found = set(re.findall(r"/posts/(post-\d\d)", related))
    assert len(found) == 3 and found <= {f"post-{n:02d}" for n in range(0, 25, 3)} - {"post-12"}  # also Python


def test_long_post_has_a_table_of_contents_and_highlighted_code(http, publish):
    body = "## One\n\ntext\n\n## Two\n\n```python\nprint('hi')\n```\n\n## Three\n\ntext"
    publish("posts/long.md", source("Long", body=body))
    page = http.get("/posts/long")
    assert '<nav class="toc"' in page.text
    assert 'href="#two"' in page.text
    assert '<span class="nb">print</span>' in page.text


def test_api_pages_by_cursor_and_limit(http, many):
    first = json.loads(http.get("/api/posts?limit=10").body)
    assert len(first["posts"]) == 10
    second = json.loads(http.get(first["next"].split("localhost", 1)[1]).body)
    assert second["posts"][0]["slug"] == "post-14"
    assert http.get("/api/posts?limit=0").status_code == 400
    assert http.get("/api/posts?cursor=%%%").status_code == 400


def test_custom_site_url_makes_canonical_links(http, publish, monkeypatch):
    from chalicelib import services

    monkeypatch.setenv("BLOG_SITE_URL", "https://blog.example.com")
    services.reset()
    # Read the settings now: inside a test-client request Chalice swaps in config.json's stage variables.
    services.site()
    publish("posts/a.md", source("A"))
    page = http.get("/posts/a")
    assert '<link rel="canonical" href="https://blog.example.com/posts/a">' in page.text
    services.reset()


def test_api_gateway_stage_prefixes_links(http, publish):
    from chalicelib.links import links_for

    links = links_for("", "abc123.execute-api.us-east-1.amazonaws.com", "api")
    assert links.path("/posts/a") == "/api/posts/a"
    assert links.url("/feed.xml") == "https://abc123.execute-api.us-east-1.amazonaws.com/api/feed.xml"
    assert links_for("", "blog.example.com", "api").path("/x") == "/x"


@pytest.mark.parametrize("path", ["/", "/posts/post-03", "/tags", "/tags/python", "/archive",
                                  "/archive/2024/01", "/search?q=post", "/posts/missing"])
def test_pages_are_valid_html5(http, many, path):
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(http.get(path).text)  # raises on any parse error
    assert not parser.errors


@pytest.mark.parametrize("path, location", [
    ("/tags/Python/", "/tags/python"),          # one hop, not two (slash, then case)
    ("/tags/Python/feed.xml", "/tags/python/feed.xml"),
    ("/archive/2024/2/", "/archive/2024/02"),
    ("/archive/2024", "/archive#2024"),
    ("/archive/2024/", "/archive#2024"),
    ("/posts/Post-03/", "/posts/post-03"),
])
def test_every_spelling_redirects_in_one_hop(http, many, path, location):
    response = http.get(path)
    assert (response.status_code, response.headers.get("location")) == (301, location)
    assert http.get(location.split("#")[0]).status_code == 200


def test_a_trailing_slash_on_a_missing_page_is_a_404_not_a_redirect(http, many):
    assert http.get("/tags/no-such-tag/").status_code == 404
    assert http.get("/posts/nothing/").status_code == 404


def test_the_archive_has_an_anchor_per_year(http, many):
    assert '<section class="archive-year" id="2024">' in http.get("/archive").text
