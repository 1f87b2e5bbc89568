"""An imported site's config at work: old URLs, old files, relative links, feed ids (ingest, site, render)."""
from __future__ import annotations

import datetime as dt

import feedparser
import pytest

from chalicelib import indexer, model, render, store
from chalicelib.model import SITE_FILES_PREFIX, PostRecord, SiteConfig
from conftest import source
from iam import acting_as

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
JEKYLL = SiteConfig(generator="jekyll", base_url="https://old.example/blog", time_zone="America/New_York",
                    files_prefix=SITE_FILES_PREFIX, feed_paths=("/feed.atom",))


@pytest.fixture
def imported(index):
    """The index with an imported Jekyll site's config."""
    index.put_site_config(JEKYLL)
    return JEKYLL


def test_a_posts_old_url_and_feed_id_come_from_the_sites_rules(imported, publish, index):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20 22:30"))
    record = index.post("hello")
    assert record.card.old_path == "/2013/04/20/hello.html"
    assert record.card.feed_id == "https://old.example/blog/2013/04/20/hello"
    assert "/2013/04/20/hello" in record.old_paths
    assert record.card.date == "2013-04-21T02:30:00Z"  # 22:30 in New York, the site's zone


@pytest.mark.parametrize("path", ["/2013/04/20/hello.html", "/2013/04/20/hello", "/2013/04/20/hello/",
                                  "/blog/2013/04/20/hello.html", "/BLOG/2013/04/20/Hello.HTML"])
def test_old_urls_with_and_without_base_path_redirect(imported, publish, http, path):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20"))
    page = http.get(path)
    assert (page.status_code, page.headers["location"]) == (301, "/posts/hello")


def test_an_old_page_under_the_base_path_reaches_its_post(imported, publish, http):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20", permalink="/posts/hello/"))
    assert http.get("/blog/posts/hello/").headers["location"] == "/posts/hello"


def test_a_renamed_post_answers_at_its_file_name_too(imported, publish, http):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20", slug="greetings"))
    assert http.get("/posts/hello").headers["location"] == "/posts/greetings"


def test_the_old_feed_redirects_and_keeps_its_entry_ids(imported, publish, http):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20"))
    assert http.get("/blog/feed.atom").headers["location"] == "/feed.xml"
    feed = feedparser.parse(http.get("/feed.xml").body)
    assert [e.id for e in feed.entries] == ["https://old.example/blog/2013/04/20/hello"]
    assert feed.entries[0].link.endswith("/posts/hello")


def test_posts_of_no_imported_site_keep_their_own_ids(publish, http):
    publish("posts/hello.md", source("Hello"))
    feed = feedparser.parse(http.get("/feed.xml").body)
    assert feed.entries[0].id.endswith("/posts/hello")



def fetched(http, path: str) -> tuple[int, str, bytes, str]:
    """What a browser gets for a file: the blog redirects to a signed URL of the bucket, which moto
    answers (through `requests`): (status, content type, bytes, content disposition)."""
    import requests

    response = http.get(path)
    if response.status_code != 302:
        return response.status_code, response.headers.get("content-type", ""), response.body, ""
    got = requests.get(response.headers["location"], timeout=5)
    return got.status_code, got.headers.get("Content-Type", ""), got.content, got.headers.get("Content-Disposition", "")


def test_site_files_are_served_at_their_old_paths(imported, content, http):
    content.put(SITE_FILES_PREFIX + "images/Cat.png", PNG, "image/png")
    for path in ("/images/Cat.png", "/blog/images/Cat.png"):
        assert fetched(http, path)[:3] == (200, "image/png", PNG)
    assert http.get("/images/cat.png").status_code == 404  # file names keep their case


def test_html_and_scripts_from_an_old_site_are_downloads_not_pages(imported, content, http):
    content.put(SITE_FILES_PREFIX + "demo/page.html", b"<script>alert(1)</script>", "text/html")
    content.put(SITE_FILES_PREFIX + "js/app.js", b"alert(1)", "text/javascript")
    for path in ("/demo/page.html", "/js/app.js"):
        status, content_type, _, disposition = fetched(http, path)
        assert (status, content_type) == (200, "application/octet-stream")  # never a page on our origin
        assert disposition.startswith("attachment")


@pytest.mark.parametrize("path", ["/.git/config", "/images/../secret.png", "/%2e%2e/x.png",
                                  "/images/a\\b.png"])
def test_odd_paths_never_reach_the_bucket(imported, content, http, calls, path):
    content.put(SITE_FILES_PREFIX + ".git/config", b"x", "text/plain")
    calls.clear()
    assert http.get(path).status_code == 404
    assert not {("s3", "GetObject"), ("s3", "HeadObject")} & set(calls.keys())


def test_without_an_import_unknown_paths_read_no_file(http, resources, calls):
    calls.clear()
    assert http.get("/images/cat.png").status_code == 404
    assert not {("s3", "GetObject"), ("s3", "HeadObject")} & set(calls.keys())


def test_bundle_files_in_subfolders_are_served_for_public_posts_only(publish, content, http, clock):
    content.put("posts/notes/trip/figures/5.png", PNG, "image/png")
    content.put("posts/notes/plan/figures/6.png", PNG, "image/png")
    publish("posts/notes/trip/index.md", source("Trip", body="![five](figures/5.png)"))
    publish("posts/notes/plan/index.md", source("Plan", draft=True))
    page = http.get("/posts/trip")
    assert 'src="/assets/trip/figures/5.png"' in page.text
    assert fetched(http, "/assets/trip/figures/5.png")[2] == PNG
    assert http.get("/assets/plan/figures/6.png", {"Accept": "image/png"}).status_code == 404
    assert http.get("/assets/trip/index.md").status_code == 404  # never a source


