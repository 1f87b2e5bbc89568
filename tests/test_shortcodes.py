"""Hugo shortcodes, Jekyll Liquid and kramdown IALs, as their generators render them. Pure."""
from __future__ import annotations

import pytest

from chalicelib import render, shortcodes
from conftest import cpu_seconds
from test_render import Elements, assert_safe, body_of


def html_of(body: str, **options) -> str:
    return render.render_markdown(body, asset_base="/assets/p", link_base="/b", **options).html


def expanded(body: str, **options) -> str:
    return shortcodes.expand(body, **options).markdown


def test_hugo_bundle_renders_whole_without_junk():
    rendered = render.render_markdown(body_of("hugo-bundle.md"), asset_base="/assets/p", link_base="/b",
                                      params={"project": "Farm"})
    parsed = Elements(rendered.html)
    assert [a["src"] for a in parsed.attrs("img")] == ["/assets/p/figures/rack.jpg", "/assets/p/figures/plan.png"]
    assert [a["src"] for a in parsed.attrs("iframe")] == [
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "https://player.vimeo.com/video/76979871"]
    assert {"href": "https://gist.github.com/alice/0123456789abcdef"} in parsed.attrs("a")
    assert "/b/posts/build-farm-part-1" in [a.get("href") for a in parsed.attrs("a")]
    assert "/b/posts/cooling#numbers" in [a.get("href") for a in parsed.attrs("a")]
    assert "Our site is called Farm." in rendered.text
    assert "<figcaption><h4>The rack</h4><p>Our <em>new</em> rack, after the move</p></figcaption>" in rendered.html
    assert "Label your cables." in rendered.text
    assert "power numbers" not in rendered.html
    visible = rendered.text
    assert '{{< figure src="x.png" >}}' in visible  # Hugo's escape, shown as the shortcode
    assert '{{< figure src="kept-as-text.png" >}}' in visible  # code is left alone
    assert "{{%" not in visible and "notice" not in visible and "<!--" not in visible
    assert rendered.warnings == ("line 32: unknown Hugo shortcode {{< notice >}}: left out",)
    assert_safe(rendered.html)


def test_jekyll_post_renders_whole_without_junk():
    body = body_of("2014-03-02-jekyll-liquid.markdown")
    rendered = render.render_markdown(body, asset_base="/assets/p", link_base="/b", params={"audience": "ops"},
                                      first_line=4)
    parsed = Elements(rendered.html)
    hrefs = [a.get("href") for a in parsed.attrs("a")]
    assert "/b/posts/hello-world" in hrefs and "/b/archive/" in hrefs and "/b/assets/logo.png" in hrefs
    assert "/b/posts/old-news" in hrefs
    assert [a["src"] for a in parsed.attrs("img")] == ["/b/assets/chart.png"]
    assert [a["id"] for a in parsed.attrs("h2")] == ["setup-notes"]
    assert '<span class="k">def</span>' in rendered.html
    assert "In templates, write {{ page.title }} to show the title." in rendered.text
    assert "{{ site.url }} is the site's address." in rendered.text
    assert "Written for ops." in rendered.text
    for junk in ("{%", "{:", "TOC", "draft paragraph", "post_url", "endraw", "site.baseurl"):
        assert junk not in rendered.text, junk
    assert rendered.warnings == ("line 30: unknown Liquid tag {% include %}: left out",)


@pytest.mark.parametrize("source, expected", [
    ('{{< ref "my-post.md" >}}', "/posts/my-post"),
    ('{{< relref "/blog/2020/my-post.md#part-2" >}}', "/posts/my-post#part-2"),
    ('{{< ref path="bundle/index.md" >}}', "/posts/bundle"),
    ('{{< ref "content/posts/Hello World.markdown" >}}', "/posts/hello-world"),
    ("{% post_url 2010-07-21-name %}", "/posts/name"),
    ("{% post_url /2010/2010-07-21-name %}", "/posts/name"),
    ("{% link _posts/2016-07-26-name.md %}", "/posts/name"),
    ("{% link assets/files/doc.pdf %}", "/assets/files/doc.pdf"),
    ('{{ "/img/a.png" | relative_url }}', "/img/a.png"),
    ("{{ site.baseurl }}/about/", "/about/"),
    ("{{ site.url }}{{ site.baseurl }}/about/", "/about/"),
])
def test_links_to_posts_and_the_site(source, expected):
    assert expanded(source) == expected


