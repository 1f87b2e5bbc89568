"""The Markdown benchmark's own helpers: spec parsing and HTML normalizing (nothing is timed here)."""
from __future__ import annotations

from bench import markdown

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
