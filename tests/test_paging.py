"""Listing pages: newer and older by cursor, page numbers, one canonical URL and title per page."""
from __future__ import annotations

import re

import html5lib
import pytest

from blogctl.localstack import scheduled_event
from chalicelib import links, site
from conftest import publish_now, shared_setup, source

NS = "{http://www.w3.org/1999/xhtml}"


class Listing:
    """A listing page read by an HTML5 parser: its posts, title, head links and pager."""

    def __init__(self, reply) -> None:
        assert reply.status_code == 200, (reply.status_code, reply.text[:500])
        self.html = reply.text
        root = html5lib.parse(reply.text)
        self.title = root.find(f".//{NS}title").text
        self.head = {link.get("rel"): link.get("href") for link in root.find(f".//{NS}head").iter(f"{NS}link")}
        self.posts = re.findall(r"Post number (\d\d)", "".join(
            a.text or "" for a in root.iter(f"{NS}a") if (a.get("href") or "").startswith("/posts/")))
        pager = root.find(f".//{NS}nav[@class='pager']")
        self.pager = pager
        anchors = list(pager.iter(f"{NS}a")) if pager is not None else []
        self.newer = next((a.get("href") for a in anchors if a.get("rel") == "prev"), None)
        self.older = next((a.get("href") for a in anchors if a.get("rel") == "next"), None)
        self.numbers = [(text(a), a.get("href")) for a in anchors if text(a).isdigit()]
        current = pager.find(f".//{NS}span[@aria-current='page']") if pager is not None else None
        self.current = text(current) if current is not None else None

    @property
    def canonical(self) -> str:
        return self.head["canonical"].removeprefix("http://localhost")


def text(element) -> str:
    """What a sighted reader sees of an element: its text without the visually hidden parts."""
    if element.get("class") == "visually-hidden":
        return ""
    parts = [element.text or ""]
    for child in element:
        parts += [text(child), child.tail or ""]
    return "".join(parts).strip()


def rebuild():
    import app

    app.rebuild_index(scheduled_event(), None)


@shared_setup
def paged():
    """25 posts over three months (10, 10, 5), every third tagged 'python', all by Ada (shared: read only)."""
    for n in range(25):
        month = 1 + n // 10
        publish_now(f"posts/post-{n:02d}.md", source(
            f"Post number {n:02d}", date=f"2024-{month:02d}-{1 + n % 10:02d}",
            tags=["Python"] if n % 3 == 0 else ["Misc"], author="Ada Lovelace", body=f"Body of post {n:02d}."))
    rebuild()


def numbers(first: int, last: int) -> list[str]:
    """Post numbers from `first` down to `last`, as the listing shows them."""
    return [f"{n:02d}" for n in range(first, last - 1, -1)]


def test_home_pages_older_then_newer_show_the_same_stretches(http, paged):
    first = Listing(http.get("/"))
    assert first.posts == numbers(24, 15) and first.newer is None
    second = Listing(http.get(first.older))
    assert second.posts == numbers(14, 5)
    third = Listing(http.get(second.older))
    assert third.posts == numbers(4, 0) and third.older is None
    back = Listing(http.get(third.newer))
    assert back.posts == second.posts
    assert second.newer == "/"  # page 1 is the home page itself, not a cursor
    assert Listing(http.get(back.newer)).posts == first.posts


def test_each_page_has_its_own_title_and_canonical_url(http, paged):
    first = Listing(http.get("/"))
    second = Listing(http.get(first.older))
    third = Listing(http.get(second.older))
    assert first.title == "The Blog" and first.canonical == "/"
    assert second.title == "The Blog · page 2" and third.title == "The Blog · page 3"
    assert second.canonical == second_url(first) and "page=2" in second.canonical
    assert len({first.canonical, second.canonical, third.canonical}) == 3


def second_url(first: Listing) -> str:
    assert first.older is not None
    return first.older.replace("&amp;", "&")


def test_a_page_reached_backwards_names_its_forwards_url_as_canonical(http, paged):
    second = Listing(http.get("/"))
    second = Listing(http.get(second.older))
    third = Listing(http.get(second.older))
    backwards = Listing(http.get(third.newer))
    assert "before=" in third.newer
    assert backwards.canonical == second.canonical
    assert backwards.title == second.title


def test_head_links_prev_and_next_absolutely(http, paged):
    first = Listing(http.get("/"))
    second = Listing(http.get(first.older))
    assert "prev" not in first.head and first.head["next"] == "http://localhost" + first.older
    assert second.head["prev"] == "http://localhost/" and second.head["next"] == "http://localhost" + second.older


