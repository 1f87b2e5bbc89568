"""`blogctl import --check`'s survey (blogctl/survey.py): what readers find of an imported site, counted.

The pure parts (junk on a page, images in a source) on pages and sources written here; then
a small Hugo site written here, imported into the dev stage on moto and surveyed over real
HTTP: files, published, junk, images, and that no draft, scheduled or expired post is public.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from blogctl import survey
from blogctl.importer import PostReport, check_site, import_site, read_site
from blogctl.survey import find_junk, page_texts, source_images, survey_site
from chalicelib import services
from test_import import blog, served  # noqa: F401  (fixtures: the dev stage on moto, served over HTTP)


def page(body: str, title: str = "A title", summary: str = "A summary") -> str:
    """A post page in the shape the blog's template writes (article.post, h1, div.post-body)."""
    return (f'<!doctype html><html><head><meta name="description" content="{summary}"></head><body>'
            f'<article class="post"><h1>{title}</h1><div class="post-body">{body}</div></article></body></html>')


def kinds(html: str, literals: str = "") -> set[str]:
    return {piece.kind for piece in find_junk(html, literals)}


def test_a_clean_page_has_no_junk():
    assert find_junk(page("<p>Plain words, <em>emphasis</em> and a <a href='/x'>link</a>.</p>")) == []


@pytest.mark.parametrize(("text", "kind"), [
    ("<p>&lt;figure class=\"wide\"&gt;</p>", "HTML as text"),
    ("<p>press &lt;kbd&gt;Ctrl&lt;/kbd&gt;</p>", "HTML as text"),
    ("<p>&lt;!-- note to self --&gt;</p>", "HTML comment"),
    ("<p>a pause &amp;mdash; then more</p>", "entity as text"),
    ("<p>{{&lt; figure src=\"/img/kiln.png\" &gt;}}</p>", "Hugo shortcode"),
    ("<p>{{% notice %}}</p>", "Hugo shortcode"),
    ("<p>see {% post_url 2019-02-03-kiln %}</p>", "Liquid tag"),
    ("<p><img src=\"{{ site.baseurl }}/kiln.png\" alt=\"\"> {{ site.baseurl }}</p>", "Liquid output"),
    ("<p>A warning.\n{: .notice--warning}</p>", "kramdown attributes"),
    ("<p>[the kiln](/posts/kiln) written twice</p>", "Markdown as text"),
    ("<p>see {filename}/kiln.md</p>", "Pelican link"),
])
def test_markup_printed_as_text_is_junk_of_its_kind(text, kind):
    assert kinds(page(text)) == {kind}


def test_junk_in_the_title_and_summary_counts_too():
    found = find_junk(page("<p>fine</p>", title="Kilns &amp;amp; glazes", summary="{{< ref kiln >}}"))
    assert {(piece.where, piece.kind) for piece in found} == {("title", "entity as text"),
                                                              ("summary", "Hugo shortcode")}


def test_code_and_keyboard_input_are_the_authors_text():
    code = ("<pre><code>{% highlight python %}\n&lt;div&gt;{{ site.url }}\n</code></pre>"
            "<p>Type <code>{{&lt; figure &gt;}}</code> or <kbd>&lt;Enter&gt;</kbd>.</p>")
    assert find_junk(page(code)) == []


def test_what_the_author_escaped_is_not_junk():
    source = "Write `x` as &lt;sup&gt; in HTML, or {{</* figure src=\"a.png\" */>}} in Hugo.\n"
    shown = page("<p>Write x as &lt;sup&gt; in HTML, or {{&lt; figure src=\"a.png\" &gt;}} in Hugo.</p>")
    assert kinds(shown) == {"HTML as text", "Hugo shortcode"}  # without the source, it looks like junk
    assert find_junk(shown, survey.author_literals(source)) == []


def test_a_footnote_mark_without_its_note_is_the_authors_text():
    source = "Kilns[^kiln] and glazes[^glaze].\n\n[^kiln]: Electric.\n"
    shown = page("<p>Kilns<sup>1</sup> and glazes[^glaze].</p>")
    assert find_junk(shown, survey.author_literals(source)) == []
    assert kinds(page("<p>Kilns[^kiln].</p>"), survey.author_literals(source)) == {"Markdown as text"}


def test_a_code_span_in_the_summary_is_the_authors_text():
    source = "Wrap the kiln log in a `<details>` element.\n"
    shown = page("<p>Wrap the kiln log in a <code>&lt;details&gt;</code> element.</p>",
                  summary="Wrap the kiln log in a &lt;details&gt; element.")
    assert kinds(shown) == {"HTML as text"}
    assert find_junk(shown, survey.author_literals(source)) == []


def test_tex_is_counted_apart_from_junk():
    found = find_junk(page(r"<p>the loss \(\frac{1}{n}\sum_i x_i\) falls</p>"))
    assert {piece.kind for piece in found} == {survey.MATH_KIND}


def test_the_table_of_contents_is_not_read_twice():
    toc = '<nav class="toc"><ul><li>{{ oops }}</li></ul></nav><p>Body.</p>'
    assert page_texts(page(toc))["body"].split() == ["Body."]


