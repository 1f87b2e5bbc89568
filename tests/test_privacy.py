"""Drafts, scheduled posts and rejected uploads are invisible on every public route."""
from __future__ import annotations

import json

import requests

import pytest

from conftest import source

SECRET = "zebrasecret"
PRIVATE = {
    "draft": source(f"Draft {SECRET}", tags=[f"{SECRET}-draft-tag"], draft=True, body=f"{SECRET} body"),
    "scheduled": source(f"Scheduled {SECRET}", date="2099-01-01", tags=[f"{SECRET}-future-tag"],
                        body=f"{SECRET} body"),
    "rejected": f"---\ntitle: Rejected {SECRET}\n---\n{SECRET} body".encode(),
}
PRIVATE_MARKERS = [f"Draft {SECRET}", f"Scheduled {SECRET}", f"Rejected {SECRET}", f"{SECRET} body",
                   f"{SECRET}-draft-tag", f"{SECRET}-future-tag", "/posts/draft", "/posts/scheduled",
                   "/posts/rejected"]


@pytest.fixture
def blog(publish, content, http):
    """One public post, and one of each kind of private one, with an image each; rebuilt."""
    import app
    from blogctl.localstack import scheduled_event

    publish("posts/public.md", source("Public post", tags=["open"], body="Hello ![x](pic.png)"))
    for slug, data in PRIVATE.items():
        publish(f"posts/{slug}.md", data)
        content.put(f"assets/{slug}/pic.png", b"\x89PNG private", "image/png")
    content.put("assets/public/pic.png", b"\x89PNG public", "image/png")
    app.rebuild_index(scheduled_event(), None)
    return http


ROUTES = [
    "/", "/tags", "/archive", "/archive/2099/01", "/feed.xml", "/sitemap.xml", "/robots.txt",
    "/api/posts", "/api/posts?limit=50", f"/search?q={SECRET}", "/search?q=scheduled",
    "/search?q=draft", "/tags/open", "/tags/open/feed.xml",
    *(f"/posts/{slug}" for slug in PRIVATE), *(f"/api/posts/{slug}" for slug in PRIVATE),
    *(f"/tags/{SECRET}-{kind}-tag" for kind in ("draft", "future")),
    *(f"/tags/{SECRET}-{kind}-tag/feed.xml" for kind in ("draft", "future")),
    *(f"/assets/{slug}/pic.png" for slug in PRIVATE),
]


@pytest.mark.parametrize("path", ROUTES)
def test_no_route_shows_anything_private(blog, path):
    response = blog.get(path, headers={"Accept": "*/*"})
    assert response.status_code in (200, 404), response.status_code
    text = response.body.decode("utf-8", "replace")
    for marker in PRIVATE_MARKERS:  # (a search page repeats the query itself, so not SECRET alone)
        assert marker not in text
    assert b"private" not in response.body


@pytest.mark.parametrize("slug", sorted(PRIVATE))
def test_private_posts_are_plain_404s(blog, slug):
    assert blog.get(f"/posts/{slug}").status_code == 404
    assert blog.get(f"/api/posts/{slug}").status_code == 404
    assert blog.get(f"/assets/{slug}/pic.png", headers={"Accept": "image/png"}).status_code == 404


def test_public_post_and_its_image_are_served(blog):
    page = blog.get("/posts/public")
    assert page.status_code == 200
    assert 'src="/assets/public/pic.png"' in page.text
    image = blog.get("/assets/public/pic.png", headers={"Accept": "image/png"})
    assert image.status_code == 302
    fetched = requests.get(image.headers["location"], timeout=5)  # moto answers the signed URL
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.content == b"\x89PNG public"


def test_api_lists_only_the_public_post(blog):
    assert [p["slug"] for p in json.loads(blog.get("/api/posts").body)["posts"]] == ["public"]


def test_scheduled_post_appears_by_itself_when_its_date_passes(publish, index, content, clock):
    """Request-time filtering: no upload, no rebuild, only time passing."""
    from chalicelib.config import get_settings
    from chalicelib.site import Site

    publish("posts/soon.md", source("Soon", date="2026-06-01T13:00:00Z", tags=["t"]))
    site = Site(index, content, get_settings(), clock=clock)
    from chalicelib.pages import Links

    links = Links("http://blog.example")
    with pytest.raises(Exception):
        site.post(links, "soon")
    clock.advance(hours=2)
    assert site.post(links, "soon").status == 200
    assert "Soon" in site.home(links, None).body
    assert "Soon" in site.tag(links, "t", None).body
