"""A corpus of malformed and unusual uploads: each gets a clear error and loses nothing.

Every malformed file is uploaded over a published post; the post must keep serving its
last good version (re-rendered from S3 by VersionId, caches cleared), and the error must
be written on its index entry. Unusual but valid files must simply publish.
"""
from __future__ import annotations

import pytest

from chalicelib import model, posts, services
from conftest import source

GOOD_BODY = "The good version, still served."

MALFORMED = {
    "empty file": (b"", "file is empty"),
    "only whitespace": (b"  \n\n\t\n", "file is empty"),
    "no front matter": (b"# Just Markdown\n\nNo front matter here.", "no front matter"),
    "front matter never closed": (b"---\ntitle: T\ndate: 2020-01-01\n\nbody", "not closed"),
    "unclosed YAML list": (b"---\ntitle: T\ndate: 2020-01-01\ntags: [a, b\n---\n", "not valid YAML"),
    "YAML tab indentation": (b"---\ntitle: T\n\tdate: 2020-01-01\n---\n", "not valid YAML"),
    "YAML bad quoting": (b"---\ntitle: 'it's broken'\ndate: 2020-01-01\n---\n", "not valid YAML"),
    "YAML python tag": (b"---\ntitle: !!python/object:os.system ls\ndate: 2020-01-01\n---\n", "not valid YAML"),
    "YAML alias bomb": (b"---\ntitle: T\ndate: 2020-01-01\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
                        + b"".join(b"%s: &%s [%s]\n" % (n, n, b", ".join([b"*" + p] * 10)) for p, n in
                                   [(b"a", b"b"), (b"b", b"c"), (b"c", b"d"), (b"d", b"e")])
                        + b"---\n", "MAX_FRONT_MATTER_NODES"),
    "front matter is a list": (b"---\n- title\n- date\n---\n", "must be a mapping"),
    "front matter is a string": (b"---\njust some words\n---\n", "must be a mapping"),
    "missing title": (b"---\ndate: 2020-01-01\n---\nbody", "'title': missing"),
    "empty title": (b"---\ntitle: ''\ndate: 2020-01-01\n---\n", "'title': missing"),
    "title is a mapping": (b"---\ntitle: {a: b}\ndate: 2020-01-01\n---\n", "'title': must be text"),
    "title too long": (b"---\ntitle: " + b"x" * 400 + b"\ndate: 2020-01-01\n---\n", "MAX_TITLE_CHARS"),
    "missing date": (b"---\ntitle: T\n---\nbody", "'date': missing"),
    "date is words": (b"---\ntitle: T\ndate: next tuesday\n---\n", "is not a date"),
    "impossible date": (b"---\ntitle: T\ndate: 2013-13-45\n---\n", "is not a date"),
    "year typo": (b"---\ntitle: T\ndate: 0213-04-20\n---\n", "MIN_YEAR..MAX_YEAR"),
    "offset beyond 18 hours": (b"---\ntitle: T\ndate: 9999-12-31T23:59:59-23:59\n---\n", "MIN_YEAR..MAX_YEAR"),
    "Hugo zero date": (b"---\ntitle: T\ndate: 0001-01-01\n---\n", "'date': missing"),
    "unclosed quote": (b'---\ntitle: "T\ndate: 2020-01-01\n---\n', "a quote is not closed"),
    "date is a list": (b"---\ntitle: T\ndate: [2020, 1, 1]\n---\n", "is not a date"),
    "bad time zone": (b"---\ntitle: T\ndate: '2020-01-01T10:00:00+25:00'\n---\n", "is not a date"),
    "updated is words": (b"---\ntitle: T\ndate: 2020-01-01\nupdated: soon\n---\n", "'updated'"),
    "draft is not a boolean": (b"---\ntitle: T\ndate: 2020-01-01\ndraft: maybe\n---\n", "true or false"),
    "tags is a mapping": (b"---\ntitle: T\ndate: 2020-01-01\ntags: {a: 1}\n---\n", "'tags'"),
    "tag too long": (b"---\ntitle: T\ndate: 2020-01-01\ntags: [" + b"y" * 80 + b"]\n---\n", "MAX_TAG_CHARS"),
    "tag without letters": (b"---\ntitle: T\ndate: 2020-01-01\ntags: ['!!!']\n---\n", "no letters or digits"),
    "slug without letters": (b"---\ntitle: T\ndate: 2020-01-01\nslug: '???'\n---\n", "'slug'"),
    "aliases is a mapping": (b"---\ntitle: T\ndate: 2020-01-01\naliases: {a: b}\n---\n", "'aliases'"),
    "Latin-1 bytes": ("---\ntitle: Café\ndate: 2020-01-01\n---\n".encode("latin-1"), "not UTF-8"),
    "UTF-16 file": ("---\ntitle: T\ndate: 2020-01-01\n---\n".encode("utf-16"), "not UTF-8"),
    "an image uploaded as a post": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not UTF-8"),
    "front matter too large": (b"---\ntitle: T\ndate: 2020-01-01\nx: '" + b"y" * 70000 + b"'\n---\n", "MAX_FRONT_MATTER_CHARS"),
    "nested too deeply": (b"---\ntitle: " + b"[" * 3000 + b"]" * 3000 + b"\n---\n", "nested too deeply"),
    "file over the size limit": (b"---\ntitle: T\ndate: 2020-01-01\n---\n" + b"x" * posts.MAX_SOURCE_BYTES, "MAX_SOURCE_BYTES"),
    "TOML syntax error": (b'+++\ntitle = "T\ndate = 2020-01-01\n+++\n', "not valid TOML"),
    "TOML never closed": (b'+++\ntitle = "T"\ndate = 2020-01-01\n', "not closed"),
}

