"""Drafts, scheduled posts and rejected uploads are invisible on every public route."""
from __future__ import annotations

import json

import requests

import pytest

from chalicelib.errors import NotFound
from conftest import publish_now, shared_setup, source

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


@shared_setup
def private_posts():
    """One public post, and one of each kind of private one, with an image each; rebuilt (shared: read only)."""
    import app
    from blogctl.pump import scheduled_event
    from chalicelib import services

    publish_now("posts/public.md", source("Public post", tags=["open"], body="Hello ![x](pic.png)"))
    for slug, data in PRIVATE.items():
        publish_now(f"posts/{slug}.md", data)
        services.content().put(f"assets/{slug}/pic.png", b"\x89PNG private", "image/png")
    services.content().put("assets/public/pic.png", b"\x89PNG public", "image/png")
    app.rebuild_index(scheduled_event(), None)


@pytest.fixture
def blog(private_posts, http):
    """The app, serving `private_posts`."""
    return http


PUBLIC_ROUTES = [
    "/", "/tags", "/feed.xml", "/sitemap.xml", "/sitemaps/pages.xml", "/robots.txt", "/archive",
    "/api/posts", "/api/posts?limit=50", f"/search?q={SECRET}", "/search?q=scheduled",
    "/search?q=draft", "/tags/open", "/tags/open/feed.xml",
]
# Where only private posts live: nothing public there, so nothing at all.
PRIVATE_ROUTES = [
    "/archive/2099/01", "/sitemaps/posts-2099-01.xml",
    *(f"/posts/{slug}" for slug in PRIVATE), *(f"/api/posts/{slug}" for slug in PRIVATE),
    *(f"/tags/{SECRET}-{kind}-tag" for kind in ("draft", "future")),
    *(f"/tags/{SECRET}-{kind}-tag/feed.xml" for kind in ("draft", "future")),
    *(f"/assets/{slug}/pic.png" for slug in PRIVATE),
]
ROUTES = [(path, 200) for path in PUBLIC_ROUTES] + [(path, 404) for path in PRIVATE_ROUTES]


@pytest.mark.parametrize("path, status", ROUTES)
def test_no_route_shows_anything_private(blog, path, status):
    response = blog.get(path, headers={"Accept": "*/*"})
    assert response.status_code == status
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
    from chalicelib.links import Links

    links = Links("http://blog.example")
    with pytest.raises(NotFound):  # scheduled: a plain 404, as for a post that does not exist
        site.post(links, "soon")
    clock.advance(hours=2)
    assert site.post(links, "soon").status == 200
    assert "Soon" in site.home(links, None).body
    assert "Soon" in site.tag(links, "t", None).body
