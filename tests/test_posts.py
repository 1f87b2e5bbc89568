"""Front matter parsing, validation and slug rules: pure, no AWS."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib import posts
from chalicelib.errors import InvalidPost

UTC = dt.timezone.utc


def parse(text: str, key: str = "posts/hello.md") -> posts.Post:
    return posts.parse_post(key, text.encode())


def problems(text: str | bytes, key: str = "posts/hello.md") -> list[tuple[int, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InvalidPost) as caught:
        posts.parse_post(key, data)
    return [(p.line, p.message) for p in caught.value.problems]


def test_minimal_post_parses():
    post = parse("---\ntitle: Hello\ndate: 2013-04-20\n---\n\nBody text.\n")
    assert post.slug == "hello"
    assert post.title == "Hello"
    assert post.date == dt.datetime(2013, 4, 20, tzinfo=UTC)
    assert post.body == "Body text."
    assert post.status(dt.datetime(2020, 1, 1, tzinfo=UTC)) == "published"


def test_naive_datetime_means_utc_and_offsets_convert():
    assert parse("---\ntitle: T\ndate: 2013-04-20 10:30:00\n---\n").date == dt.datetime(2013, 4, 20, 10, 30, tzinfo=UTC)
    assert parse("---\ntitle: T\ndate: 2013-04-20T10:30:00+02:00\n---\n").date == dt.datetime(2013, 4, 20, 8, 30, tzinfo=UTC)
    # Jekyll's style: a space before the offset
    assert parse("---\ntitle: T\ndate: '2013-04-20 10:30:00 +0200'\n---\n").date == dt.datetime(2013, 4, 20, 8, 30, tzinfo=UTC)


def test_tags_as_list_or_comma_string_become_slugs_with_names_kept():
    listed = parse("---\ntitle: T\ndate: 2020-01-01\ntags: [Python, AWS Lambda, python]\n---\n")
    assert [(t.slug, t.name) for t in listed.tags] == [("python", "Python"), ("aws-lambda", "AWS Lambda")]
    comma = parse("---\ntitle: T\ndate: 2020-01-01\ntags: 'Python, AWS Lambda'\n---\n")
    assert [t.slug for t in comma.tags] == ["python", "aws-lambda"]


def test_hugo_keys_are_understood():
    post = parse("---\ntitle: T\ndate: 2020-01-01\nlastmod: 2020-02-01\ndescription: About it\n"
                 "aliases: ['/posts/old-name/', '/2019/older.html']\ncategories: [misc]\n---\nx")
    assert post.updated == dt.datetime(2020, 2, 1, tzinfo=UTC)
    assert post.summary == "About it"
    assert post.aliases == ("/posts/old-name", "/2019/older")
    assert post.extra == {"categories": ["misc"]}


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


def test_hugo_page_bundle_takes_the_folder_name():
    assert posts.slug_from_key("posts/my-trip/index.md") == "my-trip"


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


def test_malformed_yaml_points_at_the_line():
    found = problems("---\ntitle: T\ndate: 2020-01-01\ntags: [a, b\n---\n")
    assert found[0][1].startswith("front matter is not valid YAML")
    assert found[0][0] >= 4


def test_several_problems_are_reported_together():
    found = problems("---\ntitle: ''\ndate: nope\ndraft: maybe\n---\n")
    assert [line for line, _ in found] == [2, 3, 4]


@pytest.mark.parametrize("data, expected", [
    (b"", "file is empty"),
    (b"just text, no front matter", "no front matter"),
    (b"---\ntitle: T\n", "front matter is not closed"),
    (b"---\n- a\n- b\n---\n", "front matter must be a mapping"),
    (b"---\ntitle: caf\xe9\ndate: 2020-01-01\n---\n", "not UTF-8 text"),
])
def test_unusable_files_are_explained(data, expected):
    assert expected in problems(data)[0][1]


def test_size_limit_is_enforced_by_name():
    data = b"---\ntitle: T\ndate: 2020-01-01\n---\n" + b"x" * posts.MAX_SOURCE_BYTES
    assert "MAX_SOURCE_BYTES" in problems(data)[0][1]


def test_tag_limit_is_enforced_by_name():
    tags = ", ".join(f"t{i}" for i in range(posts.MAX_TAGS + 1))
    assert "MAX_TAGS" in problems(f"---\ntitle: T\ndate: 2020-01-01\ntags: '{tags}'\n---\n")[0][1]


def test_slugify_folds_accents_and_punctuation():
    assert posts.slugify("Héllo, World! 2013") == "hello-world-2013"
    assert posts.slugify("!!!") == ""


def test_only_markdown_under_posts_is_a_post_key():
    assert posts.is_post_key("posts/a.md")
    assert not posts.is_post_key("assets/a/b.png")
    assert not posts.is_post_key("posts/a.txt")
    assert not posts.is_post_key("posts/.md")


def test_scaffold_parses_back_as_a_draft():
    text = posts.scaffold("New: post", dt.datetime(2026, 1, 1, tzinfo=UTC), ["x"])
    post = posts.parse_post("posts/new-post.md", text.encode())
    assert post.title == "New: post"
    assert post.draft is True
    assert [t.slug for t in post.tags] == ["x"]


def test_body_of_a_stored_source_skips_the_front_matter():
    assert posts.body_of(b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\n\r\nBody\r\n") == "Body"
    assert posts.body_of(b'+++\ntitle = "T"\n+++\nBody') == "Body"


def test_yaml_aliases_are_refused_before_they_can_expand():
    bomb = "---\ntitle: T\ndate: 2020-01-01\nlol: &a [x, x]\nlol2: [*a, *a]\n---\n"
    assert "anchors and aliases" in problems(bomb)[0][1]


def test_deeply_nested_front_matter_is_refused():
    assert "nested too deeply" in problems("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n")[0][1]
