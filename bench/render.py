"""Post render: the blog's whole path against raw mistune and against Python-Markdown as Pelican uses it.

The document is the seed post plus what long technical posts carry: headings (so a
table of contents), code in three languages, a table, lists, quotes, links and images.
The blog's path is Site.post: front matter, Markdown with highlighting, sanitizing, the
template. Storage is in memory: this is CPU only.

Cold (the goals): each sample is the first render in a fresh interpreter (bench/cold.py),
so no parser, formatter, lexer, template or cache is warm, on any side. Warm (reported
beside): a container that has rendered before renders a post it has not cached (a new
Site, the highlighting cache emptied); Python-Markdown both as Pelican uses it (a new
instance per post) and with one instance reused.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import markdown
import mistune

from bench.cold import MemoryContent, MemoryIndex, as_content, as_index
from bench.figures import NO_GOAL, Figure, guarded, judged, ms, reported, times
from bench.timing import interleave, median, ratio, seconds
from bench.world import environment
from blogctl.stage import PROJECT_DIR
from chalicelib import config, highlighting, indexer, model, posts, render
from chalicelib.links import Links
from chalicelib.site import Site
from chalicelib.store import SourceRef

ROUNDS = 40
COLD_ROUNDS = 15  # each sample is a fresh interpreter (about a third of a second)
COLD_CASES = ("blog", "mistune", "markdown")  # bench/cold.py's
COLD_TIMEOUT_SECONDS = 120
MISTUNE_GOAL = 1.5
MISTUNE_GOAL_TEXT = f"≤ {MISTUNE_GOAL:.2f}×"
MARKDOWN_GOAL_TEXT = "< 1.00× (faster)"
VS_MISTUNE = "Cold post render (fresh interpreter) vs raw mistune"
VS_MARKDOWN = "Cold post render (fresh interpreter) vs Python-Markdown (Pelican's settings)"
MARKDOWN_ONLY = "Warm: Markdown + highlighting + sanitize (no template) vs raw mistune"
SEED = "Warm: render of the seed post (prose, no code) vs raw mistune"
WARM_VS_MISTUNE = "Warm container, post not cached: render vs raw mistune"
WARM_VS_MARKDOWN = "Warm container, post not cached: render vs Python-Markdown (Pelican's settings)"
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


def cold_seconds(case: str, document: Path) -> float:
    """CPU seconds of the first render of `case` in a fresh interpreter (bench/cold.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLOG_", "PYTHON"))}
    env.update(environment())
    done = subprocess.run([sys.executable, "-m", "bench.cold", case, str(document)], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, check=True, timeout=COLD_TIMEOUT_SECONDS)
    return float(done.stdout.strip().splitlines()[-1])


def cold_figures() -> list[Figure]:
    """The goals of issue 7, on really cold renders: each sample a fresh interpreter, alternated."""
    data, body = document()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        path = write_document(Path(folder), data, body)
        cases = {case: functools.partial(cold_seconds, case, path) for case in COLD_CASES}
        for case in cases.values():
            case()  # the first run compiles bytecode, as a deployed function has it already
        samples = interleave(cases, COLD_ROUNDS)

    def vs_mistune() -> Figure:
        medians = {name: median(values) for name, values in samples.items()}
        value = ratio(medians["blog"], medians["mistune"])
        return judged("render.vs_mistune", VS_MISTUNE, f"{times(value)} ({ms(medians['blog'])} vs "
                      f"{ms(medians['mistune'])})", MISTUNE_GOAL_TEXT, value <= MISTUNE_GOAL,
                      ratio=round(value, 3), rounds=COLD_ROUNDS, fresh_interpreter=True,
                      median_ms={name: round(v * 1000, 3) for name, v in medians.items()})

    def vs_markdown() -> Figure:
        medians = {name: median(values) for name, values in samples.items()}
        value = ratio(medians["blog"], medians["markdown"])
        return judged("render.vs_markdown", VS_MARKDOWN, f"{times(value)} ({ms(medians['blog'])} vs "
                      f"{ms(medians['markdown'])})", MARKDOWN_GOAL_TEXT, value < 1, ratio=round(value, 3),
                      rounds=COLD_ROUNDS, fresh_interpreter=True,
                      median_ms={name: round(v * 1000, 3) for name, v in medians.items()})

    return [guarded("render.vs_mistune", VS_MISTUNE, MISTUNE_GOAL_TEXT, vs_mistune),
            guarded("render.vs_markdown", VS_MARKDOWN, MARKDOWN_GOAL_TEXT, vs_markdown)]


def warm_figures() -> list[Figure]:
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
        case()  # first use imports lexers and compiles templates: that is the cold figures' part
    samples = interleave(cases, ROUNDS)
    data_points: dict[str, Any] = {"rounds": ROUNDS, "document_bytes": len(data)}

    def medians() -> dict[str, float]:
        found = {name: median(values) for name, values in samples.items()}
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
        return reported("render.warm_vs_mistune", WARM_VS_MISTUNE,
                        f"{times(value)} ({ms(m['blog'])} vs {ms(m['mistune'])}; Pygments alone {ms(m['highlighting'])})",
                        ratio=round(value, 3), **data_points)

    def warm_vs_markdown() -> Figure:
        m = medians()
        new, kept = ratio(m["blog"], m["markdown_new_instance"]), ratio(m["blog"], m["markdown_reused_instance"])
        return reported("render.warm_vs_markdown", WARM_VS_MARKDOWN,
                        f"{times(new)} vs a new instance per post, as Pelican does ({ms(m['markdown_new_instance'])}); "
                        f"{times(kept)} vs one instance reused ({ms(m['markdown_reused_instance'])}); "
                        f"ours {ms(m['blog'])}", ratio=round(new, 3), reused_instance_ratio=round(kept, 3),
                        **data_points)

    return [guarded("render.markdown_only_vs_mistune", MARKDOWN_ONLY, NO_GOAL, markdown_only),
            guarded("render.seed_vs_mistune", SEED, NO_GOAL, seed),
            guarded("render.warm_vs_mistune", WARM_VS_MISTUNE, NO_GOAL, warm_vs_mistune),
            guarded("render.warm_vs_markdown", WARM_VS_MARKDOWN, NO_GOAL, warm_vs_markdown)]


def run(world: object = None) -> list[Figure]:
    """The cold figures (fresh interpreters, the goals), then the warm ones beside them."""
    return [*warm_figures(), *cold_figures()]