def test_post_links_use_the_blogs_slug_rule():
    from chalicelib.posts import slug_from_key

    assert expanded("{% post_url 2013-04-20-Global-Prayer %}") == "/posts/" + slug_from_key(
        "posts/2013-04-20-Global-Prayer.md")


def test_site_url_alone_is_the_site():
    assert expanded("Visit {{ site.url }} today", site_url="https://blog.example/") == \
        "Visit https://blog.example today"


def test_highlight_blocks_become_fenced_code():
    assert expanded("{{< highlight go \"linenos=table\" >}}\nx := 1\n{{< /highlight >}}") == "\n```go\nx := 1\n```\n"
    assert expanded("{% highlight ruby linenos %}\nputs 1\n{% endhighlight %}") == "\n```ruby\nputs 1\n```\n"
    assert expanded("{% highlight md %}\n```\ninner\n```\n{% endhighlight %}") == "\n````md\n```\ninner\n```\n````\n"


def test_figure_is_hugos_markup():
    html = html_of('{{< figure src="a.png" link="https://x.example" alt="Alt" title="T" caption="C" '
                   'attr="Me" attrlink="https://me.example" class="wide" width="300" >}}')
    parsed = Elements(html)
    assert parsed.attrs("figure") == [{"class": "wide"}]
    assert parsed.attrs("a")[0]["href"] == "https://x.example"
    image = parsed.attrs("img")[0]
    assert (image["src"], image["alt"], image["width"]) == ("/assets/p/a.png", "Alt", "300")
    assert "<figcaption><h4>T</h4><p>C<a href=\"https://me.example\">Me</a></p></figcaption>" in html


def test_figure_inside_a_paragraph_stays_inline():
    html = html_of('Look: {{< figure src="a.png" >}} here.')
    assert html.startswith("<p>Look: <figure>") or "<figure>" in html
    assert "here." in html


def test_param_reads_nested_front_matter():
    assert expanded('{{< param "author.name" >}}', params={"author": {"name": "Ann & Co"}}) == "Ann &amp; Co"
    result = shortcodes.expand('{{< param "missing" >}}', params={})
    assert result.markdown == "" and "missing" in result.warnings[0]


def test_bad_embed_ids_are_warnings_not_frames():
    result = shortcodes.expand('{{< youtube "x\\"onload=1" >}}\n{{< vimeo abc >}}\n{{< gist >}}')
    assert "<iframe" not in result.markdown
    assert len(result.warnings) == 3


def test_shortcodes_in_code_spans_and_blocks_are_left_alone():
    body = "`{{< ref \"a.md\" >}}` and ``{% post_url x %}``\n\n```\n{{ site.url }}\n```\n\n    {{< figure src=\"x\" >}}\n"
    assert expanded(body) == body


def test_kramdown_attribute_lists_are_never_printed():
    html = html_of("Para\n{: .lead}\n\n![i](i.png){: .center width=\"50%\"}\n\n*em*{: .x} after\n\n"
                   "{::comment}\nhidden\n{:/comment}\n\n{::options parse_block_html=\"true\" /}\n\nend")
    text = "".join(Elements(html).text)
    assert "{:" not in text and "hidden" not in text and "lead" not in text
    assert "after" in text and "end" in text


def test_unknown_liquid_and_hugo_tags_are_warnings_with_lines():
    result = shortcodes.expand("a\n{% include x.html %}\nb {{ page.nope }}\n\n{{< tweet 1 >}}\n", first_line=10)
    assert result.markdown == "a\n\nb \n\n\n"
    assert result.warnings == (
        "line 11: unknown Liquid tag {% include %}: left out",
        "line 12: unknown Liquid value {{ page.nope }}: left out",
        "line 14: unknown Hugo shortcode {{< tweet >}}: left out",
    )


def test_braces_that_are_not_liquid_stay_text():
    body = r"$$\frac{{a}}{b}$$ and {{ .Title }} and {% not a tag"
    assert expanded(body) == body


def test_warnings_are_bounded():
    result = shortcodes.expand("{{< x >}}\n" * 500)
    assert len(result.warnings) == shortcodes.MAX_WARNINGS + 1
    assert result.warnings[-1] == f"{500 - shortcodes.MAX_WARNINGS} more warnings not shown"


