"""`blogctl import` end to end, one small site per generator (tests/data/sites/, written for this project).

Each site is imported into the dev stage on moto (uploads, S3 events, the queue, the ingest
handler, the routes through Chalice's test client); then every old URL must lead to its
post, every image display, every link between posts resolve, the feed keep the old entry
ids, and unknown paths answer the HTML 404. A second import changes nothing.
"""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from blogctl import importer
from blogctl.importer import SiteError, import_site, read_site
from blogctl.sandbox import Sandbox, sandbox
from blogctl.stage import load_stage
from chalicelib import aws, services

SITES = Path(__file__).parent / "data" / "sites"
IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"  # what a browser sends for <img>
MAX_HOPS = 3

# What each fixture site holds, worked out by hand from its files and the generator's rules.
EXPECTED = {
    "jekyll": {
        "published": {"first-light", "second-night", "notes-from-the-field", "charts-for-beginners"},
        "draft": {"unfinished-mirror"},
        "rejected": {"posts/_posts/2019-07-01-broken.md": "not valid YAML"},
        "skipped": 2,
        "old_urls": {
            "first-light": "/astronomy/2019/03/02/first-light.html",
            "second-night": "/2019/04/10/second-night.html",
            "notes-from-the-field": "/blog/2019/05/01/notes-from-the-field.html",
            "charts-for-beginners": "/2019/06/01/charts-for-beginners.html",
        },
        "aliases": {"/old/notes/": "notes-from-the-field", "/2019/notes.html": "notes-from-the-field",
                    "/posts/star-charts": "charts-for-beginners"},
        "base_path": "/journal",
        "feed_ids": {"https://notes.example.org/journal/astronomy/2019/03/02/first-light",
                     "https://notes.example.org/journal/2019/04/10/second-night",
                     "https://notes.example.org/journal/blog/2019/05/01/notes-from-the-field",
                     "https://notes.example.org/journal/2019/06/01/charts-for-beginners"},
        "old_feed": "/journal/feed.xml",
        "images": 3, "links": 7,
        "dates": {"second-night": "2019-04-10T21:30:00Z"},  # 23:30 in Berlin
    },
    "hugo": {
        "published": {"tomato-season", "soil", "compost"},
        "draft": {"raised-beds"},
        "rejected": {},
        "skipped": 3,
        "old_urls": {"tomato-season": "/2020/05/tomato-season/", "soil": "/2020/06/soil/",
                     "compost": "/2020/07/compost-finally/"},
        "aliases": {"/old/compost.html": "compost", "/2020/07/compost-heap/": "compost",
                    "/posts/tomatoes": "tomato-season"},
        "base_path": "",
        "feed_ids": {"https://garden.example.net/2020/05/tomato-season/", "https://garden.example.net/2020/06/soil/",
                     "https://garden.example.net/2020/07/compost-finally/"},
        "old_feed": "/posts/index.xml",
        "images": 3, "links": 6,
        "dates": {"tomato-season": "2020-05-03T23:00:00Z"},  # 18:00 in Chicago
    },
    "pelican": {
        "published": {"solder-fumes", "led-matrix-v2", "older-notes"},
        "draft": {"soldering-station"},
        "rejected": {},
        "skipped": 2,
        "old_urls": {"solder-fumes": "/posts/2021/03/solder-fumes-explained.html",
                     "led-matrix-v2": "/posts/2021/04/led-matrix-v2.html",
                     "older-notes": "/posts/2020/12/older-notes.html"},
        "aliases": {"/posts/led-matrix": "led-matrix-v2"},
        "base_path": "",
        "feed_ids": {"tag:tinker.example.com,2021-03-14:/posts/2021/03/solder-fumes-explained.html/",
                     "tag:tinker.example.com,2021-04-02:/posts/2021/04/led-matrix-v2.html/",
                     "tag:tinker.example.com,2020-12-01:/posts/2020/12/older-notes.html/"},
        "old_feed": "/feeds/all.atom.xml",
        "images": 2, "links": 4,
        "dates": {"solder-fumes": "2021-03-14T21:40:00Z"},  # 22:40 in Paris
    },
}
GENERATORS = sorted(EXPECTED)