def test_jekyll_assets_folder_is_served_beside_posts_assets(imported, content, http):
    content.put(SITE_FILES_PREFIX + "assets/img/2013/a.png", PNG, "image/png")
    content.put(SITE_FILES_PREFIX + "assets/logo.png", PNG, "image/png")
    assert fetched(http, "/assets/img/2013/a.png")[0] == 200
    assert fetched(http, "/assets/logo.png")[0] == 200


def test_relative_links_resolve_against_the_old_page(imported, publish, http):
    publish("posts/_posts/2013-04-21-other.md", source("Other", date="2013-04-21"))
    publish("posts/_posts/2013-04-20-hello.md", source(
        "Hello", date="2013-04-20", body="[next](../21/other.html) [md](2013-04-21-other.md) ![pic](../../../images/a.png) "
        "[abs](https://OLD.example/blog/2013/04/21/other.html#x) [away](https://elsewhere.example/blog/x)"))
    html = http.get("/posts/hello").text
    assert 'href="/2013/04/21/other.html"' in html and 'href="/posts/other"' in html
    assert 'src="/images/a.png"' in html
    assert 'href="/blog/2013/04/21/other.html#x"' in html and 'href="https://elsewhere.example/blog/x"' in html
    assert http.get("/2013/04/21/other.html").headers["location"] == "/posts/other"


def test_an_imported_posts_relative_image_is_found_where_its_old_page_found_it(imported, publish, content, http):
    content.put(SITE_FILES_PREFIX + "2013/04/20/pic.png", PNG, "image/png")
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20", body="![p](pic.png)"))
    assert 'src="/assets/hello/pic.png"' in http.get("/posts/hello").text
    assert fetched(http, "/assets/hello/pic.png")[2] == PNG


def test_pelican_links_name_content():
    html = render.render_markdown(
        "[a]({filename}/2013/other.md#part) [b]({filename}../x.md) ![c]({static}/images/c.png) "
        "[d](|filename|y.md) [e]({tag}Python_Tips) [f]({index})",
        link_base="/api", source_key="posts/2014/this.md").html
    for href in ('"/api/posts/other#part"', '"/api/posts/x"', '"/api/images/c.png"', '"/api/posts/y"',
                 '"/api/tags/python-tips"', '"/api/"'):
        assert href in html


def test_a_bad_rule_publishes_the_post_with_a_warning(index, publish):
    index.put_site_config(SiteConfig(generator="hugo", permalinks={"posts": "/:nonsense/"}))
    assert publish("posts/posts/x.md", source("X")).action == "published"
    record = index.post("x")
    assert record.card.old_path is None and any("nonsense" in w for w in record.warnings)


def test_an_unknown_time_zone_is_a_warning(index, publish):
    index.put_site_config(SiteConfig(generator="hugo", time_zone="Mars/Olympus"))
    publish("posts/posts/x.md", source("X", date="2013-04-20 10:00"))
    record = index.post("x")
    assert record.card.date == "2013-04-20T10:00:00Z" and any("Mars/Olympus" in w for w in record.warnings)


def test_the_config_is_read_once_per_ttl(index, content, calls):
    clock = [0.0]
    reader = store.PostIndex(index._db, index.table, clock=lambda: clock[0])
    index.put_site_config(JEKYLL)
    calls.clear()
    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    for number in range(3):
        content.put(f"posts/p{number}.md", source(f"P{number}"), "text/markdown")
        with acting_as("ingest_uploads"):
            indexer.reconcile(f"posts/p{number}.md", reader, content, now)
        clock[0] += store.SITE_CONFIG_TTL_SECONDS / 3
    assert calls.count()[("dynamodb", "GetItem")] == 1
    clock[0] += store.SITE_CONFIG_TTL_SECONDS
    assert reader.site_config() == JEKYLL and calls.count()[("dynamodb", "GetItem")] == 2


def test_the_config_survives_the_table(index):
    config = SiteConfig(generator="pelican", base_url="https://x.example", time_zone="Europe/Paris",
                        permalinks={model.ANY_SECTION: "{slug}.html"}, settings={"slug_source": "title", "author": ""},
                        files_prefix=SITE_FILES_PREFIX, feed_paths=("/feeds/all.atom.xml",))
    index.put_site_config(config)
    assert store.PostIndex(index._db, index.table).site_config() == config


def test_a_config_item_out_of_bounds_is_cut_to_them():
    item = {**model.SITE_CONFIG_KEY, "generator": "jekyll", "files_prefix": "posts/",
            "permalinks": {str(n): "/:title/" for n in range(500)}, "feed_paths": ["/f"] * 100}
    config = SiteConfig.from_item(item)
    assert config.files_prefix == "" and len(config.permalinks) == model.MAX_PERMALINK_RULES
    assert len(config.feed_paths) == model.MAX_FEED_PATHS
    assert SiteConfig.from_item({**item, "generator": "wordpress"}) == SiteConfig()


def test_records_round_trip_their_old_address(imported, publish, index):
    publish("posts/_posts/2013-04-20-hello.md", source("Hello", date="2013-04-20"))
    record = index.post("hello")
    assert PostRecord.from_item(record.to_item()) == record