def test_source_images_counts_what_the_generator_shows():
    body = "\n".join([
        "![a kiln](kiln.png)",
        "![by reference][glaze]",
        "",
        "[glaze]: /img/glaze.jpg",
        "",
        '<img src="/img/raw.png" alt="raw">',
        '{{< figure src="/img/figure.webp" caption="fired" >}}',
        '{% include image.html url="/img/included.gif" %}',
        "",
        "```",
        "![not an image](code.png)",
        "```",
        "",
        "<!-- ![commented out](hidden.png) -->",
        "{% highlight html %}",
        '<img src="/img/example.png">',
        "{% endhighlight %}",
        '{{< youtube id="abc" poster="poster.jpg" >}}',
        "![kiln at night]({{ site.url }}/img/night.png)",
    ])
    assert source_images(body) == 6


# -- a site imported and surveyed over HTTP --

HUGO_CONFIG = 'baseURL = "https://pottery.example.org/"\ntitle = "Studio notes"\ntimeZone = "UTC"\n'
HUGO_POSTS = {
    "firing.md": ('---\ntitle: "First firing"\ndate: 2021-03-04\n---\n\nThe kiln reached cone 6 &mdash; at last.'
                  '\n\n<figure><img src="/img/kiln.png" alt="kiln"><figcaption>Cooling</figcaption></figure>\n\n'
                  '{{< figure src="/img/shelf.png" caption="The shelf" >}}\n\n![glaze](/img/glaze.png)\n'),
    "wedging.md": '---\ntitle: "Wedging"\ndate: 2021-04-01\ndraft: true\n---\n\nNot ready.\n',
    "trimming.md": '---\ntitle: "Trimming"\ndate: 2021-05-01\npublishDate: 2099-01-01\n---\n\nLater.\n',
    "old-sale.md": ('---\ntitle: "Spring sale"\ndate: 2021-02-01\nexpiryDate: 2021-03-01\n---\n\n'
                    'Over now.\n'),
    "broken.md": '---\ntitle: [unclosed\ndate: 2021-01-01\n---\n\nBroken front matter.\n',
}
# A 1x1 PNG.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def write_site(root: Path) -> Path:
    (root / "content" / "posts").mkdir(parents=True)
    (root / "static" / "img").mkdir(parents=True)
    (root / "hugo.toml").write_text(HUGO_CONFIG)
    for name, text in HUGO_POSTS.items():
        (root / "content" / "posts" / name).write_text(text)
    for name in ("kiln.png", "shelf.png", "glaze.png"):
        (root / "static" / "img" / name).write_bytes(PNG)
    (root / "content" / "posts" / "notebook.ipynb").write_text("{}")
    return root


@pytest.fixture
def surveyed(blog, served, tmp_path):  # noqa: F811  (the fixtures imported above)
    """The site written here, imported into the sandbox and surveyed: (site, report, survey)."""
    site = read_site(write_site(tmp_path / "pottery"))
    report = import_site(site, services.content(), services.index(), settle_seconds=0, deliver=blog.deliver)
    return site, report, survey_site(site, report, served)


def test_the_survey_counts_files_and_what_published(surveyed):
    _, _, found = surveyed
    assert found.files == {".md": 5, ".ipynb": 1}
    assert (found.markdown_files, found.valid, found.published) == (5, 4, 1)
    assert found.unpublished == {"draft": 1, "scheduled": 1, "expired": 1}
    assert [key for key, _ in found.rejected] == ["posts/posts/broken.md"]
    assert found.meant_public == 1 and found.waiting == 0 and found.missing_pages == []


def test_the_survey_finds_no_junk_where_the_blog_renders_the_markup(surveyed):
    _, _, found = surveyed
    assert found.junk == [] and found.junk_kinds == {}


def test_the_survey_counts_images_referenced_and_shown(surveyed):
    _, _, found = surveyed
    assert (found.images_referenced, found.images_in_pages, found.lost_images) == (3, 3, [])


def test_no_unpublished_post_is_public(surveyed):
    _, _, found = surveyed
    assert found.unpublished_checked == 3
    assert found.unpublished_public == []
    assert "unpublished posts public 0 of 3 checked" in found.summary()


def test_a_post_that_is_public_is_named_when_it_should_not_be(surveyed, served):  # noqa: F811
    _, report, _ = surveyed
    live = next(p for p in report.posts if p.status == "published")
    pretend = PostReport(live.key, "draft", live.slug, old_urls=live.old_urls, new_url=live.new_url)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        leaks = survey._leaks([pretend], served, pool)
    assert any(f"is shown at {live.new_url}" in leak for leak in leaks)
    assert any(f"/api/posts/{live.slug} answers 200" in leak for leak in leaks)
    assert any("is in /feed.xml" in leak for leak in leaks)
    assert any("is in /sitemaps/posts-2021-03.xml" in leak for leak in leaks)  # the sitemap index's file


def test_the_survey_row_reads_as_the_readme_table(surveyed, served):  # noqa: F811
    _, report, found = surveyed
    check = check_site(report, served)
    assert found.row("pottery", check) == ("| pottery | Hugo | 5 (+1 not Markdown) | 4 | 1 (100.0%) | 0 (0.0%) "
                                           "| 3 / 3 / 3/3 | 3: 0 public |")