class Body(HTMLParser):
    """The images and links of a post's body (the <div class="post-body"> the template writes)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._depth:
            self._depth += tag == "div"
            if tag == "img":
                self.images.append(attrs["src"])
            elif tag == "a" and attrs.get("href") and "anchor" not in (attrs.get("class") or ""):
                self.links.append(attrs["href"])
        elif tag == "div" and "post-body" in (attrs.get("class") or "").split():
            self._depth = 1

    def handle_endtag(self, tag):
        if self._depth and tag == "div":
            self._depth -= 1


@pytest.fixture
def blog():
    """The dev stage on moto."""
    with sandbox(load_stage("dev")) as blog:
        yield blog


def run_import(blog: Sandbox, name: str) -> importer.Report:
    return import_site(read_site(SITES / name), services.content(), services.index(), settle_seconds=0,
                       deliver=blog.deliver)


def follow(blog: Sandbox, path: str, accept: str = "text/html") -> tuple[str, object]:
    """GET `path`, following redirects; the final path and response."""
    for _ in range(MAX_HOPS + 1):
        response = blog.get(path, {"Accept": accept})
        if response.status_code != 301:
            return path, response
        path = response.headers["Location"]
    raise AssertionError(f"more than {MAX_HOPS} redirects from {path}")


def spellings(path: str) -> list[str]:
    """An old URL as readers and other sites link to it: with and without the slash or `.html`."""
    bare = path.removesuffix(".html").rstrip("/")
    return sorted({path, bare, bare + "/", bare + ".html", bare + "/index.html"})


def displayed(blog, src: str) -> tuple[int, str]:
    """What a browser gets for an image: the blog redirects to a signed URL of the bucket (moto answers it)."""
    import requests

    response = blog.get(src, {"Accept": IMAGE_ACCEPT})
    if response.status_code != 302:
        return response.status_code, response.headers.get("Content-Type", "")
    fetched = requests.get(response.headers["Location"], timeout=5)
    return fetched.status_code, fetched.headers.get("Content-Type", "")


@pytest.fixture(scope="module")
def imported_sites():
    """Each generator's site imported once into its own sandbox: (report, pages by slug, feed, statuses)."""
    found = {}
    for name in GENERATORS:
        with sandbox(load_stage("dev")) as blog:
            report = run_import(blog, name)
            expected = EXPECTED[name]
            checks = {"old": {}, "images": {}, "links": {}, "pages": {}}
            for slug in expected["published"]:
                checks["pages"][slug] = blog.get(f"/posts/{slug}").body.decode()
            for slug, old in expected["old_urls"].items():
                for variant in spellings(old) + [expected["base_path"] + old]:
                    final, response = follow(blog, variant)
                    checks["old"][variant] = (final, response.status_code, slug)
            for old, slug in expected["aliases"].items():
                final, response = follow(blog, old)
                checks["old"][old] = (final, response.status_code, slug)
            for slug, html in checks["pages"].items():
                body = Body(html)
                for src in body.images:
                    checks["images"][src] = displayed(blog, src)
                for href in body.links:
                    final, response = follow(blog, href)
                    checks["links"][(slug, href)] = (final, response.status_code)
            feed = blog.get("/feed.xml").body
            old_feed = blog.get(expected["old_feed"])
            unknown = [blog.get(p) for p in ("/no/such/page", "/2099/01/01/nothing.html", "/images/none.png")]
            found[name] = {"report": report, "checks": checks, "feed": feed, "old_feed": old_feed, "unknown": unknown,
                           "dates": {s: services.index().post(s).card.date for s in expected["dates"]}}
    return found


