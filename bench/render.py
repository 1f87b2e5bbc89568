"""Post render: the blog's whole path against raw mistune and against Python-Markdown as Pelican uses it.

The document is the seed post plus what long technical posts carry: headings (so a
table of contents), code in three languages, a table, lists, quotes, links and images.
The blog's path is Site.post: front matter, Markdown with highlighting, sanitizing, the
template. Storage is in memory: this is CPU only. No goals here, only what the render
costs beside its references:

Warm: a container that has rendered before renders a post it has not cached (a new Site,
the highlighting cache emptied), against raw mistune, and against Python-Markdown both as
Pelican uses it (a new instance per post) and with one instance reused. Cold: the first
render in a fresh interpreter (bench/cold.py) after `import app`, against Python-Markdown's
first render after `import markdown`. The cold view as a whole (imports and first page,
against `import boto3` and raw mistune) is judged in bench/startup.py.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import markdown
import mistune

from bench import cold
from bench.cold import MemoryContent, MemoryIndex, as_content, as_index
from bench.figures import NO_GOAL, Figure, guarded, ms, reported, times
from bench.timing import interleave, median, ratio, seconds
from blogctl.stage import PROJECT_DIR
from chalicelib import config, highlighting, indexer, model, posts, render
from chalicelib.links import Links
from chalicelib.site import Site
from chalicelib.store import SourceRef

ROUNDS = 40
COLD_ROUNDS = 10  # each sample is a fresh interpreter (about a third of a second)
COLD_CASES = ("blog", "markdown")  # bench/cold.py's
MARKDOWN_ONLY = "Warm: Markdown + highlighting + sanitize (no template) vs raw mistune"
SEED = "Warm: render of the seed post (prose, no code) vs raw mistune"
WARM_VS_MISTUNE = "Warm container, post not cached: render vs raw mistune"
VS_MARKDOWN = "Post render vs Python-Markdown (Pelican's settings), cold and warm"
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


def document() -> tuple[bytes, str]:
    """The long post: (source file with front matter, Markdown body)."""
    source = SEED_POST.read_bytes().decode("utf-8").rstrip("\n") + "\n" + TECHNICAL_PART
    _, body, _ = posts.split_front_matter(source)
    return source.encode("utf-8"), body


def post_item(data: bytes) -> dict[str, Any]:
    """The index item ingest writes for the post file `data`."""
    key = "posts/long-post.md"
    now = dt.datetime.now(dt.timezone.utc)
    ref = SourceRef(key=key, etag="bench", mtime=model.utc_text(now), size=len(data), version_id="v1")
    post = posts.parse_post(key, data)
    return indexer.record_of(post, render.render_markdown(post.body), ref, now, rev=1).to_item()


def blog_render(data: bytes) -> Any:
    """A function that renders the post as a warm container renders a post it has not cached: new Site."""
    item = post_item(data)
    index, content, settings = as_index(MemoryIndex(item)), as_content(MemoryContent(data)), config.get_settings()
    links = Links(base_url="https://blog.example")
    return lambda: uncached(lambda: Site(index, content, settings).post(links, item["slug"]).body)


def uncached(make: Any) -> Any:
    """Run `make` with the highlighting cache empty, as for a post this container never rendered."""
    highlighting.highlight.cache_clear()
    return make()


def highlight_all(body: str) -> None:
    """Highlight the document's fenced code blocks, as the blog's renderer does: its share of a render."""
    for language, code in re.findall(r"^```(\w+)\n(.*?)^```", body, re.S | re.M):
        highlighting.highlight(code, language)


def write_document(folder: Path, data: bytes, body: str) -> Path:
    """The long post as bench/cold.py reads it: its body, source, index item and Pelican's settings."""
    item = post_item(data)
    path = folder / "document.json"
    path.write_text(json.dumps({"body": body, "source": data.decode("utf-8"), "item": item,
                                "pelican": PELICAN_MARKDOWN}), encoding="utf-8")
    return path


def cold_samples() -> dict[str, list[cold.Sample]]:
    """First renders in fresh interpreters, alternated: the blog's after `import app`, Python-Markdown's
    after `import markdown` (bench/cold.py)."""
    data, body = document()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        return cold.samples(COLD_CASES, write_document(Path(folder), data, body), COLD_ROUNDS)


