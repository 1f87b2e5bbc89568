"""Fuzz: whatever an editor uploads, every route answers well, every XML output parses, every
response fits Lambda's 6 MB, and ingest never lets an exception escape for one bad file.

Hypothesis writes post files (front matter with hostile values, Markdown with raw HTML,
shortcodes, code in any language, control characters), ingest takes them, then every route
a reader, a crawler or a feed reader can reach is asked for.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from blogctl import greedy
from chalicelib import indexer, model, services
from conftest import NOW, fresh_aws

MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's response limit
FINE = {200, 301, 304, 400, 404, 410}  # a 500 is never fine

hostile_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60) | \
    st.sampled_from(["\x0b tab", "\ufffe", "\x1b[31mred", "&mdash;", "<script>alert(1)</script>",
                     "javascript:alert(1)", "{{< youtube x >}}", "{% raw %}", "a" * 500, "日本語 ✓"])
scalars = st.one_of(hostile_text, st.integers(min_value=-(10**60), max_value=10**60), st.booleans(), st.none(),
                    st.sampled_from(["2013-04-20", "0001-01-01", "0213-04-20", "9999-12-31T23:59:59-23:59",
                                     "2013-05-06 02:12:52 +0200", "2020-1-2", "yesterday"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=3),
                      max_leaves=8)
valid_dates = st.sampled_from(["2013-04-20", "2024-01-02T10:00:00Z", "2013-05-06 02:12:52 +0200", "2020-1-2"])
front_matter = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=40) | hostile_text | scalars, "date": valid_dates | valid_dates | scalars},
    optional={"tags": st.lists(hostile_text, max_size=20) | hostile_text, "aliases": st.lists(hostile_text, max_size=3),
              "summary": hostile_text, "draft": st.booleans() | hostile_text, "slug": hostile_text,
              "author": hostile_text, "categories": st.lists(hostile_text, max_size=3), "expiryDate": scalars,
              "publishDate": scalars, "images": st.lists(hostile_text, max_size=2), "weird": values})
# Half the files have front matter that publishes, so the hostile bodies reach every page.
tame_front_matter = st.fixed_dictionaries(
    {"title": st.text(alphabet="abcdefghij ✓日本", min_size=1, max_size=30).filter(str.strip), "date": valid_dates},
    optional={"tags": st.lists(hostile_text, max_size=20), "aliases": st.lists(hostile_text, max_size=3),
              "summary": hostile_text, "author": hostile_text, "weird": values})
blocks = st.lists(st.one_of(
    hostile_text,
    st.sampled_from(["# Title", "## a", "* a\n* b", "1. x", "> quote", "| a | b |\n|---|---|\n| 1 |",
                     "<figure><img src=x.png onerror=alert(1)><figcaption>c</figcaption></figure>",
                     "<details><summary>s</summary>hidden</details>", "<!-- secret -->", "[link](javascript:x)",
                     "![i](../../etc/passwd)", "{{< figure src=\"a.png\" >}}", "{% highlight python %}x{% endhighlight %}",
                     "{: .class}", "*_" * 50, "[*[*" * 30, "&#0; &#xD800;"]),
    st.builds(lambda lang, code: f"```{lang}\n{code}\n```", st.sampled_from(["python", "easytrieve", "csharp", "", "x"]),
              hostile_text)), max_size=8)


def post_file(meta: dict, body: list[str]) -> bytes:
    # JSON is YAML: every value arrives as the YAML loader would give it.
    text = "---\n" + "\n".join(f"{json.dumps(str(k))}: {json.dumps(v, default=str)}" for k, v in meta.items())
    return (text + "\n---\n\n" + "\n\n".join(body)).encode("utf-8", "surrogatepass")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=st.lists(st.tuples(tame_front_matter | front_matter, blocks), min_size=1, max_size=3),
       raw=st.binary(max_size=300))
def test_every_route_answers_well_whatever_was_uploaded(files, raw):
    from chalice.test import Client

    import app

    greedy.install()
    with fresh_aws():
        content, index = services.content(), services.index()
        keys = [f"posts/p{n}.md" for n in range(len(files))] + ["posts/raw.md"]
        for key, data in zip(keys, [post_file(m, b) for m, b in files] + [raw]):
            content.put(key, data, "text/markdown")
            outcome = indexer.reconcile(key, index, content, NOW)  # raises if anything escapes
            assert outcome.action in ("published", "scheduled", "draft", "expired", "error", "unchanged")
        slugs = [s.slug for k in keys for s in index.source_states(k) if isinstance(s, model.PostRecord)]
        event(f"{len(slugs)} post(s) indexed")
        tags = [t.slug for slug in slugs for t in index.post(slug).card.tags]
        paths = ["/", "/tags", "/archive", "/feed.xml", "/sitemap.xml", "/sitemaps/pages.xml", "/robots.txt",
                 "/api/posts", "/search?q=a", "/search?q=" + quote("日本 \"x y\""), "/no/such/page"]
        paths += [p for slug in slugs for p in (f"/posts/{quote(slug)}", f"/api/posts/{quote(slug)}")]
        paths += [p for tag in tags[:4] for p in (f"/tags/{quote(tag)}", f"/tags/{quote(tag)}/feed.xml")]
        paths += [f"/sitemaps/posts-{c.name}.xml" for c in index.counts(model.MONTHS_PK, 20).items]
        with Client(app.app) as client:
            for path in paths:
                response = client.http.get(path, headers={"Accept": "*/*"})
                assert response.status_code in FINE, (path, response.status_code)
                assert len(response.body) < MAX_RESPONSE_BYTES, path
                kind = response.headers.get("content-type", "")
                if response.status_code == 200 and ("xml" in kind):
                    ET.fromstring(response.body)  # well-formed, whatever the content
                if response.status_code == 200 and kind.startswith("text/html"):
                    assert b"<script" not in response.body.lower()
                    assert b"javascript:" not in response.body.lower()