@pytest.mark.parametrize("name", GENERATORS)
def test_the_report_says_what_was_published_and_what_was_not(imported_sites, name):
    report, expected = imported_sites[name]["report"], EXPECTED[name]
    by_status = {}
    for post in report.posts:
        by_status.setdefault(post.status, set()).add(post.slug or post.key)
    assert by_status.get("published") == expected["published"]
    assert by_status.get("draft") == expected["draft"]
    rejected = {p.key: p.message for p in report.posts if p.status == "error"}
    assert set(rejected) == set(expected["rejected"])
    assert all(why in rejected[key] for key, why in expected["rejected"].items())
    assert len(report.skipped) == expected["skipped"]
    text = importer.format_report(report)
    assert all(f"{old} -> /posts/{slug}" in text for slug, old in expected["old_urls"].items())


@pytest.mark.parametrize("name", GENERATORS)
def test_every_old_url_leads_to_its_post(imported_sites, name):
    checks = imported_sites[name]["checks"]["old"]
    assert len(checks) >= 4 * len(EXPECTED[name]["old_urls"])
    assert {path: (final, status) for path, (final, status, slug) in checks.items()} == \
        {path: (f"/posts/{slug}", 200) for path, (_, _, slug) in checks.items()}


@pytest.mark.parametrize("name", GENERATORS)
def test_every_image_displays(imported_sites, name):
    images = imported_sites[name]["checks"]["images"]
    assert len(images) == EXPECTED[name]["images"]
    assert [src for src, (status, kind) in images.items() if status != 200 or not kind.startswith("image/")] == []


@pytest.mark.parametrize("name", GENERATORS)
def test_every_link_between_posts_resolves(imported_sites, name):
    links = imported_sites[name]["checks"]["links"]
    to_posts = {k: v for k, v in links.items() if urlsplit(k[1]).scheme == ""}
    assert len(to_posts) == EXPECTED[name]["links"]
    assert [link for link, (final, status) in to_posts.items()
            if status != 200 or not final.startswith("/posts/")] == []


@pytest.mark.parametrize("name", GENERATORS)
def test_the_feed_keeps_its_entry_ids(imported_sites, name):
    feed = feedparser.parse(imported_sites[name]["feed"])
    assert {e.id for e in feed.entries} == EXPECTED[name]["feed_ids"]
    old_feed = imported_sites[name]["old_feed"]
    assert (old_feed.status_code, old_feed.headers["Location"]) == (301, "/feed.xml")


@pytest.mark.parametrize("name", GENERATORS)
def test_naive_dates_are_in_the_sites_time_zone(imported_sites, name):
    assert imported_sites[name]["dates"] == EXPECTED[name]["dates"]


@pytest.mark.parametrize("name", GENERATORS)
def test_unknown_paths_are_the_html_404(imported_sites, name):
    for response in imported_sites[name]["unknown"]:
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Not found" in response.body.decode()


def bucket_and_table() -> tuple[list, list]:
    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
    settings = services.content().bucket, services.index().table
    versions = s3.list_object_versions(Bucket=settings[0]).get("Versions", [])
    items = dynamodb.scan(TableName=settings[1])["Items"]
    return sorted((v["Key"], v["VersionId"]) for v in versions), sorted(json.dumps(i, sort_keys=True) for i in items)


def test_importing_twice_changes_nothing(blog):
    first = run_import(blog, "hugo")
    assert first.uploaded == 8 and first.config_changed  # 4 posts, 2 files of a bundle, 2 static files
    before = bucket_and_table()
    again = run_import(blog, "hugo")
    assert (again.uploaded, again.config_changed, again.unchanged) == (0, False, 8)
    assert bucket_and_table() == before
    assert [(p.key, p.status) for p in again.posts] == [(p.key, p.status) for p in first.posts]


def test_a_post_the_index_lost_is_uploaded_again(blog):
    run_import(blog, "pelican")
    record = services.index().post("older-notes")
    aws.client("dynamodb").delete_item(TableName=services.index().table,
                                       Key={"pk": {"S": "POST#older-notes"}, "sk": {"S": "POST"}})
    again = run_import(blog, "pelican")
    assert again.uploaded == 1
    assert services.index().post("older-notes").card.old_path == record.card.old_path


