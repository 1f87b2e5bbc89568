"""The Jinja2 templates and the one stylesheet, read from the package's files.

Not pure: it reads templates/ and static/ (once per container). Autoescaping is on for every
template; the filters show dates on the author's clock (chalicelib/dates.py). Templates load
from their modules compiled ahead of time when these are up to date (chalicelib/compiled.py).
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib import dates, render
from chalicelib.pages import fingerprint

if TYPE_CHECKING:  # imported on first use: ingest, the rebuild, 304s and the JSON API never load it (cold start)
    import jinja2

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STYLESHEETS = ("style.css", "pygments.css")


@functools.lru_cache(maxsize=1)
def stylesheet() -> tuple[str, str]:
    """(file name with content hash, CSS text) of the site's one stylesheet."""
    css = "\n".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    return f"style.{fingerprint(css)[:12]}.css", css


@functools.lru_cache(maxsize=1)
def template_version() -> str:
    """Changes whenever a template, the stylesheet or the Markdown rendering changes."""
    sources = [(TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in template_names()]
    return fingerprint(render.RENDER_VERSION, stylesheet()[0], *sources)


def template_names() -> list[str]:
    """Every template's name, sorted."""
    return sorted(p.name for p in TEMPLATES_DIR.glob("*.html"))


@functools.lru_cache(maxsize=1)
def environment() -> "jinja2.Environment":
    """The Jinja2 environment: autoescaping on for every template."""
    import jinja2

    from chalicelib.compiled import CompiledLoader

    env = jinja2.Environment(
        loader=CompiledLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["human_date"] = dates.human_date
    env.filters["local_iso"] = dates.local_iso
    env.filters["month_name"] = dates.month_name
    return env


def render_template(name: str, **context: Any) -> str:
    """Render one template with the site-wide context."""
    return environment().get_template(name).render(css_name=stylesheet()[0], **context)


CLOUD_WEIGHTS = 4  # sizes in the tag cloud, weight-1 (fewest posts) to weight-4 (most)


def cloud_weight(count: int, most: int) -> int:
    """A tag's size in the cloud, 1 to CLOUD_WEIGHTS, on a log scale of its count against the largest."""
    if most <= 1 or count <= 1:
        return 1
    return 1 + min(CLOUD_WEIGHTS - 1, int((CLOUD_WEIGHTS - 1) * math.log(count) / math.log(most) + 0.5))
