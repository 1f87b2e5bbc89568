"""Front matter parsing, validation and slug rules: pure, no AWS."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import posts
from chalicelib.errors import MAX_PROBLEM_CHARS, MAX_PROBLEMS, InvalidPost, Problem

UTC = dt.timezone.utc
GENERATORS = Path(__file__).parent / "data" / "generators"
# Where each generator keeps its posts; below it, the path is the post's key below posts/.
POST_ROOTS = {"jekyll": ("_posts", "_drafts"), "hugo": ("content/posts",), "pelican": ("content",)}


def parse(text: str, key: str = "posts/hello.md", **options) -> posts.Post:
    return posts.parse_post(key, text.encode(), **options)


def problems(text: str | bytes, key: str = "posts/hello.md") -> list[tuple[int, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InvalidPost) as caught:
        posts.parse_post(key, data)
    return [(p.line, p.message) for p in caught.value.problems]


def key_of(path: Path) -> str:
    """The bucket key of a fixture file, as `blogctl publish` names it."""
    generator, rest = path.relative_to(GENERATORS).parts[0], path.relative_to(GENERATORS)
    for root in POST_ROOTS[generator]:
        below = Path(generator, root)
        if rest.is_relative_to(below):
            inner = rest.relative_to(below).as_posix()
            return f"posts/_drafts/{inner}" if root == "_drafts" else f"posts/{inner}"
    raise AssertionError(f"{path} is not under a posts folder")


def fixture(relative: str) -> posts.Post:
    path = GENERATORS / relative
    return posts.parse_post(key_of(path), path.read_bytes())


def fixture_files() -> list[Path]:
    return sorted(p for p in GENERATORS.rglob("*") if p.is_file())


# --- the basics ---------------------------------------------------------------------------------

def test_minimal_post_parses():
    post = parse("---\ntitle: Hello\ndate: 2013-04-20\n---\n\nBody text.\n")
    assert post.slug == "hello"
    assert post.title == "Hello"
    assert post.date == dt.datetime(2013, 4, 20, tzinfo=UTC)
    assert post.body == "Body text."
    assert post.status(dt.datetime(2020, 1, 1, tzinfo=UTC)) == "published"


def test_tags_as_list_or_comma_string_become_slugs_with_names_kept():
    listed = parse("---\ntitle: T\ndate: 2020-01-01\ntags: [Python, AWS Lambda, python]\n---\n")
    assert [(t.slug, t.name) for t in listed.tags] == [("python", "Python"), ("aws-lambda", "AWS Lambda")]
    comma = parse("---\ntitle: T\ndate: 2020-01-01\ntags: 'Python, AWS Lambda'\n---\n")
    assert [t.slug for t in comma.tags] == ["python", "aws-lambda"]


def test_toml_front_matter_works():
    post = parse('+++\ntitle = "Toml post"\ndate = 2020-01-01T10:00:00Z\ntags = ["a"]\n+++\nBody')
    assert post.title == "Toml post"
    assert post.date.hour == 10
    assert post.body == "Body"


def test_slug_comes_from_front_matter_then_file_name():
    assert parse("---\ntitle: T\ndate: 2020-01-01\nslug: My Custom Slug\n---\n").slug == "my-custom-slug"
    assert parse("---\ntitle: T\ndate: 2020-01-01\n---\n", key="posts/2020/Some_File.md").slug == "some-file"


def test_jekyll_file_name_gives_slug_and_date():
    post = parse("---\ntitle: T\n---\n", key="posts/2013-04-20-global-prayer.md")
    assert post.slug == "global-prayer"
    assert post.date == dt.datetime(2013, 4, 20, tzinfo=UTC)


def test_bom_and_crlf_are_fine():
    post = posts.parse_post("posts/x.md", b"\xef\xbb\xbf---\r\ntitle: T\r\ndate: 2020-01-01\r\n---\r\n\r\nLine one\r\nLine two\r\n")
    assert post.title == "T"
    assert post.body == "Line one\nLine two"


def test_draft_and_future_posts_have_their_status():
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert parse("---\ntitle: T\ndate: 2020-01-01\ndraft: true\n---\n").status(now) == "draft"
    assert parse("---\ntitle: T\ndate: 2099-01-01\n---\n").status(now) == "scheduled"


def test_unknown_keys_are_kept_as_json_safe_values():
    post = parse("---\ntitle: T\ndate: 2020-01-01\nweight: 1.5\nseries: {name: x, since: 2020-01-01}\n---\n")
    assert post.extra == {"weight": "1.5", "series": {"name": "x", "since": "2020-01-01"}}


def test_missing_title_is_reported_on_the_front_matter():
    assert problems("---\ndate: 2020-01-01\n---\nbody") == [(1, "'title': missing; every post needs a title")]


def test_bad_date_is_reported_with_its_line():
    found = problems("---\ntitle: T\ndate: someday\n---\n")
    assert found[0][0] == 3
    assert "is not a date" in found[0][1]


def test_several_problems_are_reported_together():
    found = problems("---\ntitle: ''\ndate: nope\ndraft: maybe\n---\n")
    assert [line for line, _ in found] == [2, 3, 4]


@pytest.mark.parametrize("data, expected", [
    (b"", "file is empty"),
    (b"\xef\xbb\xbf\n \n\x00", "file is empty"),
    (b"just text, no front matter", "no front matter"),
    (b"Note: Markdown without metadata\n\nText", "no front matter"),
    (b"---\ntitle: T\n", "front matter is not closed"),
    (b"---\n- a\n- b\n---\n", "front matter must be a mapping"),
    (b"---\ntitle: caf\xe9\ndate: 2020-01-01\n---\n", "not UTF-8 text"),
    (b'{\n"title": "T",\n', "JSON object that is not closed"),
])
def test_unusable_files_are_explained(data, expected):
    assert expected in problems(data)[0][1]


def test_size_limit_is_enforced_by_name():
    data = b"---\ntitle: T\ndate: 2020-01-01\n---\n" + b"x" * posts.MAX_SOURCE_BYTES
    assert "MAX_SOURCE_BYTES" in problems(data)[0][1]


def test_slugify_folds_accents_and_punctuation():
    assert posts.slugify("Héllo, World! 2013") == "hello-world-2013"
    assert posts.slugify("!!!") == ""


def test_scaffold_parses_back_as_a_draft():
    text = posts.scaffold("New: post", dt.datetime(2026, 1, 1, tzinfo=UTC), ["x"])
    post = posts.parse_post("posts/new-post.md", text.encode())
    assert post.title == "New: post"
    assert post.draft is True
    assert [t.slug for t in post.tags] == ["x"]


def test_yaml_aliases_reuse_a_value_as_jekyll_reads_them():
    text = "---\ntitle: T\ndate: 2020-01-01\nimage:\n  path: &cover /img/kiln.jpg\n  thumbnail: *cover\n---\n"
    assert posts.split_front_matter(text)[0]["image"] == {"path": "/img/kiln.jpg", "thumbnail": "/img/kiln.jpg"}


def test_yaml_aliases_are_refused_before_they_can_expand():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]  # 10**9 values
    bomb = "---\ntitle: T\ndate: 2020-01-01\n" + "\n".join(levels) + "\n---\n"
    assert f"more than {posts.MAX_FRONT_MATTER_NODES:,} values" in problems(bomb)[0][1]
    within_it = "---\ntitle: T\ndate: 2020-01-01\n" + "\n".join(levels[:4]) + "\n---\n"  # 12,349 values
    assert posts.parse_post("posts/t.md", within_it.encode()).title == "T"


def test_a_yaml_alias_inside_its_own_value_is_refused():
    assert "refers to the value it is in" in problems("---\ntitle: T\ndate: 2020-01-01\nx: &x [1, *x]\n---\n")[0][1]


def test_deeply_nested_front_matter_is_refused():
    assert "nested too deeply" in problems("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n")[0][1]


# --- source keys -----------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", posts.SOURCE_SUFFIXES)
def test_every_markdown_extension_is_a_post(suffix):
    assert posts.is_post_key(f"posts/2013-05-06-name{suffix}")
    assert posts.slug_from_key(f"posts/2013-05-06-name{suffix}") == "name"
    assert posts.slug_from_key(f"posts/my-trip/index{suffix}") == "my-trip"
    assert posts.slug_from_key(f"posts/2013/05/06/Name{suffix.upper()}") == "name"


@pytest.mark.parametrize("key, reason", [
    ("posts/notes.txt", "'.txt' files are not posts"),
    ("posts/notes.html", "'.html' files are not posts"),
    ("posts/README", "a file without an extension is not a post"),
    ("posts/.md", "hidden file"),
    ("posts/.draft.md", "hidden file"),
    ("posts/blog/_index.md", "Hugo section page"),
    ("posts/", "a folder"),
    ("assets/a/b.png", "only files under posts/"),
])
def test_keys_that_are_not_posts_say_why(key, reason):
    assert not posts.is_post_key(key)
    assert reason in posts.post_key_problem(key)


def test_jekyll_names_may_have_one_digit_months_and_days():
    post = parse("---\ntitle: T\n---\n", key="posts/2014-1-2-same-name.mkd")
    assert (post.slug, post.date) == ("same-name", dt.datetime(2014, 1, 2, tzinfo=UTC))


def test_a_jekyll_post_without_a_title_is_titled_after_its_file_name():
    assert parse("---\nlayout: post\n---\n", key="posts/2013-05-07-draft-idea.md").title == "Draft Idea"


def test_a_post_in_a_drafts_folder_is_a_draft():
    post = parse("---\ntitle: T\ndate: 2020-01-01\n---\n", key="posts/_drafts/t.md")
    assert post.status(dt.datetime(2030, 1, 1, tzinfo=UTC)) == "draft"


# --- where the metadata is ------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["\n\n", "  \n\t\n", "\ufeff\n", "\ufeff  \n  "])
def test_blank_lines_bom_and_indentation_before_the_fence_are_fine(prefix):
    for text in (f"{prefix}---\ntitle: T\ndate: 2020-01-01\n---\nBody",
                 f'{prefix}+++\ntitle = "T"\ndate = 2020-01-01\n+++\nBody'):
        post = parse(text)
        assert (post.title, post.body) == ("T", "Body")


def test_json_front_matter_ends_at_its_closing_brace():
    post = parse('{\n  "title": "J {x}",\n  "date": "2020-01-02",\n  "tags": ["a"]\n}\n\nBody {not json}')
    assert (post.title, post.date.day, post.body) == ("J {x}", 2, "Body {not json}")


def test_pelican_header_ends_at_the_first_blank_line():
    post = parse("Title: P: a title\nDate: 2012-10-22 14:05\nTags: a b, c\nSummary: one\n    two\n\n"
                 "Body\nKey: not metadata")
    assert post.title == "P: a title"
    assert [t.name for t in post.tags] == ["a b", "c"]
    assert post.summary == "one two"
    assert post.body == "Body\nKey: not metadata"


def test_the_body_of_a_stored_source_is_the_body_parse_post_gives():
    for path in fixture_files():
        if posts.is_post_key(key_of(path)):
            assert posts.body_of(path.read_bytes()) == fixture(str(path.relative_to(GENERATORS))).body
    assert posts.body_of(b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\n\r\nBody\r\n") == "Body"


def test_keys_are_read_without_regard_to_case():
    post = parse("---\nTitle: T\nDATE: 2020-01-01\nPublishDate: 2021-01-01\nTags: [a]\ntags: [b]\n---\n")
    assert post.title == "T"
    assert post.publish_at == dt.datetime(2021, 1, 1, tzinfo=UTC)
    assert [t.slug for t in post.tags] == ["a", "b"]


def test_hugo_params_are_read_after_the_top_level_keys():
    post = parse("---\ntitle: T\ndate: 2020-01-01\nparams:\n  author: {name: Ana, avatar: a.jpg}\n"
                 "  cover: c.jpg\n  showCover: true\n---\n")
    assert post.authors == ("Ana",)
    assert post.images == ("c.jpg",)
    assert post.extra == {"params": {"showCover": True}}


# --- the generators' files, as they are --------------------------------------------------------------

def test_jekyll_post_with_every_key():
    post = fixture("jekyll/_posts/2013-05-06-release-notes.markdown")
    assert post.source_key == "posts/2013-05-06-release-notes.markdown"
    assert post.slug == "release-notes"
    assert post.title == "Release notes: version 2.0"
    assert post.date == dt.datetime(2013, 5, 6, 2, 12, 52, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert posts.offset_of(post.date) == "+02:00"
    assert [t.name for t in post.tags] == ["news", "releases"]  # categories first, as written; 'Releases' merged
    assert post.authors == ("Ana Lima",) and post.author == "Ana Lima"
    assert post.summary == "Version 2.0 is out, with faster builds & fewer surprises."
    assert post.teaser == "Version 2.0 is here."
    assert post.updated == dt.datetime(2013, 6, 1, 7, tzinfo=UTC)
    assert post.aliases == ("/news/2013/05/06/release-2", "/blog/release-notes")
    assert post.images == ("/assets/release-notes/banner.png",)
    assert post.extra == {"layout": "post", "comments": True}
    assert post.warnings == ()


def test_jekyll_unpublished_post_is_a_draft_dated_and_titled_by_its_name():
    post = fixture("jekyll/_posts/2013-05-07-draft-idea.md")
    assert post.draft and post.status(dt.datetime(2030, 1, 1, tzinfo=UTC)) == "draft"
    assert (post.title, post.date) == ("Draft Idea", dt.datetime(2013, 5, 7, tzinfo=UTC))


def test_jekyll_drafts_folder_keeps_posts_private():
    assert fixture("jekyll/_drafts/unfinished-thoughts.md").source_key == "posts/_drafts/unfinished-thoughts.md"
    assert fixture("jekyll/_drafts/unfinished-thoughts.md").draft


def test_same_name_posts_of_different_years_offer_dated_slugs():
    first = fixture("jekyll/_posts/2014-1-2-same-name.mkd")
    second = fixture("jekyll/_posts/2015-03-04-same-name.mdown")
    assert first.slug == second.slug == "same-name"
    assert first.fallback_slugs() == ("same-name-2014", "same-name-2014-01-02")
    assert second.fallback_slugs() == ("same-name-2015", "same-name-2015-03-04")
    assert [t.name for t in first.tags] == ["travel", "notes"]  # Jekyll splits a categories string on spaces


def test_fallback_slugs_exist_only_for_slugs_from_file_names_and_stay_short():
    named = parse("---\ntitle: T\ndate: 2020-01-01\nslug: chosen\n---\n")
    assert (named.slug_from_name, named.fallback_slugs()) == (False, ())
    long = parse("---\ntitle: T\ndate: 2020-01-01\n---\n", key=f"posts/{'a' * 200}.md")
    assert all(posts.is_slug(s) for s in long.fallback_slugs())


def test_jekyll_permalink_category_and_feature_image():
    post = fixture("jekyll/_posts/2016-07-08-old-address.mkdn")
    assert post.aliases == ("/blog/2016/old-address",)
    assert [t.name for t in post.tags] == ["Life Events"]  # the singular key is one category
    assert post.images == ("/assets/house.jpg",)


def test_hugo_bundle_with_toml_and_every_date():
    post = fixture("hugo/content/posts/trip-to-lisbon/index.md")
    assert (post.slug, post.title) == ("trip-to-lisbon", "A weekend in Lisbon")
    assert post.date == dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert post.publish_at == dt.datetime(2099, 1, 1, 8, tzinfo=UTC)
    assert post.expires_at == dt.datetime(2100, 1, 1, tzinfo=UTC)
    assert post.updated == dt.datetime(2024, 3, 5, tzinfo=UTC)
    assert post.authors == ("Ana Lima", "Bruno Costa")
    assert [t.slug for t in post.tags] == ["travel", "portugal", "trips"]
    assert post.aliases == ("/2024/03/lisbon", "/posts/lisbon-weekend", "/trips/lisboa weekend")
    assert post.images == ("cover.jpg",)
    assert post.summary == "Trams, tiles and custard tarts."
    assert post.teaser == "We took tram 28."
    assert post.status(dt.datetime(2030, 1, 1, tzinfo=UTC)) == "scheduled"
    assert post.status(dt.datetime(2099, 6, 1, tzinfo=UTC)) == "published"
    assert post.status(dt.datetime(2100, 1, 1, tzinfo=UTC)) == "expired"


def test_hugo_bundle_with_yaml_after_a_bom_and_blank_lines():
    post = fixture("hugo/content/posts/yaml-bundle/index.markdown")
    assert post.slug == "yaml-bundle"
    assert posts.offset_of(post.date) == "-04:00"
    assert post.publish_at is None  # its publishdate is before its date
    assert post.expires_at == dt.datetime(2022, 1, 1, tzinfo=UTC)
    assert post.images == ("social.png", "extra.png", "hero.jpg")
    assert post.authors == ("Carla Dias",)
    assert post.extra == {"params": {"showCover": True}, "series": ["hugo-tips"]}


def test_hugo_section_page_is_not_a_post():
    assert "section page" in posts.post_key_problem(key_of(GENERATORS / "hugo/content/posts/_index.md"))


def test_hugo_json_front_matter_and_zero_date():
    post = fixture("hugo/content/posts/json-front-matter.md")
    assert (post.title, [t.slug for t in post.tags]) == ("Written as JSON", ["json", "hugo"])
    assert post.expires_at is None  # 0001-01-01 is Hugo's "no date"


def test_pelican_header_with_every_key():
    post = fixture("pelican/content/pelican-header.md")
    assert (post.slug, post.slug_from_name) == ("pelican-headers", False)
    assert post.title == "A Pelican article: headers"
    assert post.date == dt.datetime(2012, 10, 22, 14, 5, tzinfo=UTC)
    assert post.updated == dt.datetime(2012, 11, 2, 9, tzinfo=UTC)
    assert [t.name for t in post.tags] == ["Python", "pelican", "static sites", "markdown"]
    assert post.authors == ("Ana Lima", "Bruno Costa")
    assert post.summary == "Metadata as Key: value lines, up to the first blank line."
    assert post.extra == {"lang": "en"}
    assert not post.draft
    assert post.body.endswith("Title: this line is body text, not metadata.")


@pytest.mark.parametrize("name", ["hidden-note.md", "draft-note.md"])
def test_pelican_hidden_and_draft_posts_stay_private(name):
    assert fixture(f"pelican/content/{name}").status(dt.datetime(2030, 1, 1, tzinfo=UTC)) == "draft"


def test_every_fixture_is_a_post_or_says_why_not():
    for path in fixture_files():
        reason = posts.post_key_problem(key_of(path))
        if reason is None:
            fixture(str(path.relative_to(GENERATORS)))
        else:
            assert path.name == "_index.md"


# --- keys -------------------------------------------------------------------------------------------

def test_published_false_and_draft_statuses_hide_a_post():
    now = dt.datetime(2030, 1, 1, tzinfo=UTC)
    for line in ("published: false", "status: draft", "status: Hidden", "status: private",
                 "build: {render: never}", "_build: {render: false}", "draft: yes"):
        assert parse(f"---\ntitle: T\ndate: 2020-01-01\n{line}\n---\n").status(now) == "draft", line
    for line in ("published: true", "status: published", "status: ongoing", "draft: false"):
        assert parse(f"---\ntitle: T\ndate: 2020-01-01\n{line}\n---\n").status(now) == "published", line
    assert parse("---\ntitle: T\ndate: 2020-01-01\nstatus: ongoing\n---\n").extra == {"status": "ongoing"}
    for status in ("skip", "ongoing"):  # Pelican skips a file whose status it does not know
        assert parse(f"Title: T\nDate: 2020-01-01\nStatus: {status}\n\nBody").status(now) == "draft"


def test_hugo_published_date_is_publish_date_not_a_switch():
    post = parse("---\ntitle: T\ndate: 2020-01-01\npublished: 2021-02-03\n---\n")
    assert post.publish_at == dt.datetime(2021, 2, 3, tzinfo=UTC) and not post.draft


def test_publish_date_stands_in_for_a_missing_date():
    post = parse("---\ntitle: T\npublishDate: 2021-02-03\n---\n")
    assert (post.date, post.publish_at) == (dt.datetime(2021, 2, 3, tzinfo=UTC), None)


@pytest.mark.parametrize("value, expected", [
    ("Ana", ("Ana",)),
    ("[Ana, Bruno, Ana]", ("Ana", "Bruno")),
    ("{name: Ana, twitter: ana}", ("Ana",)),
    ("[{name: Ana}, Bruno]", ("Ana", "Bruno")),
])
def test_authors_as_text_list_or_mapping(value, expected):
    assert parse(f"---\ntitle: T\ndate: 2020-01-01\nauthor: {value}\n---\n").authors == expected


def test_author_and_authors_are_merged_and_bounded():
    post = parse("---\ntitle: T\ndate: 2020-01-01\nauthors: [Ana, Bruno]\nauthor: Carla\n---\n")
    assert post.author == "Ana, Bruno, Carla"
    long = parse(f"---\ntitle: T\ndate: 2020-01-01\nauthor: {'x' * 2000}\n---\n")
    assert len(long.author) == posts.MAX_AUTHOR_CHARS
    assert "MAX_AUTHOR_CHARS" in long.warnings[0]


@pytest.mark.parametrize("lines, expected", [
    ("images: [a.jpg, b.jpg]", ("a.jpg", "b.jpg")),
    ("image: a.jpg", ("a.jpg",)),
    ("cover: {image: c.jpg, alt: x}", ("c.jpg",)),
    ("cover: c.jpg", ("c.jpg",)),
    ("image: {path: p.jpg, height: 10}", ("p.jpg",)),
    ("featured_image: f.jpg\nimage: i.jpg", ("i.jpg", "f.jpg")),
    ("feature_image: f.jpg", ("f.jpg",)),
    ("image: false", ()),
])
def test_images_in_every_form(lines, expected):
    assert parse(f"---\ntitle: T\ndate: 2020-01-01\n{lines}\n---\n").images == expected


def test_summary_comes_from_summary_excerpt_or_description_as_plain_bounded_text():
    assert parse("---\ntitle: T\ndate: 2020-01-01\ndescription: D\nexcerpt: E\n---\n").summary == "E"
    post = parse("---\ntitle: T\ndate: 2020-01-01\nsummary: '<p>A &amp; <b>B</b></p>'\n---\n")
    assert post.summary == "A & B"
    commented = parse("---\ntitle: T\ndate: 2020-01-01\nsummary: 'a <!-- hidden --> b <!-- unclosed'\n---\n")
    assert commented.summary == "a b"
    long = parse(f"---\ntitle: T\ndate: 2020-01-01\nsummary: {'word ' * 400}\n---\n")
    assert len(long.summary) <= posts.MAX_SUMMARY_CHARS and long.summary.endswith("…")
    assert "MAX_SUMMARY_CHARS" in long.warnings[0]


def test_teaser_is_the_markdown_before_the_more_marker():
    assert parse("---\ntitle: T\ndate: 2020-01-01\n---\nIntro *here*.\n<!-- more -->\nRest").teaser == "Intro *here*."
    assert parse("---\ntitle: T\ndate: 2020-01-01\n---\nNo marker").teaser is None
    custom = parse("---\ntitle: T\ndate: 2020-01-01\nexcerpt_separator: <!--cut-->\n---\nA<!--cut-->B")
    assert custom.teaser == "A"


def test_tags_and_categories_merge_and_the_limit_keeps_the_first():
    post = parse("---\ntitle: T\ndate: 2020-01-01\ncategories: [Misc, news]\ntags: [misc, python]\n---\n")
    assert [t.name for t in post.tags] == ["Misc", "news", "python"]
    many = ", ".join(f"t{i}" for i in range(posts.MAX_TAGS + 3))
    capped = parse(f"---\ntitle: T\ndate: 2020-01-01\ntags: '{many}'\n---\n")
    assert [t.slug for t in capped.tags] == [f"t{i}" for i in range(posts.MAX_TAGS)]
    assert "MAX_TAGS" in capped.warnings[0] and "'t16'" in capped.warnings[0]


@pytest.mark.parametrize("lines, expected", [
    ("aliases: ['/posts/old-name/', '/2019/older.html']", ("/posts/old-name", "/2019/older")),
    ("aliases: [old-slug, ../Elsewhere/x]", ("/posts/old-slug", "/elsewhere/x")),
    ("redirect_from: [/a/b/, c.html]", ("/a/b", "/c")),
    ("redirect_from: https://old.example.com/2013/x.html?ref=1", ("/2013/x",)),
    ("url: /2013/05/06/x/", ("/2013/05/06/x",)),
    ("url: https://example.com/elsewhere", ()),
    ("permalink: /:categories/:title/", ()),
    ("aliases: ['/posts/hello', '/', '/p/%ff']", ()),
])
def test_old_urls_become_normalized_aliases(lines, expected):
    assert parse(f"---\ntitle: T\ndate: 2020-01-01\n{lines}\n---\n").aliases == expected


def test_aliases_are_bounded_with_a_warning():
    many = ", ".join(f"/old/{i}" for i in range(posts.MAX_ALIASES + 2))
    post = parse(f"---\ntitle: T\ndate: 2020-01-01\nredirect_from: [{many}]\n---\n")
    assert len(post.aliases) == posts.MAX_ALIASES
    assert "MAX_ALIASES" in post.warnings[0]


# --- dates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2013-05-06 02:12:52 +0200", "2013-05-06T02:12:52+02:00"),
    ("2013-05-06T02:12:52+02:00", "2013-05-06T02:12:52+02:00"),
    ("2013-05-06 02:12:52 -07:00", "2013-05-06T02:12:52-07:00"),
    ("2020-1-2", "2020-01-02T00:00:00+00:00"),
    ("2020-1-2 3:04", "2020-01-02T03:04:00+00:00"),
    ("2013-05-06T02:12:52", "2013-05-06T02:12:52+00:00"),
    ("2013-05-06T02:12", "2013-05-06T02:12:00+00:00"),
    ("2013-05-06T02:12:52Z", "2013-05-06T02:12:52+00:00"),
    ("2005-02-22 11:20:46.000000000 +00:00", "2005-02-22T11:20:46+00:00"),
    ("2013/05/06 10:00", "2013-05-06T10:00:00+00:00"),
    ("2006-01-02 15:04:05.5 -0700 MST", "2006-01-02T15:04:05.500000-07:00"),
    ("2013-05-06 10:00 PM", "2013-05-06T22:00:00+00:00"),
    ("2013-05-06 10:00 PST", "2013-05-06T10:00:00-08:00"),
    ("May 6, 2013", "2013-05-06T00:00:00+00:00"),
    ("June 3rd, 2014 9:15", "2014-06-03T09:15:00+00:00"),
    ("02 Jan 2006", "2006-01-02T00:00:00+00:00"),
    ("Mon, 06 May 2013 02:12:52 +0200", "2013-05-06T02:12:52+02:00"),
    ("Mon Jan  2 15:04:05 MST 2006", "2006-01-02T15:04:05-07:00"),
])
def test_dates_in_the_forms_jekyll_and_hugo_accept_keep_their_offset(text, expected):
    assert posts.parse_date(text).isoformat() == expected
    assert parse(f"---\ntitle: T\ndate: {text}\n---\n").date.isoformat() == expected


def test_dates_without_an_offset_are_in_the_site_zone():
    zone = dt.timezone(dt.timedelta(hours=-5))
    post = parse("---\ntitle: T\ndate: 2013-05-06 23:30\nupdated: 2013-05-07\n---\n", zone=zone)
    assert post.date.isoformat() == "2013-05-06T23:30:00-05:00"
    assert posts.format_utc(post.date) == "2013-05-07T04:30:00Z"
    assert post.updated.isoformat() == "2013-05-07T00:00:00-05:00"
    named = parse("---\ntitle: T\n---\n", key="posts/2013-05-06-x.md", zone=zone)
    assert named.date.isoformat() == "2013-05-06T00:00:00-05:00"


def test_hugo_zero_date_means_no_date():
    from_name = parse("---\ntitle: T\ndate: 0001-01-01T00:00:00Z\n---\n", key="posts/2013-04-20-x.md")
    assert from_name.date == dt.datetime(2013, 4, 20, tzinfo=UTC)
    assert "'date': missing" in problems("---\ntitle: T\ndate: 0001-01-01\n---\n")[0][1]
    assert parse("---\ntitle: T\ndate: 2020-01-01\nlastmod: 0001-01-01\n---\n").updated is None


@pytest.mark.parametrize("value, words", [
    ("0213-04-20", "MIN_YEAR..MAX_YEAR"),
    ("2201-01-01", "MIN_YEAR..MAX_YEAR"),
    ("9999-12-31T23:59:59-23:59", "MIN_YEAR..MAX_YEAR"),
    ("2013-05-06T10:00:00+19:00", "beyond ±18:00"),
    ("2013-13-45", "is not a date"),
    ("'2013-05-06 00:10::00'", "is not a date"),
])
def test_impossible_dates_are_editor_errors(value, words):
    found = problems(f"---\ntitle: T\ndate: {value}\n---\n")
    assert found[0][0] == 3 and words in found[0][1]


def test_toml_dates_out_of_range_are_errors_not_crashes():
    assert "beyond ±18:00" in problems('+++\ntitle = "T"\ndate = 2013-05-06T10:00:00+23:59\n+++\n')[0][1]
    assert "MIN_YEAR" in problems('+++\ntitle = "T"\ndate = 9999-12-31T23:59:59-23:59\n+++\n')[0][1]


def test_a_huge_pasted_date_gives_a_short_message():
    found = problems(f"---\ntitle: T\ndate: '{'2013-' * 12_000}'\n---\n")
    assert len(found[0][1]) < 200 and "is not a date" in found[0][1]


def test_utc_form_is_fixed_width_and_offset_is_kept_apart():
    moment = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert posts.format_utc(moment) == "1901-02-02T22:35:06Z"
    assert posts.offset_of(moment) == "+05:30"
    assert posts.offset_of(dt.datetime(2020, 1, 1, tzinfo=dt.timezone(-dt.timedelta(hours=7)))) == "-07:00"
    assert posts.format_utc(dt.datetime(2020, 1, 1)) == "2020-01-01T00:00:00Z"


# --- old URL paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, expected", [
    ("/2013/04/20/x.html", "/2013/04/20/x"),
    ("/posts/old-name/", "/posts/old-name"),
    ("/blog/index.html", "/blog"),
    ("/blog/INDEX.HTM", "/blog"),
    ("https://old.example.com/2013/x.html", "/2013/x"),
    ("//a//b/", "/a/b"),
    ("/a//b/./c/../d?x=1#top", "/a/b/d"),
    ("/../../etc", "/etc"),
    ("/Caf%C3%A9/", "/café"),
    ("/Cafe\u0301", "/café"),
    ("a\\b", "/a/b"),
    ("/", "/"),
])
def test_normalize_path_gives_one_form(path, expected):
    assert posts.normalize_path(path) == expected
    assert posts.normalize_path(expected) == expected


@pytest.mark.parametrize("path, words", [
    ("/a%00b", "control characters"),
    ("https://[::1/x", "not a URL"),
    ("/a\nb", "control characters"),
    ("/%ff", "not UTF-8"),
    ("/" + "a" * (posts.MAX_URL_CHARS + 1), "MAX_URL_CHARS"),
    ("/" + "é" * 600, "MAX_PATH_BYTES"),
])
def test_normalize_path_rejects_what_is_no_path(path, words):
    with pytest.raises(ValueError, match=words):
        posts.normalize_path(path)


# --- YAML mistakes, on their line --------------------------------------------------------------------

@pytest.mark.parametrize("front, line, words", [
    ('title: "Unclosed\ndate: 2020-01-01\ntags: [a]\nsummary: x', 2, "a quote is not closed"),
    ("title: T\ndate: 2020-01-01\ntags: [a, b\nsummary: x", 4, "'[' is not closed"),
    ("title: Foo: Bar\ndate: 2020-01-01", 2, "put the value in quotes"),
    ("title: T\n\tdate: 2020-01-01", 3, "indent with spaces"),
    ("title: *Important*\ndate: 2020-01-01", 2, "starts with '*'"),
    ("title: T\ndate 2020-01-01\nx: y", 3, "could not find expected ':'"),
])
def test_yaml_errors_point_at_the_line_of_the_mistake(front, line, words):
    found = problems(f"---\n{front}\n---\nbody")
    assert found[0][0] == line
    assert found[0][1].startswith("front matter is not valid YAML") and words in found[0][1]


def test_yaml_error_lines_count_the_blank_lines_before_the_fence():
    assert problems('\n\n---\ntitle: "Unclosed\ndate: 2020-01-01\n---\n')[0][0] == 4


# --- hostile values ------------------------------------------------------------------------------------

def test_huge_integers_in_unknown_keys_are_kept_as_text():
    post = parse(f"---\ntitle: T\ndate: 2020-01-01\nbig: 0x{'f' * 100}\nsmall: 12\n---\n")
    assert post.extra["big"] == str(int("f" * 100, 16))
    assert post.extra["small"] == 12
    json.dumps(post.extra)


def test_integers_too_long_to_convert_are_errors():
    assert "not valid YAML" in problems(f"---\ntitle: T\ndate: 2020-01-01\nn: {'9' * 5000}\n---\n")[0][1]
    assert "not valid TOML" in problems(f'+++\ntitle = "T"\nn = {"9" * 5000}\n+++\n')[0][1]
    assert "not valid JSON" in problems('{"title": "T", "n": ' + "9" * 5000 + "}")[0][1]


def test_lone_surrogates_and_control_characters_never_pass():
    text = ('---\ntitle: "A\\ud800B\\x0bC\\x1b[31m"\ndate: 2020-01-01\ntags: ["x\\x00y"]\n'
            'summary: "s\\uffffs"\nnote: "n\\udfffn"\n---\nBody\x0b\x07 end')
    post = parse(text)
    assert post.title == "A\ufffdB C[31m"
    assert [t.name for t in post.tags] == ["xy"]
    assert post.summary == "ss"
    assert post.extra == {"note": "n\ufffdn"}
    assert post.body == "Body  end"


def test_problem_messages_quote_bad_values_shortly():
    found = problems(f"---\ntitle: T\ndate: 2020-01-01\ndraft: '{'x' * 5000}'\n---\n")
    assert found[0][1].startswith("'draft': 'xxx") and len(found[0][1]) < 100
    assert len(str(Problem("y" * 10_000))) == MAX_PROBLEM_CHARS
    assert "\\x1b" in Problem("escape \x1b[2J here").message
    many = InvalidPost([Problem(f"p{i}") for i in range(100)])
    assert len(many.problems) == MAX_PROBLEMS and "more problem" in many.problems[-1].message


def test_unknown_keys_are_bounded():
    nested = "[" * (posts.MAX_EXTRA_DEPTH + 3) + "]" * (posts.MAX_EXTRA_DEPTH + 3)
    post = parse(f"---\ntitle: T\ndate: 2020-01-01\ndeep: {nested}\nbig: '{'x' * 40_000}'\nok: 1\n---\n")
    assert post.extra == {"ok": 1}
    assert any("MAX_EXTRA_DEPTH" in w for w in post.warnings)
    assert any("MAX_EXTRA_BYTES" in w for w in post.warnings)


# Front matter values of every kind YAML, TOML and JSON can produce, hostile ones included.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 38, max_value=10 ** 200),
    st.floats(allow_nan=True), st.text(max_size=30), st.dates(), st.datetimes(),
    st.datetimes(timezones=st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59),
                                                                max_value=dt.timedelta(hours=23, minutes=59)))),
    st.sampled_from(["0001-01-01", "2013-05-06 02:12:52 +0200", "9999-12-31T23:59:59-23:59",
                     "\ud800", "\x00\x0b\ufffe", "/old/%ff", "../../x", "true", "draft", "<!--more-->"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
known_keys = st.sampled_from(sorted({name for names in posts.KEYS.values() for name in names} | {"params", "Title"}))
# Half of them start from a valid post, so that the hostile values reach every field.
front_matter = st.builds(lambda base, more: {**base, **more},
                         st.sampled_from([{}, {"title": "T", "date": "2020-01-01"}]),
                         st.dictionaries(known_keys | st.text(max_size=12), values, max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter, st.text(max_size=50), st.sampled_from(["posts/x.md", "posts/2013-05-06-x.markdown",
                                                            "posts/_drafts/b/index.mkd", "posts/!!!.md"]))
def test_any_front_matter_gives_a_post_or_invalid_post(meta, body, key):
    for build in (lambda: posts.build_post(key, meta, body),
                  lambda: posts.parse_post(key, yaml_source(meta, body)),
                  lambda: posts.parse_post(key, json_source(meta, body))):
        try:
            post = build()
        except InvalidPost as err:
            assert all(len(p.message) <= MAX_PROBLEM_CHARS for p in err.problems)
            continue
        check_post_is_safe(post)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([b"---\n", b"+++\n", b"{", b"\n\xef\xbb\xbf ---\n", b"Title: x\n"]),
              st.binary(max_size=300), st.sampled_from([b"\n---\n", b"\n+++\n", b"}\n", b"\n\n", b""]),
              st.binary(max_size=50)).map(b"".join),
))
def test_any_bytes_give_a_post_or_invalid_post(data):
    try:
        post = posts.parse_post("posts/x.md", data)
    except InvalidPost:
        return
    check_post_is_safe(post)


YAML_ALPHABET = ":-[]{}'\"#&*!|>%@`, \n\tabtdeilsgT0123+Z.\\u\x0b=<>/é"
FIELD_LINES = st.sampled_from(["title: ", "date: ", "tags: ", "aliases: ", "author: ", "image: ", "summary: ",
                               "slug: ", "draft: ", "publishDate: ", "x: ", "params:\n  ", "cover:\n  image: "])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["---\n", "+++\n", "\n\n---\n", ""]),
       st.lists(st.tuples(FIELD_LINES, st.text(alphabet=YAML_ALPHABET, max_size=30)), max_size=8),
       st.sampled_from(["---\n", "+++\n", "\n"]), st.text(alphabet=YAML_ALPHABET, max_size=40))
def test_any_front_matter_text_gives_a_post_or_invalid_post(opening, fields, closing, body):
    text = opening + "".join(key + value + "\n" for key, value in fields) + closing + body
    try:
        post = posts.parse_post("posts/2013-05-06-x.md", text.encode())
    except InvalidPost:
        return
    check_post_is_safe(post)


def yaml_source(meta: dict, body: str) -> bytes:
    try:
        front = yaml.safe_dump(meta, allow_unicode=False)
    except (yaml.YAMLError, ValueError):
        front = "{}\n"
    return f"---\n{front}---\n{body}".encode("utf-8", errors="surrogatepass")


def json_source(meta: dict, body: str) -> bytes:
    return (json.dumps(meta, default=str) + "\n" + body).encode("utf-8", errors="surrogatepass")


UNSAFE = {chr(c) for c in range(0x20) if chr(c) not in "\t\n"} | {"\ufffe", "\uffff"}


def check_post_is_safe(post: posts.Post) -> None:
    """What ingest and every page rely on, whatever the input."""
    texts = [post.title, post.summary, post.body, post.teaser or "", *post.authors, *post.images,
             *post.aliases, *(t.name for t in post.tags), *post.warnings,
             json.dumps(post.extra, ensure_ascii=False)]
    for text in texts:
        assert not UNSAFE & set(text)
        text.encode("utf-8")  # no lone surrogates
    assert posts.is_slug(post.slug) and all(posts.is_slug(t.slug) for t in post.tags)
    assert all(posts.is_slug(s) for s in post.fallback_slugs())
    assert len(post.title) <= posts.MAX_TITLE_CHARS and len(post.summary) <= posts.MAX_SUMMARY_CHARS
    assert len(post.tags) <= posts.MAX_TAGS and len(post.aliases) <= posts.MAX_ALIASES
    assert len(post.author) <= posts.MAX_AUTHOR_CHARS
    assert all(a == posts.normalize_path(a) and a != "/" for a in post.aliases)
    for moment in (post.date, post.updated, post.publish_at, post.expires_at):
        if moment is not None:
            assert len(posts.format_utc(moment)) == 20 and posts.offset_of(moment)
    assert posts.MIN_YEAR <= post.date.year <= posts.MAX_YEAR
    assert len(json.dumps(post.extra).encode()) <= posts.MAX_EXTRA_BYTES * 6
    assert post.status(dt.datetime(2026, 1, 1, tzinfo=UTC)) in ("draft", "scheduled", "published", "expired")
    check_json_numbers(post.extra)


def check_json_numbers(value) -> None:
    """DynamoDB can store every number: integers of at most 38 digits, no floats."""
    if isinstance(value, dict):
        for item in value.values():
            check_json_numbers(item)
    elif isinstance(value, list):
        for item in value:
            check_json_numbers(item)
    else:
        assert not isinstance(value, float)
        if isinstance(value, int) and not isinstance(value, bool):
            assert abs(value) < 10 ** 38
