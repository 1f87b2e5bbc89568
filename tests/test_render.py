"""Markdown rendering and sanitizing: pure, no AWS. HTML is checked with a real parser."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import highlighting, render, sanitizer, security
from chalicelib.errors import InvalidPost
from conftest import cpu_seconds

BODIES = Path(__file__).parent / "data" / "bodies"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    def tags(self) -> list[str]:
        return [t for t, _ in self.found]

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.found if t == tag]


def body_of(name: str) -> str:
    """A fixture body, without its front matter."""
    text = (BODIES / name).read_text(encoding="utf-8")
    return text.split("---", 2)[2] if text.startswith("---") else text


def assert_safe(html: str) -> None:
    """No script, no handler, no javascript:/data: URL, frames only from the allow-list."""
    parsed = Elements(html)
    assert not {"script", "style", "svg", "math", "object", "embed", "form"} & set(parsed.tags())
    for tag, attrs in parsed.found:
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        for name, value in attrs.items():
            lowered = (value or "").lower().replace("\t", "").replace("\n", "").strip()
            assert not lowered.startswith(("javascript:", "data:", "vbscript:")), (tag, name, value)
            if name == "srcset":
                assert "javascript:" not in lowered
        if tag == "iframe":
            assert any((attrs["src"] or "").startswith(origin + "/") for origin in sanitizer.FRAME_ORIGINS)
            assert attrs["sandbox"] == sanitizer.FRAME_SANDBOX


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<iframe src="https://www.youtube-nocookie.com.evil.example/embed/x"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>" src="https://player.vimeo.com/video/1"></iframe>',
    "<svg onload=alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<style>body{display:none}</style>",
    '<img srcset="javascript:alert(1) 1x, ok.png 2x">',
    '<video poster="javascript:alert(1)" src="a.mp4"></video>',
    '<form action="https://evil.example"><input type="password"></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '{{< figure src="javascript:alert(1)" link="javascript:alert(2)" caption="<script>x</script>" >}}',
    '{{< youtube "\\"><script>alert(1)</script>" >}}',
    "<div style='background:url(javascript:alert(1))' onmouseover=alert(1)>x</div>",
]


@pytest.mark.parametrize("attack", XSS)
def test_output_has_no_script_handlers_or_unsafe_urls(attack):
    rendered = render.render_markdown(f"Before\n\n{attack}\n\nAfter")
    assert_safe(rendered.html)
    assert "alert" not in " ".join(rendered.links + rendered.images)


def test_raw_html_authors_write_is_kept():
    rendered = render.render_markdown(body_of("raw-html.md"), asset_base="/assets/p")
    parsed = Elements(rendered.html)
    for tag in ("kbd", "sub", "sup", "abbr", "mark", "figure", "figcaption", "picture", "source", "details",
                "summary", "video", "audio", "table", "div", "span", "iframe"):
        assert tag in parsed.tags(), tag
    assert {"class": "note"} in parsed.attrs("div")
    assert parsed.attrs("abbr")[0]["title"] == "HyperText Markup Language"
    assert all(a.get("controls") == "" and "autoplay" not in a for a in parsed.attrs("video") + parsed.attrs("audio"))
    assert [a["src"] for a in parsed.attrs("iframe")] == ["https://www.youtube-nocookie.com/embed/abc123"]
    assert_safe(rendered.html)


def test_markdown_inside_html_blocks_still_renders():
    parsed = Elements(render.render_markdown(body_of("raw-html.md")).html)
    assert "em" in parsed.tags() and "The " in "".join(parsed.text)
    assert "*hidden*" not in "".join(parsed.text)


def test_comments_are_dropped_and_entities_decoded():
    rendered = render.render_markdown(body_of("raw-html.md"))
    assert not Elements(rendered.html).comments
    assert "author's note" not in rendered.html
    assert "© 2024 – …" in rendered.text
    assert "&copy;" not in rendered.text and "&ndash;" not in rendered.html


def test_the_csp_allows_exactly_the_frame_origins():
    policy = dict(part.strip().split(" ", 1) for part in security.CONTENT_SECURITY_POLICY.split(";"))
    assert policy["frame-src"].split() == list(sanitizer.FRAME_ORIGINS)


def test_gfm_features_render():
    html = render.render_markdown(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~gone~~ https://example.com\n\n"
        "Note[^1]\n\n[^1]: The note."
    ).html
    parsed = Elements(html)
    assert {"table", "del", "sup", "section", "input"} <= set(parsed.tags())
    assert parsed.attrs("td")[0]["class"] == "align-left"  # classes, not inline styles (CSP)
    assert all("style" not in a for _, a in parsed.found)
    assert [a.get("checked") for a in parsed.attrs("input")] == ["", None]
    assert {"href": "https://example.com"}.items() <= parsed.attrs("a")[0].items()


def test_table_rows_with_too_few_or_too_many_cells_still_render():
    html = render.render_markdown("| a | b | c |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |\n").html
    rows = html.split("<tr>")[2:]
    assert [row.count("<td") for row in rows] == [3, 3]
    assert "4" not in html and "| 1 |" not in html


def test_a_footnote_defined_without_a_space_after_the_colon_is_a_footnote():
    html = render.render_markdown("Kilns run hot[^1] and long[^2].\n\n[^1]: Cone 6.\n[^2]:About nine hours.\n").html
    assert "[^" not in html
    assert html.count('class="footnote-ref"') == 2 and "About nine hours." in html


def test_code_is_highlighted_with_classes():
    html = render.render_markdown("```python\ndef f():\n    return 1\n```").html
    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html


def test_unknown_language_is_escaped_plain_code():
    html = render.render_markdown("```nosuchlang\n<b>x</b>\n```").html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert 'class="language-nosuchlang"' in html


def test_every_heading_level_gets_a_github_style_id():
    rendered = render.render_markdown(
        "# Hello, World!\n\n## Intro\n\ntext\n\n## Intro\n\n### C++ & Rust: a *fair* fight?\n\n"
        "#### Deep `code`\n\n##### Déjà vu\n\n###### snake_case\n")
    ids = [a.get("id") for t, a in Elements(rendered.html).found if t in ("h1", "h2", "h3", "h4", "h5", "h6")]
    assert ids == ["hello-world", "intro", "intro-1", "c--rust-a-fair-fight", "deep-code", "déjà-vu", "snake_case"]
    assert [a["href"] for a in Elements(rendered.toc).attrs("a")] == ["#intro", "#intro-1", "#c--rust-a-fair-fight"]


def test_explicit_heading_ids_win_and_stay_unique():
    rendered = render.render_markdown("## One {#custom}\n\n## Two {: #custom}\n\n## custom\n")
    ids = [a["id"] for a in Elements(rendered.html).attrs("h2")]
    assert ids == ["custom", "custom-1", "custom-2"]
    assert "{#" not in rendered.text


def test_repeated_headings_number_past_taken_ids():
    rendered = render.render_markdown("## a-1\n\n## a\n\n## a\n\n## a\n")
    assert [a["id"] for a in Elements(rendered.html).attrs("h2")] == ["a-1", "a", "a-2", "a-3"]


def test_short_posts_have_no_toc():
    assert render.render_markdown("## Only one\n\ntext").toc == ""


def test_relative_urls_point_at_the_posts_assets_and_root_ones_at_the_site():
    rendered = render.render_markdown(
        "![cat](cat.png) ![abs](https://x.example/a.png) ![fig](./figures/5.png) [p](/posts/a) "
        "[pdf](paper.pdf) [sibling](../other/) [anchor](#top)\n\n<img src=\"figures/6.png\">",
        asset_base="/api/assets/my-post", link_base="/api")
    parsed = Elements(rendered.html)
    assert [a["src"] for a in parsed.attrs("img")] == [
        "/api/assets/my-post/cat.png", "https://x.example/a.png", "/api/assets/my-post/figures/5.png",
        "/api/assets/my-post/figures/6.png"]
    assert [a["href"] for a in parsed.attrs("a")] == [
        "/api/posts/a", "/api/assets/my-post/paper.pdf", "../other/", "#top"]
    assert rendered.images == ("cat.png", "https://x.example/a.png", "./figures/5.png", "figures/6.png")
    assert rendered.links == ("/posts/a", "paper.pdf", "../other/", "#top")


def test_images_get_sizes_srcset_and_only_the_first_is_eager():
    sizes = {"hero.jpg": (1600, 900), "hero-480w.jpg": (480, 270), "hero-960w.jpg": (960, 540),
             "figures/b.png": (300, 200)}
    html = render.render_markdown("![h](hero.jpg)\n\n![b](figures/b.png) ![c](unknown.png)",
                                  asset_base="/a/p", image_sizes=sizes).html
    first, second, third = Elements(html).attrs("img")
    assert (first["width"], first["height"]) == ("1600", "900")
    assert first["srcset"] == "/a/p/hero-480w.jpg 480w, /a/p/hero-960w.jpg 960w, /a/p/hero.jpg 1600w"
    assert "loading" not in first and first["fetchpriority"] == "high"
    assert (second["width"], second["height"], second["loading"]) == ("300", "200", "lazy")
    assert "width" not in third and third["loading"] == "lazy"


def test_author_sizes_are_kept():
    html = render.render_markdown('<img src="a.png" width="50">', image_sizes={"a.png": (10, 20)}).html
    assert Elements(html).attrs("img")[0]["width"] == "50"
    assert "height" not in Elements(html).attrs("img")[0]


def test_rendered_lists_text_warnings_images_and_links():
    rendered = render.render_markdown("# T\n\nHello [x](https://a.example) ![i](i.png)\n\n{{< nope >}}\n")
    assert rendered.text.split() == ["T", "Hello", "x"]
    assert rendered.words == 3
    assert rendered.images == ("i.png",) and rendered.links == ("https://a.example",)
    assert rendered.warnings == ("line 5: unknown Hugo shortcode {{< nope >}}: left out",)


def test_warnings_name_lines_of_the_file():
    rendered = render.render_markdown("a\n\n{% foo %}\n", first_line=7)
    assert rendered.warnings == ("line 9: unknown Liquid tag {% foo %}: left out",)


def test_summary_is_the_first_paragraphs_as_plain_text():
    assert render.summarize("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nFirst *para* with [a link](/x) &amp; more.\n\n```\ncode\n```") == \
        "First para with a link & more."


def test_summary_reads_a_whole_teaser_before_the_more_marker():
    body = "One &mdash; *first*.\n\n- a list item\n\n> quoted\n\n<!--more-->\n\nAfter the break."
    assert render.summarize(body) == "One — first. a list item quoted"
    assert render.teaser(body).startswith("One")
    assert render.teaser("no marker") is None


def test_summary_drops_html_and_expands_shortcodes():
    assert render.summarize('<b>Bold</b> {{< figure src="a.png" >}} see {{< ref "b.md" >}}.') == "Bold see /posts/b."


def test_summary_shows_no_footnote_marks():
    body = ("Glazes craze[^craze] when cooled fast[^2], see [^nope].\n\n<!--more-->\n\n"
            "[^craze]: Fine cracks.\n[^2]: Within hours.\n")
    assert render.summarize(body) == "Glazes craze when cooled fast, see [^nope]."  # an undefined mark is text
    assert render.summarize("Short[^a].\n\n[^a]: A note.\n") == "Short."


def test_long_summary_is_cut_at_a_word():
    summary = render.summarize("word " * 200, limit=50)
    assert len(summary) <= 51
    assert summary.endswith("…")
    assert "wor…" not in summary


def test_summary_of_a_huge_body_reads_only_its_start():
    assert render.summarize("word " * 1_000_000, limit=40).endswith("…")


def test_reading_time_counts_words():
    rendered = render.render_markdown("word " * 660)
    assert rendered.words == 660
    assert rendered.reading_minutes == 3
    assert render.reading_minutes(5) == 1


def test_check_render_rejects_a_body_over_the_size_budget(monkeypatch):
    monkeypatch.setattr(render, "MAX_RENDERED_BYTES", 1000)
    assert render.check_render("short").html == "<p>short</p>\n"
    with pytest.raises(InvalidPost) as raised:
        render.check_render("word " * 1000)
    assert "MAX_RENDERED_BYTES" in str(raised.value)


def test_check_render_rejects_a_body_over_the_time_budget(monkeypatch):
    monkeypatch.setattr(render, "INGEST_RENDER_SECONDS", 0.0)
    with pytest.raises(InvalidPost) as raised:
        render.check_render("## many\n" * 200)
    assert "INGEST_RENDER_SECONDS" in str(raised.value)


def test_control_characters_are_replaced_but_white_space_is_kept():
    assert render.render_markdown("a\x01b\x1bc\x0bd\te").html == "<p>a\ufffdb\ufffdc\ufffdd\te</p>\n"
    assert "\x1b" not in render.render_markdown("```\n\x1b[31m\n```\n").html


def test_an_upload_of_control_characters_cannot_make_an_api_answer_too_large():
    import json

    from chalicelib import pages, posts

    def code(size: int) -> str:
        return "```\n" + ("\x01" * 79 + "\n") * (size // 80) + "```\n"

    with pytest.raises(InvalidPost, match="MAX_RENDERED_BYTES"):  # 6 bytes each in JSON: a 7 MB answer
        render.check_render(code(posts.MAX_SOURCE_BYTES - 1024))
    html = render.check_render(code(posts.MAX_SOURCE_BYTES // 2)).html
    assert len(json.dumps(json.dumps(html, ensure_ascii=False))) < pages.MAX_RESPONSE_BYTES


def test_a_body_that_escapes_too_large_for_an_api_answer_is_refused():
    headings = ("## " + "\U0001f600" * 200 + "\n") * 790  # three copies each: 1.9 MiB of HTML, 12 bytes per emoji
    with pytest.raises(InvalidPost, match="MAX_ANSWER_BYTES"):
        render.check_render(headings)
    fitting = render.check_render(headings[:len(headings) * 3 // 4])
    assert fitting.size < render.MAX_RENDERED_BYTES and render.answer_bytes(fitting) <= render.MAX_ANSWER_BYTES


def test_ingest_allows_a_render_half_the_budget():
    assert render.INGEST_RENDER_SECONDS <= render.MAX_RENDER_SECONDS / 2


class FakeCpuClock:
    """time.thread_time that advances 10 ms each time it is read."""

    def __init__(self):
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.reads * 0.01


def test_check_render_stops_at_its_deadline_instead_of_finishing(monkeypatch):
    clock = FakeCpuClock()
    monkeypatch.setattr(render.time, "thread_time", clock)

    def no_sanitizing(html):
        raise AssertionError("the render went on past its deadline")

    monkeypatch.setattr(render, "sanitize", no_sanitizing)
    headings = 20_000  # ~60,000 tokens: ~1,900 clock reads if it ran to the end
    with pytest.raises(InvalidPost) as raised:
        render.check_render("## a\n" * headings)
    assert "INGEST_RENDER_SECONDS" in str(raised.value)
    deadline_reads = render.INGEST_RENDER_SECONDS / 0.01
    assert clock.reads <= deadline_reads + 3  # it read the clock until the deadline, then stopped


def test_check_render_refuses_too_much_html_before_sanitizing_it(monkeypatch):
    def no_sanitizing(html):
        raise AssertionError("sanitized HTML that could only be too large")

    monkeypatch.setattr(render, "MAX_RENDERED_BYTES", 10_000)
    monkeypatch.setattr(render, "sanitize", no_sanitizing)
    with pytest.raises(InvalidPost, match="MAX_RENDERED_BYTES"):
        render.check_render("## a\n" * 1_000)  # 5 KB of Markdown, ~100 KB of HTML


def test_a_render_after_a_stopped_one_is_whole_and_has_no_deadline(monkeypatch):
    body = "## a\n" * 2_000 + "Some *text*.\n"
    expected = render.render_markdown(body)
    with monkeypatch.context() as patched:
        patched.setattr(render.time, "thread_time", FakeCpuClock())
        with pytest.raises(InvalidPost):
            render.check_render(body)
        again = render.render_markdown(body)  # a reader's render: the clock runs on, nothing stops it
    assert again == expected
    assert render.check_render(body) == expected


def test_a_one_mib_code_listing_fits_the_size_budget_or_is_rejected():
    listing = "```python\n" + "x = 1  # a line of code\n" * 44_000 + "```\n"
    rendered = render.check_render(listing)  # too long to highlight: plain, so it fits
    assert rendered.size < render.MAX_RENDERED_BYTES
    assert any("MAX_HIGHLIGHT_CHARS" in w for w in rendered.warnings)


def test_highlighting_stops_at_the_post_budget():
    block = "```python\n" + "x = 1\n" * 2_000 + "```\n\n"
    rendered = render.render_markdown(block * 10)
    assert 0 < rendered.html.count('<div class="highlight">') < 10
    assert any("MAX_HIGHLIGHTED_CHARS" in w for w in rendered.warnings)


def test_pygments_stylesheet_is_up_to_date():
    shipped = (render.__file__.rsplit("/", 1)[0] + "/static/pygments.css")
    with open(shipped, encoding="utf-8") as handle:
        assert handle.read() == highlighting.pygments_css(), "run `make css` to regenerate it"


# Pieces of Markdown, HTML, shortcodes and attacks, joined at random.
MARKDOWNISH = st.lists(
    st.sampled_from(list("ab *_[]()!<>`~#-|:{}%/\\\"'=&;\n\t1.")
                    + ["<script>", "javascript:", "<img src=x onerror=", "{{< ", " >}}", "{% ", " %}", "{: ",
                       "<iframe src=", "https://", "<!--", "-->", "```", "<a href=", "\x00", "\ufffe", "\n\n",
                       "figure src=", "youtube ", "highlight", "ref \"", "post_url ", "srcset=", "&#", "## "]),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
def test_fuzz_never_raises_and_stays_sanitized(body):
    rendered = render.render_markdown(body, asset_base="/a/p", link_base="/b")
    assert_safe(rendered.html)
    assert_safe(rendered.toc)
    assert isinstance(render.summarize(body), str)


def test_check_render_refuses_pathological_markup_before_rendering(monkeypatch):
    def no_render(*args, **kwargs):
        raise AssertionError("rendered anyway")

    monkeypatch.setattr(render, "render", no_render)
    with pytest.raises(InvalidPost) as raised:
        render.check_render("*_" * (render.MAX_MARKUP_CHARS // 2 + 1))
    assert "MAX_MARKUP_CHARS" in str(raised.value)


def test_markup_in_code_does_not_count():
    code = "```python\n" + "x = a[1] * b_c  # <tag>\n" * 10_000 + "```\n"
    assert render.markup_chars(code) < 10
    assert render.markup_chars("*a* `*b*` [c](d)") == 4  # * * [ ]: the code span is not counted


def test_duplicate_heading_ids_are_found_in_linear_time():
    def cost(n: int) -> float:
        return cpu_seconds(lambda: render.render_markdown("## a\n" * n))

    small = min(cost(2_000) for _ in range(2))
    large = min(cost(8_000) for _ in range(2))
    assert large < small * 8  # quadratic id allocation grew 16-fold here (issue 12: 14,000 headings, 34 s)


def test_a_bare_url_ends_before_a_trailing_entity():
    html = render.render_markdown('feeds: "http://a.example/index.xml&quot; and http://b.example/?a=1&b=2').html
    assert [a["href"] for a in Elements(html).attrs("a")] == ["http://a.example/index.xml", "http://b.example/?a=1&b=2"]
    assert 'index.xml</a>"' in html
