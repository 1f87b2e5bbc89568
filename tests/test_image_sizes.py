"""Images: sizes read at ingest onto every `<img>`, and assets answered to any client."""
from __future__ import annotations

import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
import requests

from chalicelib import aws, indexer, ingest, model, pages, security, site, transitions
from conftest import source
from iam import acting_as

NS = "{http://www.w3.org/1999/xhtml}"
BODY = "Intro.\n\n![A cat](cat.png)\n\n![A dog](figures/dog.png)\n\n![Elsewhere](https://example.com/x.png)"


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
            + struct.pack(">I", zlib.crc32(b"IHDR" + header)) + bytes(100))


@pytest.fixture
def upload(content, index, clock):
    """Put any file in the bucket and ingest its key, as its event would."""
    def put(key: str, data: bytes, content_type: str = "image/png") -> indexer.Outcome:
        content.put(key, data, content_type)
        with acting_as("ingest_uploads"):
            return indexer.reconcile(key, index, content, clock())
    return put


@pytest.fixture
def delete(content, index, clock):
    def remove(key: str) -> indexer.Outcome:
        content.delete(key)
        with acting_as("ingest_uploads"):
            return indexer.reconcile(key, index, content, clock())
    return remove


def images(html: str) -> dict[str, dict[str, str]]:
    """Every image of a post's body by alt text, with its attributes."""
    body = html5lib.parse(html).find(f".//{NS}div[@class='post-body']")
    return {img.get("alt"): dict(img.attrib) for img in body.iter(f"{NS}img")}


def test_images_uploaded_before_their_post_get_their_size(http, publish, upload):
    assert upload("assets/pets/cat.png", png(640, 480)).action == "image"
    assert upload("assets/pets/figures/dog.png", png(300, 200)).action == "image"
    publish("posts/pets.md", source("Pets", body=BODY))
    found = images(http.get("/posts/pets").text)
    assert (found["A cat"]["width"], found["A cat"]["height"]) == ("640", "480")
    assert (found["A dog"]["width"], found["A dog"]["height"]) == ("300", "200")
    assert "width" not in found["Elsewhere"]


def test_the_first_image_loads_eagerly_and_the_rest_lazily(http, publish, upload):
    upload("assets/pets/cat.png", png(640, 480))
    publish("posts/pets.md", source("Pets", body=BODY))
    found = images(http.get("/posts/pets").text)
    assert "loading" not in found["A cat"] and found["A cat"]["fetchpriority"] == "high"
    assert found["A dog"]["loading"] == "lazy" and found["Elsewhere"]["loading"] == "lazy"


