"""Old addresses of imported posts, as Jekyll, Hugo and Pelican made them (chalicelib/permalinks.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib import permalinks, posts
from chalicelib.model import SiteConfig
from chalicelib.permalinks import PermalinkError, old_address


def address(config: SiteConfig, key: str, text: str, zone: dt.tzinfo = dt.timezone.utc) -> permalinks.OldAddress:
    post = posts.parse_post(key, text.encode(), zone)
    meta, _, _ = posts.split_front_matter(text)
    found = old_address(config, key, post, meta)
    assert found is not None
    return found


JEKYLL = SiteConfig(generator="jekyll", base_url="https://example.org/blog")
HUGO = SiteConfig(generator="hugo", base_url="https://example.org/")
PELICAN = SiteConfig(generator="pelican", base_url="https://example.org")


def test_no_imported_site_means_no_old_address():
    post = posts.parse_post("posts/a.md", b"---\ntitle: A\ndate: 2013-04-20\n---\nx")
    assert old_address(SiteConfig(), "posts/a.md", post, {}) is None


@pytest.mark.parametrize("style, path", [
    (None, "/2013/04/20/hello-world.html"),
    ("date", "/2013/04/20/hello-world.html"),
    ("pretty", "/2013/04/20/hello-world/"),
    ("ordinal", "/2013/110/hello-world.html"),
    ("weekdate", "/2013/W16/SAT/hello-world.html"),
    ("none", "/hello-world.html"),
    ("/:year/:i_month/:title", "/2013/4/hello-world"),
    ("/blog/:short_year/:title:output_ext", "/blog/13/hello-world.html"),
])
def test_jekyll_styles_and_patterns(style, path):
    config = SiteConfig(generator="jekyll", permalinks={"*": style} if style else {})
    found = address(config, "posts/_posts/2013-04-20-hello-world.md", "---\ntitle: Hi\n---\nx")
    assert found.path == path


def test_jekyll_categories_come_from_folders_then_front_matter_lower_cased():
    found = address(JEKYLL, "posts/Blog/_posts/2013-04-20-hello.md",
                    "---\ntitle: Hi\ncategories: News Releases\ncategory: Extra\n---\nx")
    assert found.path == "/blog/news/releases/extra/2013/04/20/hello.html"


def test_jekyll_title_keeps_case_and_url_marks_slug_does_not():
    config = SiteConfig(generator="jekyll", permalinks={"*": "/:title/:slug/"})
    found = address(config, "posts/_posts/2013-04-20-Don't Panic_now!.md", "---\ntitle: Hi\n---\nx")
    assert found.path == "/Don't-Panic_now!/don-t-panic-now/"


def test_jekyll_front_matter_slug_and_date_win_over_the_file_name():
    found = address(JEKYLL, "posts/_posts/2013-04-20-hello.md",
                    "---\ntitle: Hi\nslug: other-name\ndate: 2014-01-02 23:30:00 -0500\n---\nx")
    assert found.path == "/2014/01/02/other-name.html"  # the date in its own offset, as Jekyll formats it


def test_jekyll_naive_dates_are_in_the_site_time_zone():
    import zoneinfo

    found = address(JEKYLL, "posts/_posts/2013-04-20-hello.md", "---\ntitle: Hi\ndate: 2013-04-20 23:30\n---\nx",
                    zoneinfo.ZoneInfo("America/New_York"))
    assert found.path == "/2013/04/20/hello.html"


def test_jekyll_own_permalink_address_or_pattern():
    own = address(JEKYLL, "posts/_posts/2013-04-20-a.md", "---\ntitle: A\npermalink: /about/a-post/\n---\nx")
    assert own.path == "/about/a-post/"
    pattern = address(JEKYLL, "posts/_posts/2013-04-20-a.md", "---\ntitle: A\npermalink: /notes/:title/\n---\nx")
    assert pattern.path == "/notes/a/"


def test_jekyll_feed_id_is_jekyll_feeds_post_id():
    found = address(JEKYLL, "posts/_posts/2013-04-20-Hello-World.md", "---\ntitle: Hi\n---\nx")
    assert found.feed_id == "https://example.org/blog/2013/04/20/Hello-World"
    pretty = SiteConfig(generator="jekyll", base_url="https://example.org", permalinks={"*": "pretty"})
    assert address(pretty, "posts/_posts/2013-04-20-a.md", "---\ntitle: A\n---\nx").feed_id == \
        "https://example.org/2013/04/20/a"


def test_an_unknown_placeholder_is_an_error():
    config = SiteConfig(generator="jekyll", permalinks={"*": "/:year/:nonsense/"})
    with pytest.raises(PermalinkError, match="nonsense"):
        address(config, "posts/_posts/2013-04-20-a.md", "---\ntitle: A\n---\nx")


@pytest.mark.parametrize("rules, key, path", [
    ({}, "posts/posts/my-first-post.md", "/posts/my-first-post/"),
    ({}, "posts/posts/a-bundle/index.md", "/posts/a-bundle/"),
    ({}, "posts/about.md", "/about/"),
    ({"posts": "/:year/:month/:slug/"}, "posts/posts/x.md", "/2013/04/hello-world-c++/"),
    ({"posts": "/:year/:month/:title/"}, "posts/posts/x.md", "/2013/04/hello-world-c++/"),
    ({"posts": "/:section/:filename/"}, "posts/posts/x.md", "/posts/x/"),
    ({"posts": "/:contentbasename/"}, "posts/posts/b/index.md", "/b/"),
    ({"posts": "/:06/:01/:02/:slug"}, "posts/posts/x.md", "/13/04/20/hello-world-c++/"),
    ({"posts": "/:yearday/:weekdayname/:monthname/:slug"}, "posts/posts/x.md", "/110/saturday/april/hello-world-c++/"),
    ({"blog": "/:year/:slug/"}, "posts/posts/x.md", "/posts/x/"),  # another section's rule
])
def test_hugo_permalinks(rules, key, path):
    config = SiteConfig(generator="hugo", permalinks=rules)
    found = address(config, key, "---\ntitle: \"Hello, World: C++!\"\ndate: 2013-04-20\n---\nx")
    assert found.path == path


def test_hugo_slug_and_url_front_matter():
    config = SiteConfig(generator="hugo", permalinks={"posts": "/:year/:slug/"})
    assert address(config, "posts/posts/x.md", "---\ntitle: T\ndate: 2013-04-20\nSlug: My Slug\n---\nx").path == \
        "/2013/my-slug/"
    assert address(config, "posts/posts/x.md", "---\ntitle: T\ndate: 2013-04-20\nurl: /special/\n---\nx").path == \
        "/special/"


def test_hugo_ugly_urls_and_feed_id():
    config = SiteConfig(generator="hugo", base_url="https://example.org/sub/", settings={"ugly_urls": "true"})
    found = address(config, "posts/posts/x.md", "+++\ntitle = 'T'\ndate = 2013-04-20\n+++\nx")
    assert found.path == "/posts/x.html"
    assert found.feed_id == "https://example.org/sub/posts/x.html"


def test_hugo_urlize_matches_hugos_sanitizer():
    assert permalinks.hugo_urlize("Hello, World: C++ & more  -- now") == "hello-world-c++-more-now"
    assert permalinks.hugo_urlize("Überschrift über Ä") == "überschrift-über-ä"


@pytest.mark.parametrize("pattern, path", [
    (None, "/hello-world.html"),
    ("{date:%Y}/{date:%m}/{slug}.html", "/2013/04/hello-world.html"),
    ("{category}/{slug}/", "/Python Tips/hello-world/"),
    ("{category.slug}/{slug}-{lang}.html", "/python-tips/hello-world-en.html"),
])
def test_pelican_article_urls(pattern, path):
    config = SiteConfig(generator="pelican", permalinks={"*": pattern} if pattern else {})
    found = address(config, "posts/2013/x.md", "Title: Hello, World!\nDate: 2013-04-20\nCategory: Python Tips\n\nx")
    assert found.path == path


def test_pelican_slug_sources_and_folder_category():
    config = SiteConfig(generator="pelican", permalinks={"*": "{category}/{slug}.html"})
    assert address(config, "posts/notes/x.md", "Title: Don't Panic\nDate: 2013-04-20\n\nx").path == \
        "/notes/dont-panic.html"
    by_name = SiteConfig(generator="pelican", settings={"slug_source": "basename", "use_folder_as_category": "false"},
                         permalinks={"*": "{category}/{slug}.html"})
    assert address(by_name, "posts/notes/My File.md", "Title: T\nDate: 2013-04-20\n\nx").path == "/misc/my-file.html"
    assert address(config, "posts/x.md", "Title: T\nSlug: Own_Slug\nDate: 2013-04-20\n\nx").path == "/misc/Own_Slug.html"


def test_pelican_feed_id_is_a_tag_uri():
    found = address(PELICAN, "posts/x.md", "Title: Hello\nDate: 2013-04-20 23:00\n\nx")
    assert found.feed_id == "tag:example.org,2013-04-20:/hello.html/"


def test_pelican_patterns_may_not_reach_into_objects():
    for pattern in ("{date.__class__}", "{slug!r}", "{os}", "{category.name.__doc__}"):
        config = SiteConfig(generator="pelican", permalinks={"*": pattern})
        with pytest.raises(PermalinkError):
            address(config, "posts/x.md", "Title: T\nDate: 2013-04-20\n\nx")


def test_pelican_slugify_is_pelicans():
    assert permalinks.pelican_slugify("Héllo,  Wörld -- it's_here!") == "hello-world-its_here"


def test_no_base_url_means_no_feed_id():
    config = SiteConfig(generator="hugo")
    assert address(config, "posts/posts/x.md", "---\ntitle: T\ndate: 2013-04-20\n---\nx").feed_id == ""


def test_is_pattern():
    assert permalinks.is_pattern("/:year/:title/") and permalinks.is_pattern(":title")
    assert not permalinks.is_pattern("/2013/04/x.html") and not permalinks.is_pattern("https://x.org/a")
