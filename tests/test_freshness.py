"""Fresh in seconds: after an upload, an edit, a draft, a deletion or a schedule, every public surface agrees.

Each change here is one ingest of one key (what the queue's trigger runs), and no rebuild:
then the post page, home, tags and their counts, the archive and its counts, the feeds, the
sitemap (index and month files), search, the JSON API and the neighbours' previous/next
links are read back as a reader (or a feed reader, or a crawler) would read them. Pages are
read once before each change too, so that a cached page would show.

One lag is left, and tested as such: when a scheduled post's time comes, every page shows
it at once (each bounds its reads by the time of the request), but the tag and month counts
are totals that only a write moves, and the rebuild makes that write.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import feedparser
import pytest

from chalicelib import services
from conftest import source

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Links(HTMLParser):
    """Anchors of a page (href, rel, text) and the text of each list item with its anchors."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.anchors: list[dict[str, str]] = []
        self.items: list[tuple[list[str], str]] = []  # (hrefs in the <li>, its text)
        self._item: tuple[list[str], list[str]] | None = None
        self._anchor: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li":
            self._item = ([], [])
        elif tag == "a" and attrs.get("href"):
            self._anchor = {"href": attrs["href"], "rel": attrs.get("rel") or "", "text": ""}
            self.anchors.append(self._anchor)
            if self._item is not None:
                self._item[0].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "a":
            self._anchor = None
        elif tag == "li" and self._item is not None:
            self.items.append((self._item[0], " ".join("".join(self._item[1]).split())))
            self._item = None

    def handle_data(self, data):
        if self._anchor is not None:
            self._anchor["text"] += data
        if self._item is not None:
            self._item[1].append(data)


def path_of(url: str | None) -> str:
    return urlsplit(url or "").path


class Reader:
    """Every public surface, read through the app as readers, feed readers and crawlers read it."""

    def __init__(self, http) -> None:
        self.http = http

    def status(self, slug: str) -> int:
        return self.http.get(f"/posts/{slug}").status_code

    def title(self, slug: str) -> str:
        page = self.http.get(f"/posts/{slug}")
        found = re.search(r"<h1>(.*?)</h1>", page.text) if page.status_code == 200 else None
        return found.group(1) if found else ""

    def listed(self, path: str) -> set[str]:
        """The posts a listing page links to (none when the page is a 404)."""
        page = self.http.get(path)
        if page.status_code == 404:
            return set()
        assert page.status_code == 200, path
        return {path_of(a["href"])[len("/posts/"):] for a in Links(page.text).anchors
                if path_of(a["href"]).startswith("/posts/")}

    def titles(self, path: str) -> set[str]:
        page = self.http.get(path)
        return {a["text"].strip() for a in Links(page.text).anchors if path_of(a["href"]).startswith("/posts/")}

    def count(self, path: str, href: str) -> int:
        """The number shown beside a link on /tags or /archive (0 when the link is not there)."""
        for hrefs, text in Links(self.http.get(path).text).items:
            if href in (path_of(h) for h in hrefs):
                return int(re.findall(r"[0-9]+", text)[-1])  # "News 3", "February 2024 1 post"
        return 0

    def feed(self, path: str) -> set[str]:
        page = self.http.get(path)
        if page.status_code == 404:
            return set()
        return {path_of(e.link).rsplit("/", 1)[-1] for e in feedparser.parse(page.body).entries}

    def sitemap(self) -> set[str]:
        index = ET.fromstring(self.http.get("/sitemap.xml").body)
        found = set()
        for loc in index.iter(SITEMAP + "loc"):
            month = ET.fromstring(self.http.get(path_of(loc.text)).body)
            found |= {path_of(u.text)[len("/posts/"):] for u in month.iter(SITEMAP + "loc")
                      if path_of(u.text).startswith("/posts/")}
        return found

    def sitemap_months(self) -> set[str]:
        index = ET.fromstring(self.http.get("/sitemap.xml").body)
        months = (re.search(r"posts-([0-9-]+)\.xml", loc.text or "") for loc in index.iter(SITEMAP + "loc"))
        return {found.group(1) for found in months if found}

    def search(self, words: str) -> set[str]:
        return self.listed(f"/search?q={words}")

    def api(self) -> set[str]:
        return {p["slug"] for p in json.loads(self.http.get("/api/posts").text)["posts"]}

    def neighbours(self, slug: str) -> tuple[str | None, str | None]:
        """(older, newer): the post page's previous and next links."""
        anchors = Links(self.http.get(f"/posts/{slug}").text).anchors
        rel = {a["rel"]: path_of(a["href"]).rsplit("/", 1)[-1] for a in anchors if a["rel"] in ("prev", "next")}
        return rel.get("prev"), rel.get("next")

    def everywhere(self, slug: str, tag: str, month: str, word: str) -> dict[str, bool]:
        """Is the post shown on each surface?"""
        year, number = month.split("-")
        return {
            "post page": self.status(slug) == 200,
            "home": slug in self.listed("/"),
            "tag page": slug in self.listed(f"/tags/{tag}"),
            "archive month": slug in self.listed(f"/archive/{year}/{number}"),
            "feed": slug in self.feed("/feed.xml"),
            "tag feed": slug in self.feed(f"/tags/{tag}/feed.xml"),
            "sitemap": slug in self.sitemap(),
            "search": slug in self.search(word),
            "json api": slug in self.api(),
        }