@pytest.mark.parametrize("unit", ["{{<", "{{< x", "{%", "{% raw %}", "{{", "{:", "{: ", "{::x}", "{{< highlight go >}}",
                                  "{{< figure src=x >}}", "{: #a}\n",
                                  "`", "` ``", "{{</*", "```\n"])
def test_expansion_is_linear_in_the_body(unit):
    # Each search is remembered: doubling the body twice may not cost more than ~4×
    # (8× allowed); a rescan per opener would cost 16×.
    def cost(n: int) -> float:
        text = unit * (n // len(unit))
        return cpu_seconds(lambda: shortcodes.expand(text))

    small = min(cost(20_000) for _ in range(2))
    large = min(cost(80_000) for _ in range(2))
    assert large < max(small, 0.002) * 8


@pytest.mark.parametrize("line", ["{indent}- x\n", "{indent}> x\n", "```\n{indent}x\n"])
def test_code_is_found_in_time_linear_in_the_indentation(line):
    # Four times the indentation may cost ~4× (8× allowed); splitting it at every column cost 16×
    # (issue 12: 1 MiB of deeply nested list items took 2.8 s before rendering began).
    def cost(width: int) -> float:
        text = line.format(indent=" " * width) * 40
        return cpu_seconds(lambda: shortcodes.code_regions(text))

    small = min(cost(1_000) for _ in range(2))
    large = min(cost(4_000) for _ in range(2))
    assert large < max(small, 0.002) * 8


def test_fences_in_quotes_and_indented_are_still_code():
    text = "> ```\n> *a*\n> ```\n\n   ~~~~\n*b*\n   ~~~~\n\n*c*\n"
    regions = shortcodes.code_regions(text)
    assert [text[start:end] for start, end in regions] == ["> ```\n> *a*\n> ```", "   ~~~~\n*b*\n   ~~~~"]


def test_an_unknown_shortcode_naming_an_image_keeps_the_image():
    rendered = render.render_markdown('{{% img src="photos/sky.jpg" class="half right" alt="Sky" %}}',
                                      asset_base="/assets/p")
    assert Elements(rendered.html).attrs("img")[0]["src"] == "/assets/p/photos/sky.jpg"
    assert rendered.images == ("photos/sky.jpg",)
    assert rendered.warnings == ("line 1: unknown Hugo shortcode {{< img >}}: shown as a figure of its image",)


def test_hugo_inline_shortcodes_are_templates_left_out_whole():
    result = shortcodes.expand("a\n{{< math.inline >}}\n{{ if .Page.Params.math }}<script></script>{{ end }}\n"
                               "{{< /math.inline >}}\nb")
    assert result.markdown == "a\n\nb"
    assert "math.inline" in result.warnings[0]


@pytest.mark.parametrize("tag, tags", [
    ("{% img left /images/a.png 300 200 \"Title\" \"Alt\" %}", {"img"}),
    ("{% video /v/clip.mp4 640 480 /v/poster.png %}", {"video"}),
    ("{% youtube abc123 %}", {"iframe", "div"}),
    ("{% vimeo 12345 %}", {"iframe", "div"}),
])
def test_octopress_and_pelican_liquid_embeds(tag, tags):
    rendered = render.render_markdown(tag)
    assert tags <= set(Elements(rendered.html).tags())
    assert not rendered.warnings
    assert_safe(rendered.html)


def test_a_notebook_is_linked_with_a_warning():
    rendered = render.render_markdown("{% notebook analysis.ipynb cells[1:] %}", asset_base="/assets/p")
    assert Elements(rendered.html).attrs("a") == [{"href": "/assets/p/analysis.ipynb"}]
    assert "cannot be embedded" in rendered.warnings[0]


def test_liquid_tags_may_span_lines_and_loops_make_every_value_liquid():
    assert expanded("[x]({% link\n_posts/2017-10-19-name.markdown %})") == "[x](/posts/name)"
    result = shortcodes.expand("{% for issue in page.issues %}\n[#{{ issue }}]: /issues/{{ issue }}\n{% endfor %}")
    assert "{{" not in result.markdown and "issue" in " ".join(result.warnings)