def warm_samples() -> dict[str, list[float]]:
    """Renders in a container that has rendered before (parser, formatter, templates made), the post not cached."""
    data, body = document()
    render_page = blog_render(data)
    seed_data = SEED_POST.read_bytes()
    seed_body = posts.body_of(seed_data)
    render_seed = blog_render(seed_data)
    reused = markdown.Markdown(**PELICAN_MARKDOWN)
    cases = {
        "blog": lambda: seconds(render_page),
        "mistune": lambda: seconds(lambda: mistune.html(body)),
        "markdown_new_instance": lambda: seconds(lambda: markdown.Markdown(**PELICAN_MARKDOWN).convert(body)),
        "markdown_reused_instance": lambda: seconds(lambda: reused.reset().convert(body)),
        "highlighting": lambda: seconds(lambda: uncached(lambda: highlight_all(body))),
        "blog_markdown_only": lambda: seconds(lambda: uncached(lambda: render.render_markdown(body))),
        "seed_blog": lambda: seconds(render_seed),
        "seed_markdown_only": lambda: seconds(lambda: render.render_markdown(seed_body)),
        "seed_mistune": lambda: seconds(lambda: mistune.html(seed_body)),
    }
    for case in cases.values():
        case()  # first use imports lexers and compiles templates: that is the cold figure's part
    return interleave(cases, ROUNDS)


def figures_of(warm: dict[str, list[float]], cold_found: dict[str, list[cold.Sample]]) -> list[Figure]:
    """The rows: warm renders against raw mistune, and the render against Python-Markdown, cold and warm."""
    data_points: dict[str, Any] = {"rounds": ROUNDS, "document_bytes": len(document()[0])}

    def medians() -> dict[str, float]:
        found = {name: median(values) for name, values in warm.items()}
        data_points["median_ms"] = {name: round(value * 1000, 3) for name, value in found.items()}
        return found

    def markdown_only() -> Figure:
        m = medians()
        value = ratio(m["blog_markdown_only"], m["mistune"])
        return reported("render.markdown_only_vs_mistune", MARKDOWN_ONLY,
                        f"{times(value)} ({ms(m['blog_markdown_only'])} vs {ms(m['mistune'])})",
                        ratio=round(value, 3), **data_points)

    def seed() -> Figure:
        m = medians()
        page, markdown_only = ratio(m["seed_blog"], m["seed_mistune"]), ratio(m["seed_markdown_only"], m["seed_mistune"])
        return reported("render.seed_vs_mistune", SEED,
                        f"page {times(page)} ({ms(m['seed_blog'])} vs {ms(m['seed_mistune'])}); "
                        f"without the template {times(markdown_only)} ({ms(m['seed_markdown_only'])})",
                        ratio=round(page, 3), markdown_only_ratio=round(markdown_only, 3), **data_points)

    def warm_vs_mistune() -> Figure:
        m = medians()
        value = ratio(m["blog"], m["mistune"])
        ratio(m["highlighting"], m["mistune"])  # shown beside: must be a measurement too
        return reported("render.warm_vs_mistune", WARM_VS_MISTUNE,
                        f"{times(value)} ({ms(m['blog'])} vs {ms(m['mistune'])}; Pygments alone {ms(m['highlighting'])})",
                        ratio=round(value, 3), **data_points)

    def vs_markdown() -> Figure:
        m = medians()
        first = {case: median([s["render"] for s in runs]) for case, runs in cold_found.items()}
        cold_ratio = ratio(first["blog"], first["markdown"])
        new, kept = ratio(m["blog"], m["markdown_new_instance"]), ratio(m["blog"], m["markdown_reused_instance"])
        return reported("render.vs_markdown", VS_MARKDOWN,
                        f"first render in a fresh interpreter {times(cold_ratio)} ({ms(first['blog'])} after "
                        f"import app vs {ms(first['markdown'])} after import markdown); warm {times(new)} vs a new "
                        f"instance per post, as Pelican does ({ms(m['blog'])} vs {ms(m['markdown_new_instance'])}), "
                        f"{times(kept)} vs one instance reused ({ms(m['markdown_reused_instance'])})",
                        ratio=round(cold_ratio, 3), warm_ratio=round(new, 3), reused_instance_ratio=round(kept, 3),
                        cold_rounds=COLD_ROUNDS, cold_median_ms={c: round(v * 1000, 1) for c, v in first.items()},
                        **data_points)

    return [guarded("render.markdown_only_vs_mistune", MARKDOWN_ONLY, NO_GOAL, markdown_only),
            guarded("render.seed_vs_mistune", SEED, NO_GOAL, seed),
            guarded("render.warm_vs_mistune", WARM_VS_MISTUNE, NO_GOAL, warm_vs_mistune),
            guarded("render.vs_markdown", VS_MARKDOWN, NO_GOAL, vs_markdown)]


def run(world: object = None) -> list[Figure]:
    """Warm renders (in this process), then first renders (fresh interpreters); all reported, no goal."""
    return figures_of(warm_samples(), cold_samples())