def test_an_image_uploaded_after_its_post_changes_the_page(http, publish, upload):
    publish("posts/pets.md", source("Pets", body=BODY))
    before = http.get("/posts/pets")
    assert "width" not in images(before.text)["A cat"]
    upload("assets/pets/cat.png", png(640, 480))
    after = http.get("/posts/pets", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # a new ETag: caches do not keep the page without sizes
    assert images(after.text)["A cat"]["width"] == "640"


def test_a_replaced_image_gets_its_new_size_and_a_deleted_one_loses_it(http, publish, upload, delete, index):
    publish("posts/pets.md", source("Pets", body=BODY))
    upload("assets/pets/cat.png", png(640, 480))
    assert upload("assets/pets/cat.png", png(800, 600)).message == "800x600"
    assert images(http.get("/posts/pets").text)["A cat"]["width"] == "800"
    assert delete("assets/pets/cat.png").action == "image removed"
    assert "width" not in images(http.get("/posts/pets").text)["A cat"]
    assert index.get(model.images_key("pets")) is None  # no sizes left: no item


def test_resized_copies_make_a_srcset(http, publish, upload):
    upload("assets/pets/cat.png", png(1600, 1200))
    upload("assets/pets/cat-480w.png", png(480, 360))
    publish("posts/pets.md", source("Pets", body=BODY))
    cat = images(http.get("/posts/pets").text)["A cat"]
    assert cat["srcset"] == "/assets/pets/cat-480w.png 480w, /assets/pets/cat.png 1600w"
    assert cat["sizes"]


@pytest.mark.parametrize("data", [b"", b"\x89PNG garbage", b"GIF89a", bytes(10_000)])
def test_an_unreadable_image_is_shown_without_a_size(http, publish, upload, data):
    publish("posts/pets.md", source("Pets", body=BODY))
    assert upload("assets/pets/cat.png", data).action == "unchanged"
    assert "width" not in images(http.get("/posts/pets").text)["A cat"]


def test_other_files_and_keys_cost_nothing(upload, calls):
    calls.clear()
    assert upload("assets/pets/paper.pdf", b"%PDF-1.4", "application/pdf").action == "ignored"
    assert upload("assets/Not A Slug/cat.png", png(1, 1)).action == "ignored"
    assert upload("assets/cat.png", png(1, 1)).action == "ignored"
    assert [c for c in calls.keys() if c != ("s3", "PutObject")] == []


def test_an_image_costs_three_calls_and_a_post_still_three(upload, publish, calls):
    upload("assets/pets/cat.png", png(640, 480))
    calls.clear()
    upload("assets/pets/dog.png", png(30, 20))
    assert calls.keys() == [("s3", "PutObject"), ("dynamodb", "GetItem"), ("s3", "GetObject"), ("dynamodb", "PutItem")]
    publish("posts/warm.md", source("Warm"))  # the container's first upload also reads the site's config
    calls.clear()
    publish("posts/pets.md", source("Pets", body=BODY))
    assert calls.keys() == [("s3", "PutObject"), ("dynamodb", "Query"), ("s3", "GetObject"),
                           ("dynamodb", "TransactWriteItems")]


def test_an_image_reads_only_its_header(upload, content, calls, monkeypatch):
    reads = []
    original = content.read_head
    monkeypatch.setattr(content, "read_head", lambda key, size: reads.append(size) or original(key, size))
    big = png(4000, 3000) + bytes(2 * 1024 * 1024)
    assert upload("assets/pets/big.png", big).message == "4000x3000"
    assert reads == [256 * 1024]


def test_sizes_per_post_are_bounded(upload, monkeypatch, index):
    monkeypatch.setattr(model, "MAX_IMAGES_PER_POST", 2)
    upload("assets/pets/a.png", png(1, 1))
    upload("assets/pets/b.png", png(2, 2))
    outcome = upload("assets/pets/c.png", png(3, 3))
    assert outcome.action == "error" and "MAX_IMAGES_PER_POST" in outcome.message
    assert sorted(index.image_sizes("pets").sizes) == ["a.png", "b.png"]
    assert upload("assets/pets/a.png", png(5, 5)).action == "image"  # a known one still changes


def test_a_write_that_loses_a_race_reads_again(upload, index, monkeypatch):
    upload("assets/pets/cat.png", png(640, 480))
    original = index.image_sizes
    raced = []

    def stale(slug):
        found = original(slug)
        if not raced:  # another image's ingest writes between our read and our write
            raced.append(True)
            other = found.with_image("dog.png", model.ImageSize(30, 20, "etag"))
            index.commit(transitions.image_sizes(found, other).writes())
        return found

    monkeypatch.setattr(index, "image_sizes", stale)
    upload("assets/pets/cow.png", png(70, 50))
    assert set(original("pets").sizes) == {"cat.png", "dog.png", "cow.png"}


def test_an_image_upload_through_the_queue_is_sized(http, content, queue_url, publish):
    import app
    from blogctl.localstack import sqs_event

    sqs = aws.client("sqs")
    sqs.purge_queue(QueueUrl=queue_url)
    publish("posts/pets.md", source("Pets", body=BODY))
    content.put("assets/pets/cat.png", png(640, 480), "image/png")  # the bucket notifies the queue
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert "assets/pets/cat.png" in [k for m in messages for k in ingest.keys_from_message(m["Body"])]
    app.ingest_uploads(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q"), None)
    assert images(http.get("/posts/pets").text)["A cat"]["width"] == "640"


# -- assets answer every client --


def signed(location: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(location)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "application/json", "image/webp,image/*"])
def test_assets_redirect_every_client_to_a_signed_url(http, publish, upload, accept):
    publish("posts/pets.md", source("Pets", body=BODY))
    upload("assets/pets/cat.png", png(640, 480))
    response = http.get("/assets/pets/cat.png", headers={"Accept": accept} if accept else {})
    assert response.status_code == 302
    path, query = signed(response.headers["location"])
    assert path.endswith("/assets/pets/cat.png") and query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    fetched = requests.get(response.headers["location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == png(640, 480)
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["cache-control"] == pages.IMMUTABLE_CACHE


def test_a_redirect_is_cached_far_less_long_than_its_url_lives(http, publish, upload):
    publish("posts/pets.md", source("Pets", body=BODY))
    upload("assets/pets/cat.png", png(640, 480))
    response = http.get("/assets/pets/cat.png")
    lives = int(signed(response.headers["location"])[1]["X-Amz-Expires"])
    cached = [int(part.split("=")[1]) for part in response.headers["cache-control"].split(", ") if "max-age" in part]
    assert lives == site.ASSET_URL_SECONDS and max(cached) == site.ASSET_REDIRECT_SECONDS
    assert max(cached) * 4 <= lives  # a cached redirect still has most of its URL's life ahead


def test_an_asset_costs_a_get_item_and_a_head_and_signing_costs_no_call(http, publish, upload, calls):
    upload("assets/pets/cat.png", png(640, 480))
    publish("posts/pets.md", source("Pets", body=BODY))
    calls.clear()
    assert http.get("/assets/pets/cat.png").status_code == 302
    assert calls.keys() == [("dynamodb", "GetItem"), ("s3", "HeadObject")]  # the post is public? the file there?


@pytest.mark.parametrize("name, content_type, download", [
    ("cat.svg", "image/svg+xml", True), ("paper.pdf", "application/pdf", False),
    ("data.bin", "application/octet-stream", True), ("clip.MP4", "video/mp4", False),
])
def test_assets_get_their_type_and_script_capable_files_download(http, publish, content, name, content_type,
                                                                 download):
    content.put(f"assets/pets/{name}", b"data", "application/octet-stream")
    publish("posts/pets.md", source("Pets", body=BODY))
    query = signed(http.get(f"/assets/pets/{name}").headers["location"])[1]
    assert query["response-content-type"] == content_type
    assert ("response-content-disposition" in query) == download


def test_a_head_request_gets_the_same_redirect(http, publish, upload):
    upload("assets/pets/cat.png", png(640, 480))
    publish("posts/pets.md", source("Pets", body=BODY))
    response = http.head("/assets/pets/cat.png")
    assert response.status_code == 302 and response.body == b""
    assert "/assets/pets/cat.png" in response.headers["location"]


@pytest.mark.parametrize("path", ["/assets/nobody/cat.png", "/assets/pets/..%2Fsecret.png", "/assets/pets/.hidden"])
def test_unknown_posts_and_bad_names_are_404(http, publish, path):
    publish("posts/pets.md", source("Pets", body=BODY))
    assert http.get(path).status_code == 404


def test_the_local_stack_lets_pages_show_its_signed_urls():
    local = security.security_headers("http://127.0.0.1:4566")["Content-Security-Policy"]
    assert "img-src 'self' https: data: http://127.0.0.1:4566;" in local
    assert "media-src 'self' https: http://127.0.0.1:4566;" in local
    assert security.security_headers(None) == security.SECURITY_HEADERS
    assert security.security_headers("https://s3.example.com") == security.SECURITY_HEADERS


# -- the rebuild sizes what ingest missed --


def rebuild_now(index, content, clock):
    from chalicelib import rebuild

    with acting_as("rebuild_index"):
        return rebuild.rebuild(index, content, clock())


def test_the_rebuild_sizes_images_whose_events_were_missed(http, publish, content, index, clock):
    publish("posts/pets.md", source("Pets", body=BODY))
    content.put("assets/pets/cat.png", png(640, 480), "image/png")  # no event reached ingest
    report = rebuild_now(index, content, clock)
    assert {"key": "assets/pets/cat.png", "action": "image", "message": "640x480"} in report.repaired
    assert images(http.get("/posts/pets").text)["A cat"]["width"] == "640"


def test_the_rebuild_forgets_images_deleted_without_an_event(publish, upload, content, index, clock):
    publish("posts/pets.md", source("Pets", body=BODY))
    upload("assets/pets/cat.png", png(640, 480))
    upload("assets/pets/dog.png", png(30, 20))
    content.delete("assets/pets/cat.png")  # moto sends no event for a delete marker
    rebuild_now(index, content, clock)
    assert set(index.image_sizes("pets").sizes) == {"dog.png"}


def test_an_unchanged_set_of_images_costs_the_listing_alone(publish, upload, content, index, clock, calls):
    upload("assets/pets/cat.png", png(640, 480))
    rebuild_now(index, content, clock)
    calls.clear()
    rebuild_now(index, content, clock)
    assert ("dynamodb", "BatchGetItem") not in calls.keys() and ("s3", "GetObject") not in calls.keys()
    assert calls.writes() == []


def test_image_repairs_per_run_are_bounded(content, index, clock, monkeypatch):
    from chalicelib import rebuild

    monkeypatch.setattr(rebuild, "MAX_IMAGE_REPAIRS", 2)
    for n in range(3):
        content.put(f"assets/pets/{n}.png", png(n + 1, n + 1), "image/png")
    assert len(rebuild_now(index, content, clock).repaired) == 2
    assert len(rebuild_now(index, content, clock).repaired) == 1  # the next run goes on
    assert len(index.image_sizes("pets").sizes) == 3
