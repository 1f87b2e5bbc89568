"""What readers see around the posts: navigation, the site's description, dates, tags, search results."""
from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pytest

from chalicelib import dates, services, templates
from conftest import source

NS = "{http://www.w3.org/1999/xhtml}"
# The only template expressions that may skip autoescaping: HTML our own code sanitized or escaped.
TRUSTED_HTML = {"body", "toc", "post.snippet_html"}


def nav(html: str) -> dict[str, str | None]:
    """The site navigation's links and their aria-current."""
    root = html5lib.parse(html)
    menu = root.find(f".//{NS}nav[@aria-label='Site']")
    return {a.text: a.get("aria-current") for a in menu.iter(f"{NS}a")}


@pytest.fixture
def blog(publish):
    publish("posts/one.md", source("First post", date="2024-01-01T23:30:00-05:00", tags=["Python"],
                                   author="Ada Lovelace", body="Hello `inline` code.\n\n```python\nprint(1)\n```"))
    publish("posts/two.md", source("Second post", date="2024-02-01", tags=["Python", "AWS"]))


@pytest.mark.parametrize("path, marked", [
    ("/", {"Home": "page"}),
    ("/tags", {"Tags": "page"}),
    ("/tags/python", {"Tags": "true"}),
    ("/archive", {"Archive": "page"}),
    ("/archive/2024/02", {"Archive": "true"}),
    ("/posts/one", {}),
    ("/search?q=post", {}),
    ("/authors/ada-lovelace", {}),
])
def test_navigation_marks_where_the_reader_is(http, blog, path, marked):
    found = nav(http.get(path).text)
    assert set(found) == {"Home", "Tags", "Archive", "Feed"}
    assert {name: mark for name, mark in found.items() if mark} == marked


def test_site_description_is_on_the_home_page_and_in_its_meta(http, blog, monkeypatch):
    monkeypatch.setenv("BLOG_DESCRIPTION", "Notes on <serverless> Python")
    services.reset()
    services.site()  # read the settings now: the test client swaps in config.json's variables per request
    home = http.get("/").text
    assert '<meta name="description" content="Notes on &lt;serverless&gt; Python">' in home
    assert re.search(r'<section class="intro">\s*<h1>The Blog</h1>\s*<p>Notes on &lt;serverless&gt; Python</p>', home)
    assert "Notes on" not in re.sub(r"<head>.*</head>", "", http.get("/tags").text, flags=re.S)
    services.reset()


def test_without_a_description_the_home_page_keeps_a_hidden_heading(http, blog):
    home = http.get("/").text
    assert '<meta name="description" content="The Blog">' in home
    assert '<h1 class="visually-hidden">The Blog</h1>' in home and "intro" not in home


def test_dates_are_shown_on_the_authors_calendar(http, blog):
    # 23:30 in New York on 1 January is already 2 January in UTC, where the index keeps it.
    for path in ("/posts/one", "/", "/tags/python"):
        html = http.get(path).text
        assert '<time datetime="2024-01-01T23:30:00-05:00">1 January 2024</time>' in html, path
    assert '<time datetime="2024-02-01T00:00:00Z">1 February 2024</time>' in http.get("/").text


def test_tag_index_is_a_cloud_of_pills_with_counts(http, blog, publish):
    publish("posts/three.md", source("Third", date="2024-03-01", tags=["Python"]))
    root = html5lib.parse(http.get("/tags").text)
    cloud = root.find(f".//{NS}ul[@class='tag-cloud']")
    pills = {a.text.strip(): (a.get("class"), a.get("href"), a.find(f"{NS}span").text)
             for a in cloud.iter(f"{NS}a")}
    assert pills == {"AWS": ("weight-1", "/tags/aws", "1"), "Python": ("weight-4", "/tags/python", "3")}
    assert list(pills) == ["AWS", "Python"]  # a cloud reads in name order; size says how many


def test_cloud_weights_grow_with_the_count_and_stay_in_range():
    weights = [templates.cloud_weight(n, 500) for n in (0, 1, 2, 10, 50, 200, 500)]
    assert weights == sorted(weights) and weights[0] == 1 and weights[-1] == templates.CLOUD_WEIGHTS
    assert templates.cloud_weight(1, 1) == 1