@pytest.fixture
def reader(http, clock):
    services.site().clock = clock  # the site and ingest share one clock, moved by hand
    return Reader(http)


@pytest.fixture
def neighbours(publish):
    """Two published posts of the tag 'news', January and March 2024."""
    publish("posts/older.md", source("Older", date="2024-01-10", tags=["News"]))
    publish("posts/newer.md", source("Newer", date="2024-03-10", tags=["News"]))


def all_(shown: dict[str, bool]) -> list[str]:
    return [surface for surface, there in shown.items() if not there]


def none_(shown: dict[str, bool]) -> list[str]:
    return [surface for surface, there in shown.items() if there]


MIDDLE = dict(date="2024-02-10", tags=["News", "Fresh"], body="A zebracorn appears.")


def test_a_new_post_is_on_every_surface_at_once(reader, neighbours, publish):
    assert reader.count("/tags", "/tags/news") == 2
    assert none_(reader.everywhere("middle", "fresh", "2024-02", "zebracorn")) == []  # seen before, cached
    publish("posts/middle.md", source("Middle", **MIDDLE))
    assert all_(reader.everywhere("middle", "fresh", "2024-02", "zebracorn")) == []
    assert reader.count("/tags", "/tags/news") == 3 and reader.count("/tags", "/tags/fresh") == 1
    assert reader.count("/archive", "/archive/2024/02") == 1
    assert "2024-02" in reader.sitemap_months()
    assert reader.neighbours("middle") == ("older", "newer")
    assert reader.neighbours("older") == (None, "middle") and reader.neighbours("newer") == ("middle", None)


def test_an_edit_shows_everywhere_at_once(reader, neighbours, publish):
    publish("posts/middle.md", source("Middle", **MIDDLE))
    reader.neighbours("older"), reader.listed("/")  # pages seen (and cached) before the edit
    publish("posts/middle.md", source("Middle, edited", date="2024-02-10", tags=["News"], body="A quokkafish."))
    assert reader.title("middle") == "Middle, edited"
    assert "Middle, edited" in reader.titles("/") and "Middle, edited" in reader.titles("/posts/older")
    assert reader.search("quokkafish") == {"middle"} and reader.search("zebracorn") == set()
    assert reader.count("/tags", "/tags/fresh") == 0 and reader.listed("/tags/fresh") == set()
    assert reader.count("/tags", "/tags/news") == 3
    assert all_(reader.everywhere("middle", "news", "2024-02", "quokkafish")) == []


def test_a_post_made_a_draft_leaves_every_surface_at_once(reader, neighbours, publish):
    publish("posts/middle.md", source("Middle", **MIDDLE))
    assert all_(reader.everywhere("middle", "fresh", "2024-02", "zebracorn")) == []  # seen, and cached
    publish("posts/middle.md", source("Middle", draft=True, **MIDDLE))
    assert none_(reader.everywhere("middle", "fresh", "2024-02", "zebracorn")) == []
    assert reader.status("middle") == 404
    assert reader.count("/tags", "/tags/news") == 2 and reader.count("/tags", "/tags/fresh") == 0
    assert reader.count("/archive", "/archive/2024/02") == 0 and "2024-02" not in reader.sitemap_months()
    assert reader.neighbours("older") == (None, "newer") and reader.neighbours("newer") == ("older", None)


def test_a_deleted_post_leaves_every_surface_at_once(reader, neighbours, publish, remove):
    publish("posts/middle.md", source("Middle", **MIDDLE))
    reader.everywhere("middle", "fresh", "2024-02", "zebracorn")  # every page seen once (and cached)
    remove("posts/middle.md")
    assert reader.status("middle") == 410
    assert none_(reader.everywhere("middle", "fresh", "2024-02", "zebracorn")) == []
    assert reader.count("/tags", "/tags/news") == 2 and reader.count("/archive", "/archive/2024/02") == 0
    assert reader.neighbours("older") == (None, "newer")


def test_a_scheduled_post_is_nowhere_until_its_time_then_everywhere(reader, neighbours, publish, clock):
    clock.now = clock.now.replace(year=2024, month=3, day=20)  # after the two posts
    publish("posts/soon.md", source("Soon", date="2024-03-21T09:00:00Z", tags=["News"], body="A wombatross."))
    assert none_(reader.everywhere("soon", "news", "2024-03", "wombatross")) == []
    assert reader.count("/tags", "/tags/news") == 2 and reader.neighbours("newer") == ("older", None)
    clock.advance(days=1, hours=1)  # its time has come; no rebuild has run
    # Search indexes only what readers may see, so no word of a scheduled post can surface early
    # (not even as "did you mean"): like the counts, it follows at the next rebuild.
    assert all_(reader.everywhere("soon", "news", "2024-03", "wombatross")) == ["search"]
    assert reader.neighbours("newer") == ("older", "soon") and reader.neighbours("soon") == ("newer", None)
    # The counts are totals kept by writes, and no write happens when a date passes: the scheduled
    # rebuild (every BLOG_REBUILD_MINUTES; 30 s locally) moves the post into them, and into search.
    services.run_rebuild(clock())
    assert reader.count("/tags", "/tags/news") == 3 and reader.count("/archive", "/archive/2024/03") == 2
    assert all_(reader.everywhere("soon", "news", "2024-03", "wombatross")) == []