UNUSUAL_BUT_VALID = {
    "byte order mark": b"\xef\xbb\xbf---\ntitle: With BOM\ndate: 2020-01-01\n---\nbody",
    "Windows line ends": b"---\r\ntitle: CRLF\r\ndate: 2020-01-01\r\n---\r\n\r\nbody\r\n",
    "old Mac line ends": b"---\rtitle: CR\rdate: 2020-01-01\r---\r\rbody\r",
    "TOML front matter": b'+++\ntitle = "Toml"\ndate = 2020-01-01\n+++\nbody',
    "YAML end marker": b"---\ntitle: Dots\ndate: 2020-01-01\n...\nbody",
    "empty body": b"---\ntitle: Empty body\ndate: 2020-01-01\n---\n",
    "unicode everywhere": "---\ntitle: Ünïcødé ✓ 日本語\ndate: 2020-01-01\ntags: [Café, 日本]\n---\n# Hé 🎉\n".encode(),
    "datetime with offset": b"---\ntitle: Offset\ndate: 2020-01-01T23:30:00-05:00\n---\nbody",
    "unknown keys": b"---\ntitle: Extra\ndate: 2020-01-01\ncategories: [a]\nweight: 3\ncover: {image: x.png}\n---\nbody",
    "Hugo keys": b"---\ntitle: Hugo\ndate: 2020-01-01\nlastmod: 2020-02-02\ndescription: D\nslug: hugo-post\n---\nbody",
    "too many tags (the first MAX_TAGS kept, a warning)": b"---\ntitle: T\ndate: 2020-01-01\ntags: [" + b",".join(b"t%d" % i for i in range(40)) + b"]\n---\n",
    "summary too long (cut, a warning)": b"---\ntitle: T\ndate: 2020-01-01\nsummary: " + b"s " * 700 + b"\n---\n",
    "too many aliases (the first MAX_ALIASES kept, a warning)": b"---\ntitle: T\ndate: 2020-01-01\naliases: [" + b",".join(b"a%d" % i for i in range(20)) + b"]\n---\n",
    "NUL byte in front matter (dropped)": b"---\ntitle: a\x00b\ndate: 2020-01-01\n---\n",
    "raw HTML in body": b"---\ntitle: Html\ndate: 2020-01-01\n---\n<div onclick=x>hi</div><script>alert(1)</script>",
}


@pytest.fixture
def victim(publish):
    """A published post that every malformed upload tries to replace."""
    assert publish("posts/victim.md", source("Victim", tags=["kept"], body=GOOD_BODY)).action == "published"
    return "posts/victim.md"


def test_corpus_is_big_enough():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_upload_keeps_the_post_and_records_the_error(name, victim, publish, index, http):
    data, expected = MALFORMED[name]
    good = index.post("victim")
    outcome = publish(victim, data)
    assert outcome.action == "error"
    record = index.post("victim")
    assert expected in record.error.message, record.error.message
    assert record.source == good.source
    assert record.card.listing_sk == good.card.listing_sk
    services.site.cache_clear()  # a cold container: the page is rendered again from S3
    page = http.get("/posts/victim")
    assert page.status_code == 200
    assert GOOD_BODY in page.text
    assert [m.card.slug for m in index.group(model.tag_group("kept"), "9999", 10).items] == ["victim"]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_first_upload_is_an_error_and_nothing_public(name, publish, index, http):
    data, expected = MALFORMED[name]
    outcome = publish("posts/fresh.md", data)
    assert outcome.action == "error"
    assert expected in outcome.message
    assert http.get("/posts/fresh").status_code == 404
    assert index.listing("9999", 10).items == []


@pytest.mark.parametrize("name", sorted(UNUSUAL_BUT_VALID))
def test_unusual_upload_publishes(name, publish, index, http):
    outcome = publish("posts/unusual.md", UNUSUAL_BUT_VALID[name])
    assert outcome.action == "published", outcome.message
    page = http.get(f"/posts/{outcome.slug}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "onclick" not in page.text.replace("&lt;div onclick", "")


def test_slug_clash_keeps_both_posts_as_they_were(publish, index, http):
    publish("posts/first.md", source("First", body="first body"))
    outcome = publish("posts/other.md", source("Other", slug="first"))
    assert outcome.action == "error"
    [rejected] = index.source_states("posts/other.md")
    assert "already used by posts/first.md" in rejected.error.message
    assert "first body" in http.get("/posts/first").text
