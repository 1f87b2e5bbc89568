"""Cold post render: the blog's whole path against raw mistune and against Python-Markdown as Pelican uses it.

The document is the seed post plus what long technical posts carry: headings (so a
table of contents), code in three languages, a table, lists, quotes, links and images.
The blog's path is Site.post on a fresh Site (empty caches): front matter, Markdown
with highlighting, sanitizing, the template. Storage is in memory: this is CPU only.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import markdown
import mistune

from bench.figures import Figure, judged, ms, reported, times
from bench.timing import interleave, median, ratio, seconds
from blogctl.stage import PROJECT_DIR
from chalicelib import config, ingest, model, posts, render
from chalicelib.pages import Links
from chalicelib.site import Site
from chalicelib.store import Slice, SourceRef

ROUNDS = 40
MISTUNE_GOAL = 1.5
SEED_POST = PROJECT_DIR / "content" / "posts" / "global-prayer-gathering-2013.md"
# Pelican's default MARKDOWN setting; its reader makes one Markdown instance per file.
PELICAN_MARKDOWN: dict[str, Any] = {
    "extensions": ["markdown.extensions.codehilite", "markdown.extensions.extra", "markdown.extensions.meta"],
    "extension_configs": {"markdown.extensions.codehilite": {"css_class": "highlight"},
                          "markdown.extensions.extra": {}, "markdown.extensions.meta": {}},
    "output_format": "html5",
}

TECHNICAL_PART = '''
## How the blog serves a post

A reader's request reaches the **Chalice** route, which asks the index for one item and
answers from memory when it can. See [the design](/posts/design) or the
[AWS documentation](https://docs.aws.amazon.com/lambda/) for the details, and `make run` to try it.

![The request path](request-path.png "Request path")

### The handler

```python
@app.route("/posts/{slug}")
def post(slug: str) -> Response:
    item = index.get_post(slug)
    if item is None or item["status"] != "published":
        raise NotFoundError(slug)
    page = pages.get_or_make(item["etag"], lambda: render(item))
    return Response(page.body, headers={"ETag": page.etag, "Cache-Control": "max-age=60"})
```

### The client

```javascript
async function revalidate(url, etag) {
  const response = await fetch(url, { headers: { "If-None-Match": etag } });
  return response.status === 304 ? null : response.text();
}
```

### Deploying

```bash
make deploy STAGE=prod
aws s3 cp my-post.md s3://serverless-blog-prod-content/posts/my-post.md
```

## What it costs

| Requests a month | Lambda | DynamoDB | S3 | Total |
|:-----------------|-------:|---------:|---:|------:|
| 10,000           | $0.00  | $0.00    | $0.01 | $0.01 |
| 1,000,000        | $0.21  | $0.25    | $0.40 | $0.86 |
| 10,000,000       | $2.10  | $2.50    | $4.00 | $8.60 |

> Cost grows with requests, not with posts: a listing reads one page of the index,
> however many posts there are.

## Checklist

1. Write the post in Markdown, with a `title` and a `date`.
2. Check it: `blogctl check my-post.md`.
3. Publish it, and *watch* it go live within **two seconds**.

- Drafts stay private.
- Scheduled posts appear on their date.
- Deleted posts answer *410 Gone*.
'''


class MemoryIndex:
    """The one post the render needs, without AWS: no neighbours, no other posts of its tag."""

    def __init__(self, record: model.PostRecord) -> None:
        self._record = record

    def post(self, slug: str) -> model.PostRecord | None:
        """The post, if `slug` is ours."""
        return self._record if slug == self._record.slug else None

    def redirect(self, path: str) -> None:
        """No old URLs here."""
        return None

    def neighbours(self, card: model.PostCard, upper: str) -> tuple[None, None]:
        """No other posts."""
        return None, None

    def group(self, group: str, upper: str, limit: int, after_sk: str | None = None) -> Slice:
        """No other posts."""
        return Slice([], None)


class MemoryContent:
    """The post's source bytes, without AWS."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read_version(self, key: str, version_id: str | None) -> bytes:
        """The source, whatever the version asked for."""
        return self._data


def document() -> tuple[bytes, str]:
    """The long post: (source file with front matter, Markdown body)."""
    source = SEED_POST.read_bytes().decode("utf-8").rstrip("\n") + "\n" + TECHNICAL_PART
    _, body, _ = posts.split_front_matter(source)
    return source.encode("utf-8"), body