def test_only_trusted_html_skips_autoescaping():
    found = set()
    for template in Path(templates.TEMPLATES_DIR).glob("*.html"):
        found |= set(re.findall(r"\{\{\s*([\w.]+)\s*\|\s*safe\s*\}\}", template.read_text()))
        assert "autoescape false" not in template.read_text() and "Markup(" not in template.read_text()
    assert found == TRUSTED_HTML


def search_page(**context) -> str:
    """The search page rendered from a context like the one Site.search makes."""
    base = {"query": "prayer", "searched": True, "has_terms": True, "results": [], "suggestion": None,
            "canonical": "http://localhost/search", "site": {"title": "The Blog", "description": ""},
            "link": lambda p: p, "absolute": lambda p: "http://localhost" + p}
    return templates.render_template("search.html", **{**base, **context})


def result(title: str, snippet_html: str = "", summary: str = "A summary.") -> dict:
    return {"title": title, "path": "/posts/x", "date": "2013-04-20T00:00:00Z", "date_offset": "+00:00",
            "reading_minutes": 4, "summary": summary, "snippet_html": snippet_html,
            "tags": [{"slug": "ijm", "name": "IJM"}], "authors": []}


def test_search_results_show_snippet_tags_date_and_reading_time():
    html = search_page(results=[result("<b>Title</b>", snippet_html="We gather to <mark>pray</mark> &amp; sing")])
    assert "1 post matches “prayer”." in html
    assert '<p class="snippet">We gather to <mark>pray</mark> &amp; sing</p>' in html
    assert "&lt;b&gt;Title&lt;/b&gt;" in html  # everything but the engine's snippet is escaped
    assert '<time datetime="2013-04-20T00:00:00Z">20 April 2013</time>' in html and "4 min read" in html
    assert '<a href="/tags/ijm">IJM</a>' in html and "A summary." not in html


def test_search_results_fall_back_to_the_summary_without_a_snippet():
    html = search_page(results=[result("One", summary="<i>Kept</i> as text"), result("Two")])
    assert "2 posts match “prayer”." in html
    assert "&lt;i&gt;Kept&lt;/i&gt; as text" in html and '<p class="snippet">' not in html


def test_search_offers_did_you_mean():
    html = search_page(query="prayr", suggestion={"query": "prayer", "path": "/search?q=prayer"})
    assert "No posts match “prayr”." in html
    assert '<p class="suggestion">Did you mean <a href="/search?q=prayer">prayer</a>?</p>' in html


def test_search_page_through_the_site_escapes_the_query(http, blog):
    html = http.get("/search?q=%3Cscript%3Epost").text
    assert "<script>" not in html and "&lt;script&gt;post" in html
    assert "2 posts match" in http.get("/search?q=post").text


def contrast(one: str, two: str) -> float:
    """WCAG's contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        colour = colour.lstrip("#")
        colour = "".join(c * 2 for c in colour) if len(colour) == 3 else colour
        channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_highlighted_code_is_readable_light_and_dark():
    style = (templates.STATIC_DIR / "style.css").read_text()
    light_bg, dark_bg = re.findall(r"--code-bg: (#[0-9a-f]{6})", style)
    light, _, dark = (templates.STATIC_DIR / "pygments.css").read_text().partition("@media (prefers-color-scheme: dark)")
    for rules, background in ((light, light_bg), (dark, dark_bg)):
        colours = re.findall(r"\.highlight \.\w+ \{[^}]*?(?<!-)color: (#[0-9A-Fa-f]{3,6})", rules)
        assert len(colours) > 30
        assert min(contrast(c, background) for c in colours) >= 4.5  # WCAG AA for text


@pytest.mark.parametrize("offset, shown, stamp", [
    ("+00:00", "2 January 2024", "2024-01-02T04:30:00Z"),
    ("-05:00", "1 January 2024", "2024-01-01T23:30:00-05:00"),
    ("+05:30", "2 January 2024", "2024-01-02T10:00:00+05:30"),
    ("-04:56:02", "1 January 2024", "2024-01-01T23:33:58-04:56:02"),
    ("garbage", "2 January 2024", "2024-01-02T04:30:00Z"),  # never an error on a page
    ("+24:00", "2 January 2024", "2024-01-02T04:30:00Z"),
])
def test_dates_in_an_offset(offset, shown, stamp):
    assert dates.human_date("2024-01-02T04:30:00Z", offset) == shown
    assert dates.local_iso("2024-01-02T04:30:00Z", offset) == stamp
