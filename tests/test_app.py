"""The routes through Chalice's test client, on moto; HTML, feeds and XML read by real parsers."""
from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import feedparser
import pytest

from blogctl.localstack import scheduled_event, sqs_event
from chalicelib import aws, ingest, links, pages, services
from conftest import publish_now, shared_setup, source

SEED_KEY = "posts/global-prayer-gathering-2013.md"


class Page(HTMLParser):
    """Text, links and head metadata of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}
        self.anchors: list[str] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            self.links.append(attrs)
        elif tag == "meta":
            self.meta[attrs.get("property") or attrs.get("name") or ""] = attrs.get("content", "")
        elif tag == "a" and attrs.get("href"):
            self.anchors.append(attrs["href"])
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def run_rebuild():
    import app

    app.rebuild_index(scheduled_event(), None)


@shared_setup
def seeded():
    """The seed post from content/, published (shared by the tests that only read it)."""
    from blogctl.stage import PROJECT_DIR

    publish_now(SEED_KEY, (PROJECT_DIR / "content" / SEED_KEY).read_bytes())
    run_rebuild()


def test_home_lists_the_seed_post(http, seeded):
    response = http.get("/")
    assert response.status_code == 200
    page = Page(response.text)
    assert "The Blog" in page.title
    assert "Global Prayer Gathering 2013" in page.all_text
    assert "/posts/global-prayer-gathering-2013" in page.anchors


def test_post_page_has_the_seed_body_word_for_word(http, seeded):
    from blogctl.stage import PROJECT_DIR

    response = http.get("/posts/global-prayer-gathering-2013")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(response.text)
    # tests/data holds the seed text exactly as the project received it (shared/seeds/).
    seed = (PROJECT_DIR / "tests" / "data" / "seed-global-prayer-gathering-2013.txt").read_text(encoding="utf-8")
    blog_name, title, *paragraphs = [p for p in seed.split("\n\n") if p.strip()]
    assert (blog_name, title) == ("The Blog", "Global Prayer Gathering 2013")
    assert len(paragraphs) == 7
    for paragraph in paragraphs:
        assert " ".join(paragraph.split()) in page.all_text
    assert page.title == "Global Prayer Gathering 2013 · The Blog"


def test_post_head_has_canonical_description_opengraph_and_feed(http, seeded):
    page = Page(http.get("/posts/global-prayer-gathering-2013").text)
    rels = {link["rel"]: link for link in page.links}
    assert rels["canonical"]["href"].endswith("/posts/global-prayer-gathering-2013")
    assert rels["alternate"]["type"] == "application/atom+xml"
    assert page.meta["description"].startswith("Every year, IJM friends")
    assert page.meta["og:title"].startswith("Global Prayer Gathering 2013")
    assert page.meta["og:type"] == "article"


def test_unknown_slug_is_a_404_html_page(http, resources):
    response = http.get("/posts/no-such-post")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in Page(response.text).title


def test_malformed_slug_is_a_404_not_an_error(http, resources):
    assert http.get("/posts/..%2F..%2Fetc").status_code == 404
    assert http.get("/posts/%00").status_code == 404


@pytest.mark.parametrize("path", ["/nothing", "/a/b/c.html", "/posts/a/b", "/wp-login.php", "/%E2%80%AE/x"])
def test_unknown_paths_at_any_depth_are_the_html_404_page(http, resources, path):
    response = http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in Page(response.text).title
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path, location", [
    ("/posts/Global-Prayer-Gathering-2013", "/posts/global-prayer-gathering-2013"),
    ("/posts/global-prayer-gathering-2013.html", "/posts/global-prayer-gathering-2013"),
    ("/posts/global-prayer-gathering-2013/", "/posts/global-prayer-gathering-2013"),
    ("/posts/global-prayer-gathering-2013/index.html", "/posts/global-prayer-gathering-2013"),
    ("/tags/IJM", "/tags/ijm"),
    ("/tags/ijm/", "/tags/ijm"),
    ("/archive/2013/4", "/archive/2013/04"),
])
def test_other_spellings_of_a_page_redirect_to_the_one_canonical_url(http, seeded, path, location):
    response = http.get(path)
    assert (response.status_code, response.headers.get("location")) == (301, location)
    assert http.get(location).status_code == 200


def test_old_urls_at_any_depth_redirect_to_their_post(http, publish):
    publish("posts/new.md", source("New", aliases=["/2013/04/20/old-name.html", "/blog/old/"]))
    for old in ("/2013/04/20/old-name.html", "/2013/04/20/old-name/", "/2013/04/20/old-name", "/blog/old"):
        response = http.get(old)
        assert (response.status_code, response.headers["location"]) == (301, "/posts/new"), old


def test_head_answers_like_get_without_a_body(http, seeded):
    get = http.get("/posts/global-prayer-gathering-2013")
    head = http.head("/posts/global-prayer-gathering-2013")
    assert head.status_code == 200 and head.body == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]
    assert http.head("/nothing/here").status_code == 404


def test_absolute_urls_never_come_from_request_headers(http, seeded):
    forged = {"Host": "evil.example", "X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example"}
    for path in ("/posts/global-prayer-gathering-2013", "/feed.xml", "/sitemap.xml", "/sitemaps/pages.xml",
                 "/sitemaps/posts-2013-04.xml", "/robots.txt", "/api/posts"):
        response = http.get(path, headers=forged)
        assert b"evil.example" not in response.body and b"gopher" not in response.body, path
        assert "vary" not in response.headers


def test_a_bad_message_fails_alone_and_the_good_ones_leave_the_queue(http, content, queue_url):
    import app

    sqs = aws.client("sqs")
    sqs.purge_queue(QueueUrl=queue_url)
    content.put("posts/one.md", source("One"), "text/markdown")
    content.put("posts/two.md", source("Two"), "text/markdown")
    sqs.send_message(QueueUrl=queue_url, MessageBody="this is not an S3 event")
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []):
        messages += batch
        if len(messages) >= 3:
            break
    assert len(messages) == 3
    with pytest.raises(ingest.IngestFailed, match="1 of 3"):
        app.ingest_uploads(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:test-blog-uploads"), None)
    assert http.get("/posts/one").status_code == 200 and http.get("/posts/two").status_code == 200
    left = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == ["this is not an S3 event"]


def test_upload_through_the_queue_appears_on_the_site(http, content, queue_url):
    """The whole path: S3 put → moto's notification → SQS → the app's ingest handler."""
    import app

    content.put("posts/from-queue.md", source("From the queue"), "text/markdown")
    sqs = aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert any("s3:TestEvent" in m["Body"] for m in messages)  # sent when the notification was set up
    app.ingest_uploads(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q"), None)
    response = http.get("/posts/from-queue")
    assert response.status_code == 200
    assert "From the queue" in response.text


def test_every_response_has_security_headers(http, seeded):
    for path in ("/", "/posts/global-prayer-gathering-2013", "/posts/missing", "/feed.xml", "/api/posts"):
        headers = http.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src" not in csp and "default-src 'none'" in csp  # so no script at all
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]


def test_post_page_revalidates_with_etag(http, seeded):
    first = http.get("/posts/global-prayer-gathering-2013")
    etag = first.headers["etag"]
    assert etag.startswith('"') and "s-maxage" in first.headers["cache-control"]
    assert first.headers["last-modified"]
    again = http.get("/posts/global-prayer-gathering-2013", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.body == b""


# A post view reads its item with its image sizes (one Query of the post's partition), then its
# neighbours and its first tag's newest posts from the index as they are now (three one-page
# Queries): links are never stale, never to a draft.
POST_VIEW_CALLS = [("dynamodb", "Query"), ("dynamodb", "Query"), ("dynamodb", "Query"), ("dynamodb", "Query")]


def test_warm_post_view_reads_the_index_and_not_s3(http, seeded, calls):
    http.get("/posts/global-prayer-gathering-2013")  # warm the cache
    calls.clear()
    http.get("/posts/global-prayer-gathering-2013")
    assert calls.keys() == POST_VIEW_CALLS


def test_home_page_is_one_query(http, seeded, calls):
    calls.clear()
    http.get("/")
    assert calls.keys() == [("dynamodb", "Query")]


def test_feed_is_valid_atom_with_full_content(http, seeded):
    response = http.get("/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "The Blog"
    entry = feed.entries[0]
    assert entry.title == "Global Prayer Gathering 2013"
    assert "Anisha is such a clear example" in entry.content[0].value
    assert entry.link.endswith("/posts/global-prayer-gathering-2013")


def test_a_cold_feed_stops_rendering_bodies_at_its_budget(http, publish, monkeypatch):
    from chalicelib import feeds, render

    real = render.render_markdown

    def slow(*args, **kwargs):  # every body costs 50 ms of CPU
        until = time.thread_time() + 0.05
        while time.thread_time() < until:
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "render_markdown", slow)
    monkeypatch.setattr(feeds, "FEED_RENDER_SECONDS", 0.12)
    for n in range(6):
        publish(f"posts/p{n}.md", source(f"Post {n}", date=f"2024-01-0{n + 1}", body=f"Body {n} in full.",
                                         summary=f"Gist {n}."))
    entries = feedparser.parse(http.get("/feed.xml").body).entries
    full = ["in full." in e.content[0].value for e in entries]
    assert len(entries) == 6
    assert 1 <= full.count(True) <= 3 and full == sorted(full, reverse=True)  # the newest first, then summaries
    for entry in entries[full.count(True):]:
        assert "Read the whole post on the site." in entry.content[0].value and entry.link in entry.content[0].value


def test_sitemap_and_robots(http, seeded):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(http.get("/sitemap.xml").body)
    files = [e.text for e in root.findall("s:sitemap/s:loc", ns)]
    assert any(f.endswith("/sitemaps/posts-2013-04.xml") for f in files)
    month = ET.fromstring(http.get("/sitemaps/posts-2013-04.xml").body)
    locs = [e.text for e in month.findall("s:url/s:loc", ns)]
    assert any(loc.endswith("/posts/global-prayer-gathering-2013") for loc in locs)
    robots = http.get("/robots.txt").text
    assert "Sitemap: " in robots and robots.rstrip().endswith("/sitemap.xml")


def test_stylesheet_is_served_under_its_hash_and_cached_for_a_year(http, seeded):
    page = Page(http.get("/").text)
    href = next(link["href"] for link in page.links if link["rel"] == "stylesheet")
    response = http.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "immutable" in response.headers["cache-control"]
    assert b"prefers-color-scheme: dark" in response.body
    assert http.get("/static/other.css").status_code == 404


def test_api_lists_posts_as_json(http, seeded):
    data = json.loads(http.get("/api/posts").body)
    assert data["posts"][0]["slug"] == "global-prayer-gathering-2013"
    assert data["next"] is None
    one = json.loads(http.get("/api/posts/global-prayer-gathering-2013").body)
    assert "Anisha" in one["html"]
    assert "source_key" not in one and "version_id" not in one


def test_api_errors_are_json(http, resources):
    response = http.get("/api/posts/nope")
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": "No such post."}
    assert http.get("/api/posts?limit=1000").status_code == 400


def test_garbage_cursor_is_a_400_page(http, seeded):
    for cursor in ("garbage!!", "x" * 5000, links.encode_cursor("not a key")):
        response = http.get(f"/?cursor={cursor}")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")


def test_unhandled_errors_are_a_500_page_without_a_trace(http, resources, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.site(), "home", broken)
    response = http.get("/")
    assert response.status_code == 500
    assert b"secret internals" not in response.body
    assert b"Traceback" not in response.body
    assert response.headers["cache-control"] == "no-store"


def test_schedule_handler_runs_the_rebuild(http, index, content):
    content.put("posts/missed.md", source("Missed", tags=["Python"]), "text/markdown")  # no event
    assert index.get_site() == {}
    run_rebuild()
    assert index.get_site()["report"]["repaired"] == [{"key": "posts/missed.md", "action": "published"}]
    assert http.get("/posts/missed").status_code == 200


def test_non_latin_slugs_and_tags_work(http, publish):
    from urllib.parse import quote

    publish("posts/日本語.md", source("日本語の記事", tags=["日本"]))
    assert http.get(quote("/posts/日本語")).status_code == 200
    page = http.get(quote("/tags/日本"))
    assert page.status_code == 200
    assert quote("/posts/日本語") in Page(page.text).anchors


def test_revalidation_reads_no_s3_even_in_a_cold_container(http, seeded, calls):
    etag = http.get("/posts/global-prayer-gathering-2013").headers["etag"]
    services.site.cache_clear()  # a new container: empty caches
    calls.clear()
    assert http.get("/posts/global-prayer-gathering-2013", headers={"If-None-Match": etag}).status_code == 304
    assert calls.keys() == POST_VIEW_CALLS


def test_tag_page_and_warm_feed_are_one_query(http, seeded, calls):
    calls.clear()
    assert http.get("/tags/prayer").status_code == 200
    assert calls.keys() == [("dynamodb", "Query")]
    http.get("/feed.xml")
    calls.clear()
    http.get("/feed.xml")
    assert calls.keys() == [("dynamodb", "Query")]


@pytest.fixture
def distribution(resources, monkeypatch):
    """A CloudFront distribution in front of the blog (moto), known to the stage's settings."""
    client = aws.client("cloudfront")
    made = client.create_distribution(DistributionConfig={
        "CallerReference": "blog", "Comment": "blog", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "api", "DomainName": "abc.execute-api.us-east-1.amazonaws.com", "OriginPath": "/api",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]
    monkeypatch.setenv("BLOG_CDN_DISTRIBUTION_ID", made)
    services.reset()
    return client, made


def invalidated(client, distribution_id: str) -> list[list[str]]:
    summaries = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [client.get_invalidation(DistributionId=distribution_id, Id=s["Id"])["Invalidation"]
            ["InvalidationBatch"]["Paths"]["Items"] for s in summaries]


def deliver(content, queue_url, key: str, data: bytes | None) -> None:
    """Upload (or delete) a key and hand its queued event to the ingest handler, as Lambda does."""
    import app

    sqs = aws.client("sqs")
    if data is None:
        content.delete(key)
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
            {"Records": [{"eventName": "ObjectRemoved:DeleteMarkerCreated", "s3": {"object": {"key": key}}}]}))
    else:
        content.put(key, data, "text/markdown")
    messages = [m for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if "s3:TestEvent" not in m["Body"]]
    app.ingest_uploads(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:test-blog-uploads"), None)


def test_each_ingest_invalidates_what_it_changed_on_the_cdn(http, content, queue_url, distribution, operations):
    from blogctl import policy
    from blogctl.stage import load_stage
    from iam import allows, requests_of

    client, distribution_id = distribution
    aws.client("sqs").purge_queue(QueueUrl=queue_url)
    deliver(content, queue_url, "posts/p.md", source("P", tags=["t"], summary="S"))  # a new post: everything
    deliver(content, queue_url, "posts/p.md", source("P", tags=["t"], summary="S", body="Edited."))  # body only
    deliver(content, queue_url, "posts/d.md", source("D", draft=True))        # nothing readers see
    deliver(content, queue_url, "posts/p.md", None)                           # withdrawn: everything
    sent = invalidated(client, distribution_id)
    assert len(sent) == 3
    assert ["/*"] in sent and sent.count(["/*"]) == 2
    body_only = next(paths for paths in sent if paths != ["/*"])
    assert {"/posts/p", "/api/posts/p", "/feed.xml", "/tags/t", "/tags/t/feed.xml"} <= set(body_only)
    # The CDN template grants ingest this call on its own distribution only (blogctl/policy.py).
    grant = {"Statement": [policy.invalidation_statement(f"arn:aws:cloudfront::*:distribution/{distribution_id}")]}
    mine = [c for c in operations.calls if c.service == "cloudfront"]
    assert mine and all(c.function == "ingest_uploads" for c in mine)
    assert all(allows(grant, action, arn) for c in mine for action, arn in requests_of(c))
    operations.calls[:] = [c for c in operations.calls if c.service != "cloudfront"]  # checked above