def blog_render(data: bytes) -> Any:
    """A function that renders the post as a cold container would: new Site, empty caches."""
    key = "posts/long-post.md"
    now = dt.datetime.now(dt.timezone.utc)
    ref = SourceRef(key=key, etag="bench", mtime=model.utc_text(now), size=len(data), version_id="v1")
    post = posts.parse_post(key, data)
    record = ingest.record_of(post, render.render_markdown(post.body), ref, now, rev=1)
    index, content, settings = MemoryIndex(record), MemoryContent(data), config.get_settings()
    links = Links(base_url="https://blog.example")
    return lambda: cold(lambda: Site(index, content, settings).post(links, record.slug).body)  # type: ignore[arg-type]


def cold(make: Any) -> Any:
    """Run `make` with the highlighting cache empty, as for a post this container never rendered."""
    render.highlight.cache_clear()
    return make()


def highlight_all(body: str) -> None:
    """Highlight the document's fenced code blocks, as the blog's renderer does: its share of a render."""
    for language, code in re.findall(r"^```(\w+)\n(.*?)^```", body, re.S | re.M):
        render.highlight(code, language)


def run(world: object = None) -> list[Figure]:
    """Median cold render of the blog against raw mistune and Python-Markdown, interleaved."""
    data, body = document()
    render_page = blog_render(data)
    seed_data = SEED_POST.read_bytes()
    seed_body = posts.body_of(seed_data)
    render_seed = blog_render(seed_data)
    cases = {
        "blog": lambda: seconds(render_page),
        "mistune": lambda: seconds(lambda: mistune.html(body)),
        "markdown": lambda: seconds(lambda: markdown.Markdown(**PELICAN_MARKDOWN).convert(body)),
        "highlighting": lambda: seconds(lambda: cold(lambda: highlight_all(body))),
        "blog_markdown_only": lambda: seconds(lambda: cold(lambda: render.render_markdown(body))),
        "seed_blog": lambda: seconds(render_seed),
        "seed_markdown_only": lambda: seconds(lambda: render.render_markdown(seed_body)),
        "seed_mistune": lambda: seconds(lambda: mistune.html(seed_body)),
    }
    for case in cases.values():
        case()  # first use imports lexers and compiles templates: not part of a render
    samples = {name: median(values) for name, values in interleave(cases, ROUNDS).items()}
    vs_mistune = ratio(samples["blog"], samples["mistune"])
    vs_markdown = ratio(samples["blog"], samples["markdown"])
    data_points = {"median_ms": {name: round(value * 1000, 3) for name, value in samples.items()},
                   "rounds": ROUNDS, "document_bytes": len(data)}
    markdown_only = ratio(samples["blog_markdown_only"], samples["mistune"])
    seed_page = ratio(samples["seed_blog"], samples["seed_mistune"])
    seed_markdown_only = ratio(samples["seed_markdown_only"], samples["seed_mistune"])
    return [
        reported("render.markdown_only_vs_mistune", "Markdown + highlighting + sanitize (no template) vs raw mistune",
             f"{times(markdown_only)} ({ms(samples['blog_markdown_only'])} vs {ms(samples['mistune'])})",
             ratio=round(markdown_only, 3), **data_points),
        reported("render.seed_vs_mistune", "Cold render of the seed post (prose, no code) vs raw mistune",
             f"page {times(seed_page)} ({ms(samples['seed_blog'])} vs {ms(samples['seed_mistune'])}); "
             f"without the template {times(seed_markdown_only)} ({ms(samples['seed_markdown_only'])})",
             ratio=round(seed_page, 3), markdown_only_ratio=round(seed_markdown_only, 3), **data_points),
        judged("render.vs_mistune", "Cold post render vs raw mistune",
               f"{times(vs_mistune)} ({ms(samples['blog'])} vs {ms(samples['mistune'])}; "
               f"Pygments alone {ms(samples['highlighting'])})",
               f"≤ {times(MISTUNE_GOAL)}", vs_mistune <= MISTUNE_GOAL, ratio=round(vs_mistune, 3),
               **data_points),
        judged("render.vs_markdown", "Cold post render vs Python-Markdown (Pelican's settings)",
               f"{times(vs_markdown)} ({ms(samples['blog'])} vs {ms(samples['markdown'])})",
               "< 1.00× (faster)", vs_markdown < 1, ratio=round(vs_markdown, 3), **data_points),
    ]
