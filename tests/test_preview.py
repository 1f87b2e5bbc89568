"""Preview links: signed, expiring, revocable; a plain 404 for anything else, in constant time."""
from __future__ import annotations

import hmac
import html
import re
import time

import pytest

from chalicelib import preview, services
from conftest import source

SECRET = "s3cret-for-tests"
NOW = 1_800_000_000


def link(slug: str, seconds: int = 3600, secret: str | None = None) -> str:
    """A live preview path for `slug`, signed with the stage's secret (or `secret`)."""
    token = preview.sign(secret or services.preview_secret().read(), slug, int(time.time()) + seconds)
    return preview.path(slug, token)


# -- tokens --

def test_a_token_opens_its_slug_until_it_expires():
    token = preview.sign(SECRET, "draft-post", NOW + 60)
    assert preview.verify(SECRET, "draft-post", token, NOW)
    assert preview.verify(SECRET, "draft-post", token, NOW + 59)
    assert not preview.verify(SECRET, "draft-post", token, NOW + 60)


@pytest.mark.parametrize("wrong", ["tampered mac", "later expiry", "other slug", "other secret", "no dot",
                                   "empty", "letters for a time", "too long", "beyond the maximum"])
def test_a_wrong_token_is_refused_with_one_mac_and_one_constant_time_comparison(wrong, monkeypatch):
    token = preview.sign(SECRET, "draft-post", NOW + 60)
    stamp, mac = token.split(".")
    slug, secret = "draft-post", SECRET
    token = {
        "tampered mac": f"{stamp}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        "later expiry": f"{int(stamp) + 3600}.{mac}",
        "other slug": token, "other secret": token,
        "no dot": stamp + mac, "empty": "", "letters for a time": f"soon.{mac}", "too long": token + "x" * 64,
        "beyond the maximum": preview.sign(SECRET, "draft-post", NOW + preview.MAX_SECONDS + 1),
    }[wrong]
    slug = "other-post" if wrong == "other slug" else slug
    secret = "another secret" if wrong == "other secret" else secret
    comparisons, macs = [], []
    real_compare, real_new = hmac.compare_digest, hmac.new
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: comparisons.append(1) or real_compare(a, b))
    monkeypatch.setattr(hmac, "new", lambda *a, **k: macs.append(1) or real_new(*a, **k))
    assert not preview.verify(secret, slug, token, NOW)
    assert (len(comparisons), len(macs)) == (1, 1)


def test_durations_read_as_editors_write_them():
    assert [preview.parse_duration(t) for t in ("90s", "30m", "24h", "7d", "2")] == [90, 1800, 86400, 604800, 7200]
    for bad in ("", "soon", "0h", "31d", "-1h"):
        with pytest.raises(ValueError):
            preview.parse_duration(bad)


def test_the_secret_is_read_again_only_after_its_ttl():
    values, ticks = iter(["first", "second"]), [0.0]
    cache = preview.SecretCache(lambda: next(values), ttl=60, ticks=lambda: ticks[0])
    assert cache.get() == "first"
    ticks[0] = 59.9
    assert cache.get() == "first"
    ticks[0] = 60
    assert cache.get() == "second"


def test_setup_creates_one_secret_per_stage_and_never_overwrites_it(resources):
    from blogctl.resources import ensure_resources
    from chalicelib import aws

    first = services.preview_secret().read()
    assert len(first) >= 40
    assert ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), resources) == []
    assert services.preview_secret().read() == first
    assert services.preview_secret().name == f"/{resources.table}/preview-secret"


# -- the route --

def test_a_draft_previews_as_it_will_look_marked_private_and_noindex(http, publish, content):
    content.put("assets/coming/shot.png", b"\x89PNG\r\n\x1a\n" + bytes(16), "image/png")
    publish("posts/coming.md", source("Coming soon", tags=["News"], draft=True, body="Hello ![shot](shot.png)"))
    assert http.get("/posts/coming").status_code == 404  # readers: nothing
    path = link("coming")
    page = http.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert 'rel="canonical"' not in page.text
    assert "<h1>Coming soon</h1>" in page.text and "a draft" in page.text
    image = re.search(r'<img src="([^"]+)"', page.text).group(1)
    assert image == f"{path}/shot.png"
    shot = http.get(image)
    assert shot.status_code == 302 and "assets/coming/shot.png" in shot.headers["location"]  # a signed URL
    assert shot.headers["cache-control"] == "private, no-store"  # the link is the preview's, not for caches
    assert http.get("/assets/coming/shot.png", {"Accept": "image/png"}).status_code == 404  # still private


def test_a_scheduled_post_previews_with_its_date(http, publish):
    publish("posts/later.md", source("Later", date="2099-01-02"))
    page = http.get(link("later"))
    assert page.status_code == 200
    assert "scheduled: readers see it from" in page.text and "2099" in page.text


def test_a_rejected_upload_previews_as_far_as_it_can_with_its_problems(http, publish):
    publish("posts/fix-me.md", source("Fix me", body="The good version."))
    publish("posts/fix-me.md",
            b"---\ntitle: Fix me again\ndate: 2024-01-02\ndraft: maybe\n---\n\nThe broken version.\n")
    page = http.get(link("fix-me"))
    assert page.status_code == 200
    assert "The broken version." in page.text and "line 4: 'draft'" in html.unescape(page.text)
    assert "readers still see the last good version" in page.text
    assert "The good version." in http.get("/posts/fix-me").text  # readers keep it
    publish("posts/never.md", b"---\ntitle: [unclosed\n---\nNever shown.\n")
    page = http.get(link("never"))
    assert page.status_code == 200
    assert "nothing is online" in page.text and "not valid YAML" in page.text


def not_found_body(http) -> str:
    return http.get("/posts/no-such-post").text


@pytest.mark.parametrize("case", ["expired", "tampered", "other slug", "garbage", "unknown slug"])
def test_a_wrong_link_is_the_plain_404_page(http, publish, case):
    publish("posts/secret-plan.md", source("Secret plan", draft=True))
    token = link("secret-plan").rsplit("/", 1)[1]
    path = {
        "expired": link("secret-plan", seconds=-1),
        "tampered": preview.path("secret-plan", token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        "other slug": preview.path("other", token),
        "garbage": "/preview/secret-plan/..%2F..%2Fetc",
        "unknown slug": link("no-such-post"),
    }[case]
    page = http.get(path)
    assert page.status_code == 404
    assert page.text == not_found_body(http)
    assert http.get(path + "/x.png", {"Accept": "image/png"}).status_code == 404


def test_a_wrong_token_reads_nothing_whether_or_not_the_post_exists(http, publish, calls):
    publish("posts/real.md", source("Real", draft=True))
    http.get(link("real"))  # the secret is cached now, as in a warm container
    calls.clear()
    for slug in ("real", "imaginary"):
        assert http.get(preview.path(slug, "1999999999.AAAA")).status_code == 404
    assert calls.keys() == []


def test_rotating_the_secret_revokes_every_link_within_its_ttl(http, publish):
    publish("posts/rotating.md", source("Rotating", draft=True))
    path = link("rotating")
    assert http.get(path).status_code == 200
    services.preview_secret().replace(preview.new_secret())
    cache = services.site().preview_secret
    assert http.get(path).status_code == 200  # the container's copy, for at most its TTL
    started = cache.ticks()
    cache.ticks = lambda: started + preview.SECRET_TTL_SECONDS
    assert http.get(path).status_code == 404
    assert http.get(link("rotating")).status_code == 200  # links signed with the new secret work
