"""The Markdown benchmark's own helpers: spec parsing and HTML normalizing (nothing is timed here)."""
from __future__ import annotations

import pytest

from bench import budgets, figures, markdown
from chalicelib import posts, render
from chalicelib.errors import InvalidPost

FENCE = "`" * 32
SPEC = f"""Some prose.

{FENCE} example
→foo
.
<pre><code>foo
</code></pre>
{FENCE}

More prose.

{FENCE} example
## A *b*
.
<h2>A <em>b</em></h2>
{FENCE}
"""


def test_examples_are_read_with_tabs():
    assert markdown.examples(SPEC) == [(1, "\tfoo\n", "<pre><code>foo\n</code></pre>\n"),
                                       (2, "## A *b*\n", "<h2>A <em>b</em></h2>\n")]


def test_normalizing_removes_only_the_blogs_decorations():
    blog = '<h2 id="a-b">A <em>b</em> <a class="anchor" href="#a-b" aria-label="x">#</a></h2>\n'
    assert markdown.normal(blog) == markdown.normal("<h2>A <em>b</em></h2>")
    highlighted = '<div class="highlight"><pre><span></span><code><span class="k">def</span> f</code></pre></div>'
    assert markdown.normal(highlighted) == markdown.normal('<pre><code class="language-py">def f</code></pre>')
    lazy = '<p><img src="a.png" alt="x" loading="lazy" width="3" height="4"></p>'
    assert markdown.normal(lazy) == markdown.normal('<p><img src="a.png" alt="x" /></p>')
    assert markdown.normal("<p><em>a</em></p>") != markdown.normal("<p>a</p>")
    assert markdown.normal('<p><a href="/x">x</a></p>') != markdown.normal("<p>x</p>")


def test_the_corpus_has_every_named_input_and_every_allowed_lexer():
    bodies = markdown.adversarial_bodies()
    for name in ("star_underscore", "bracket_star", "nested_lists", "long_table", "reference_links", "task_lists",
                 "same_headings_14000", "easytrieve_tabs", "lexer_c_comment", "lexer_python_tabs"):
        assert name in bodies
    assert markdown.random_bodies(3) == markdown.random_bodies(3)  # seeded: the same corpus every run


def test_the_corpus_fits_an_upload():
    for name, body in markdown.adversarial_bodies().items():
        assert len(body.encode("utf-8")) <= markdown.BODY_BYTES < posts.MAX_SOURCE_BYTES, name


def test_a_gate_with_nothing_measured_is_an_error_row():
    rows = budgets.gate_figures([])
    assert [row.status for row in rows] == [figures.ERROR] * 3
    refused_all = [budgets.Checked("a", "x", 0.5, refused="MAX_MARKUP_CHARS")]
    rows = budgets.gate_figures(refused_all)
    assert [row.key for row in rows if row.status == figures.ERROR] == ["markdown.worst_render",
                                                                         "markdown.largest_output"]


def test_the_gate_judges_what_it_accepted_against_the_budgets():
    checked = [budgets.Checked("slow", "x", 0.9, render_seconds=render.MAX_RENDER_SECONDS + 0.1, size=10),
               budgets.Checked("big", "y", 0.1, render_seconds=0.1, size=render.MAX_RENDERED_BYTES + 1),
               budgets.Checked("refused", "z", render.MAX_RENDER_SECONDS + 0.1, refused="INGEST_RENDER_SECONDS")]
    rows = {row.key: row for row in budgets.gate_figures(checked)}
    assert rows["markdown.check_cost"].status == figures.FAIL and "refused" in rows["markdown.check_cost"].measured
    assert rows["markdown.worst_render"].status == figures.FAIL and "slow" in rows["markdown.worst_render"].measured
    assert rows["markdown.largest_output"].status == figures.FAIL


def test_responses_are_measured_as_lambda_sends_them():
    # python3.11's runtime writes ASCII JSON: one control character is six bytes, one emoji twelve
    plain = budgets.lambda_response_bytes(200, {}, b"a")
    assert budgets.lambda_response_bytes(200, {}, b"\x01") - plain == 5
    assert budgets.lambda_response_bytes(200, {}, "\U0001f600".encode()) - plain == 11
    quote = render.Rendered(html='"', toc="")
    assert render.answer_bytes(quote) == len(r'"\"\\\"\""') + len(r'"\"\""')  # '"' is "\"" in the API's JSON, then in Lambda's


def test_refusals_name_their_budget():
    with pytest.raises(InvalidPost) as refused:
        render.check_render("*_" * render.MAX_MARKUP_CHARS)
    assert budgets.budget_named(refused.value) == "MAX_MARKUP_CHARS"