def test_new_rules_are_applied_to_every_post(blog, tmp_path):
    import shutil

    run_import(blog, "pelican")
    site = tmp_path / "site"
    shutil.copytree(SITES / "pelican", site)
    conf = site / "pelicanconf.py"
    conf.write_text(conf.read_text().replace("ARTICLE_URL = 'posts/{date:%Y}/{date:%m}/{slug}.html'",
                                             "ARTICLE_URL = '{slug}/'"))
    report = import_site(read_site(site), services.content(), services.index(), settle_seconds=0, deliver=blog.deliver)
    assert report.config_changed and report.uploaded == 4  # every post again; the files are as they were
    assert follow(blog, "/solder-fumes-explained/")[0] == "/posts/solder-fumes"


def test_a_folder_of_no_known_generator_is_refused(tmp_path):
    (tmp_path / "index.html").write_text("<p>hi</p>")
    with pytest.raises(SiteError, match="no Hugo, Jekyll or Pelican site"):
        read_site(tmp_path)


def test_pelican_settings_are_read_never_run(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "pelicanconf.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "SITEURL = 'https://x.example'\nARTICLE_URL = '{slug}/'\nTIMEZONE = 'UTC'\nPATH = 'content'\n"
        "STATIC_PATHS = [p for p in ['images']]\n")
    (tmp_path / "content").mkdir()
    site = read_site(tmp_path)
    assert not marker.exists()
    assert (site.config.base_url, site.config.permalinks) == ("https://x.example", {"*": "{slug}/"})
    assert any("STATIC_PATHS" in w for w in site.warnings)


def test_a_broken_config_is_a_clear_error(tmp_path):
    (tmp_path / "hugo.toml").write_text("baseURL = [unclosed\n")
    with pytest.raises(SiteError, match="hugo.toml"):
        read_site(tmp_path)


