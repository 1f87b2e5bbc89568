"""Markdown rendering and sanitizing: pure, no AWS. HTML is checked with a real parser."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chalicelib import render


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def tags(self) -> list[str]:
        return [t for t, _ in self.found]

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.found if t == tag]


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("attack", XSS)
def test_output_has_no_script_handlers_or_javascript_urls(attack):
    html = render.render_markdown(f"Before\n\n{attack}\n\nAfter").html
    parsed = Elements(html)
    assert not {"script", "iframe", "svg", "style"} & set(parsed.tags())
    for _, attrs in parsed.found:
        assert not any(name.startswith("on") for name in attrs)
        for value in attrs.values():
            assert not (value or "").lower().lstrip().startswith(("javascript:", "data:text"))


def test_raw_html_is_shown_as_text_not_markup():
    html = render.render_markdown("<b>bold?</b>").html
    assert "&lt;b&gt;" in html
    assert "b" not in Elements(html).tags()


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


def test_code_is_highlighted_with_classes():
    html = render.render_markdown("```python\ndef f():\n    return 1\n```").html
    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html


def test_unknown_language_is_escaped_plain_code():
    html = render.render_markdown("```nosuchlang\n<b>x</b>\n```").html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_headings_get_unique_anchors_and_long_posts_a_toc():
    rendered = render.render_markdown("## Intro\n\ntext\n\n## Intro\n\n### Deeper\n")
    ids = [a.get("id") for t, a in Elements(rendered.html).found if t in ("h2", "h3")]
    assert ids == ["intro", "intro-2", "deeper"]
    assert [a["href"] for a in Elements(rendered.toc).attrs("a")] == ["#intro", "#intro-2", "#deeper"]


def test_short_posts_have_no_toc():
    assert render.render_markdown("## Only one\n\ntext").toc == ""


def test_relative_images_point_at_the_posts_assets():
    html = render.render_markdown("![cat](cat.png) ![abs](https://x.example/a.png) [p](/posts/a)",
                                  asset_base="/api/assets/my-post", link_base="/api").html
    images = Elements(html).attrs("img")
    assert images[0]["src"] == "/api/assets/my-post/cat.png"
    assert images[1]["src"] == "https://x.example/a.png"
    assert Elements(html).attrs("a")[0]["href"] == "/api/posts/a"


def test_summary_is_the_first_paragraph_as_plain_text():
    assert render.summarize("# Title\n\nFirst *para* with [a link](/x).\n\nSecond.") == "First para with a link."


def test_long_summary_is_cut_at_a_word():
    summary = render.summarize("word " * 200, limit=50)
    assert len(summary) <= 51
    assert summary.endswith("…")
    assert "wor…" not in summary


def test_reading_time_counts_words():
    rendered = render.render_markdown("word " * 660)
    assert rendered.words == 660
    assert rendered.reading_minutes == 3
    assert render.reading_minutes(5) == 1


def test_pygments_stylesheet_is_up_to_date():
    shipped = (render.__file__.rsplit("/", 1)[0] + "/static/pygments.css")
    with open(shipped, encoding="utf-8") as handle:
        assert handle.read() == render.pygments_css(), "run `make css` to regenerate it"