def test_pager_numbers_the_pages_a_cursor_reaches(http, paged):
    first = Listing(http.get("/"))
    assert first.current == "1" and first.numbers == [("2", first.older)]
    second = Listing(http.get(first.older))
    third = Listing(http.get(second.older))
    assert third.current == "3"
    assert [n for n, _ in third.numbers] == ["1", "2"]
    assert dict(third.numbers)["1"] == "/" and dict(third.numbers)["2"] == third.newer


def test_one_page_listing_has_no_pager_at_all(http, publish):
    publish("posts/only.md", source("Post number 01"))
    page = Listing(http.get("/"))
    assert page.pager is None and 'class="pager"' not in page.html
    assert "rel=\"next\"" not in page.html and "rel=\"prev\"" not in page.html


def test_newer_link_without_a_page_number_still_finds_its_page(http, paged):
    page = Listing(http.get(f"/?before={links.encode_cursor('2024-02-05T00:00:00Z#post-14')}"))
    assert page.posts == numbers(24, 15) and page.canonical == "/"  # nothing newer beyond: the first page
    middle = Listing(http.get(f"/?before={links.encode_cursor('2024-01-05T00:00:00Z#post-04')}"))
    assert middle.posts == numbers(14, 5) and middle.current is None  # its number is unknown, so not shown
    assert middle.title == "The Blog · older posts"


def test_newest_stretch_reached_backwards_is_the_first_page(http, paged):
    page = Listing(http.get(f"/?before={links.encode_cursor('2024-03-01T00:00:00Z#post-20')}&page=2"))
    assert page.posts == numbers(24, 15)  # four newer posts only: the home page shows ten
    assert page.canonical == "/" and page.title == "The Blog" and page.newer is None


@pytest.mark.parametrize("query", [
    "cursor=x&before=y", f"cursor={links.encode_cursor('2024-01-01T00:00:00Z#post-00')}&page=abc",
    f"cursor={links.encode_cursor('2024-01-01T00:00:00Z#post-00')}&page=1",
    f"before={links.encode_cursor('2024-01-01T00:00:00Z#post-00')}&page=9999999",
    "before=garbage!!",
])
def test_page_links_that_are_not_ours_are_400(http, paged, query):
    response = http.get(f"/?{query}")
    assert response.status_code == 400
    assert "<!doctype html>" in response.text


def test_a_cursor_outside_the_listing_is_a_404(http, paged):
    future = links.encode_cursor("2099-01-01T00:00:00Z#post-99")
    assert http.get(f"/?cursor={future}").status_code == 404
    january = links.encode_cursor("2024-01-05T00:00:00Z#post-04")
    assert http.get(f"/archive/2024/02?cursor={january}").status_code == 404


def test_every_page_of_a_listing_is_one_query(http, paged, calls):
    first = Listing(http.get("/"))
    second = Listing(http.get(first.older))
    third = Listing(http.get(second.older))
    for path in (first.older, third.newer):
        calls.clear()
        http.get(path)
        assert calls.keys() == [("dynamodb", "Query")], path


def walk(http, path: str, direction: str) -> list[Listing]:
    """Follow a listing's pager from `path` to its end."""
    seen = [Listing(http.get(path))]
    while (step := getattr(seen[-1], direction)) is not None:
        seen.append(Listing(http.get(step.replace("&amp;", "&"))))
        assert len(seen) < 20
    return seen


@pytest.mark.parametrize("path, size_name, size, wanted", [
    ("/tags/python", "TAG_PAGE_SIZE", 4, [f"{n:02d}" for n in range(24, -1, -3)]),
    ("/authors/ada-lovelace", "TAG_PAGE_SIZE", 7, numbers(24, 0)),
    ("/archive/2024/02", "ARCHIVE_PAGE_SIZE", 3, numbers(19, 10)),
])
def test_tag_author_and_month_listings_page_both_ways(http, paged, monkeypatch, path, size_name, size, wanted):
    monkeypatch.setattr(site, size_name, size)
    forwards = walk(http, path, "older")
    assert [p for page in forwards for p in page.posts] == wanted
    assert all(len(page.posts) == size for page in forwards[:-1])
    assert [page.title.split(" · ")[1] for page in forwards[1:]] == [f"page {n}" for n in range(2, len(forwards) + 1)]
    backwards = walk(http, forwards[-1].canonical, "newer")
    assert [page.posts for page in reversed(backwards)] == [page.posts for page in forwards]
    assert [page.canonical for page in reversed(backwards)] == [page.canonical for page in forwards]