def test_the_command_uploads_and_reports(blog, monkeypatch, capsys):
    from blogctl import cli

    monkeypatch.setattr(cli, "connect", lambda args: None)  # the sandbox is the stage
    monkeypatch.setattr(importer, "SETTLE_SECONDS", 0)
    status = cli.main(["import", str(SITES / "jekyll"), "--json", "--no-wait"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1  # nothing is ingested without waiting: the posts are still on their way
    assert report["generator"] == "jekyll" and report["uploaded"] == 9
    assert {p["status"] for p in report["posts"]} <= {"waiting", "error"}


@pytest.fixture
def served(blog, monkeypatch):
    """The sandbox's blog over real HTTP on loopback (for `blogctl import --check`).

    Its images redirect to signed URLs of the sandbox's bucket, which only moto answers (in
    this process, through `requests`): the check's fetches of those go there.
    """
    import requests

    real_get = importer._get

    def get(url: str, accept: str):
        if (urlsplit(url).hostname or "").endswith(".amazonaws.com"):
            fetched = requests.get(url, headers={"Accept": accept}, timeout=5, allow_redirects=False)
            return fetched.status_code, {k.lower(): v for k, v in fetched.headers.items()}, fetched.content
        return real_get(url, accept)

    monkeypatch.setattr(importer, "_get", get)
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            response = blog.get(self.path, {"Accept": self.headers.get("Accept", "*/*")})
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_check_counts_what_readers_find(blog, served):
    report = run_import(blog, "jekyll")
    check = importer.check_site(report, served)
    expected = EXPECTED["jekyll"]
    aliases = sum(len(p.old_urls) - 1 for p in report.posts if p.status == "published")
    assert check.posts == len(expected["published"])
    assert (check.old_urls_ok, check.old_urls) == (2 * check.posts + aliases,) * 2  # each with the base path too
    assert (check.images_ok, check.images) == (expected["images"],) * 2
    assert (check.links_ok, check.links, check.other_links) == (expected["links"], expected["links"], 0)
    assert check.failures == [] and "100.0%" in check.summary()


def test_the_check_names_what_fails(blog, served):
    report = run_import(blog, "hugo")
    services.content().delete("files/images/tomato.png")
    check = importer.check_site(report, served)
    assert check.images_ok == check.images - 1
    assert check.failures == [f"image {served}/images/tomato.png is not shown"]


def keys(site: importer.OldSite, kind: str) -> set[str]:
    return {u.key for u in site.uploads if u.kind == kind}


def test_the_fixture_sites_are_read_as_their_generators_would(tmp_path):
    jekyll, hugo, pelican = (read_site(SITES / name) for name in ("jekyll", "hugo", "pelican"))
    assert "files/README.md" not in keys(jekyll, "file")  # `exclude:` in _config.yml
    assert not any("_layouts" in k for k in keys(jekyll, "file"))
    assert {"posts/posts/soil/figures/soil-layers.png", "files/images/tomato.png"} <= keys(hugo, "file")
    assert "files/robots.txt" in keys(pelican, "file")  # moved there by EXTRA_PATH_METADATA
    assert dict(pelican.skipped) == {"content/notes.rst": "not Markdown: only Markdown articles are imported",
                                     "content/pages/about.md": "a page (PAGE_PATHS), not an article"}


def test_hugo_settings_in_config_default_and_main_sections(tmp_path):
    (tmp_path / "config" / "_default").mkdir(parents=True)
    (tmp_path / "config" / "_default" / "hugo.toml").write_text('baseURL = "https://h.example/"\nuglyURLs = true\n')
    (tmp_path / "config" / "_default" / "permalinks.toml").write_text('[page]\nblog = "/:year/:slug/"\n')
    (tmp_path / "config" / "_default" / "params.yaml").write_text("mainSections: [blog]\n")
    for path, text in {"content/blog/a.md": "---\ntitle: A\n---\n", "content/docs/b.md": "---\ntitle: B\n---\n",
                       "content/blog/c/index.md": "---\ntitle: C\n---\n", "content/blog/c/notes.md": "x",
                       "content/blog/c/pic.jpg": "jpg"}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    site = read_site(tmp_path)
    assert (site.config.base_url, site.config.permalinks, site.config.settings["ugly_urls"]) == \
        ("https://h.example", {"blog": "/:year/:slug/"}, "true")
    assert keys(site, "post") == {"posts/blog/a.md", "posts/blog/c/index.md"}
    assert keys(site, "file") == {"posts/blog/c/pic.jpg"}
    assert dict(site.skipped) == {"content/docs/b.md": "section 'docs' is not in params.mainSections ['blog']",
                                  "content/blog/c/notes.md": "a Markdown resource of a page bundle, not a page"}


def test_a_jekyll_source_folder_that_is_not_there_is_an_error_not_an_empty_site(tmp_path):
    (tmp_path / "_config.yml").write_text("url: https://j.example\nsource: .tmp/src\n")  # made by a build step
    (tmp_path / "src" / "_posts").mkdir(parents=True)
    (tmp_path / "src" / "_posts" / "2020-01-01-a.md").write_text("---\ntitle: A\n---\n")
    with pytest.raises(SiteError, match=r"sets source: \.tmp/src, and .* is not a folder here"):
        read_site(tmp_path)


def test_jekyll_front_matter_defaults_give_the_posts_permalink(tmp_path):
    (tmp_path / "_config.yml").write_text(
        "url: https://j.example\npermalink: date\ndefaults:\n  - scope: {path: '', type: posts}\n"
        "    values: {permalink: '/blog/:title/'}\n")
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "2020-01-01-a.md").write_text("---\ntitle: A\n---\n")
    (tmp_path / "_posts" / "2020-01-02-b.html").write_text("---\ntitle: B\n---\n")
    (tmp_path / ".secret").write_text("x")
    (tmp_path / "img.png").write_bytes(b"png")
    site = read_site(tmp_path)
    assert site.config.permalinks == {"*": "/blog/:title/"}
    assert keys(site, "post") == {"posts/_posts/2020-01-01-a.md"} and keys(site, "file") == {"files/img.png"}
    assert dict(site.skipped) == {"_posts/2020-01-02-b.html": "not Markdown: only Markdown posts are imported"}
