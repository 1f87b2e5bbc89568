"""Issue 12's availability budgets, proven on the hostile corpus (bench/markdown.py makes it).

Each body goes through ingest's own gate, `render.check_render`, as uploaded (up to what
an upload may hold) and cut to what the markup count lets through (the worst that reaches
the renderer). What must hold, a row of the table each:
- check_render itself is bounded: whatever the body, it answers within MAX_RENDER_SECONDS
  (it refuses by markup count in milliseconds, or stops its render at INGEST_RENDER_SECONDS);
- every body it accepts renders again, as a reader's request would, within MAX_RENDER_SECONDS
  and MAX_RENDERED_BYTES (and MAX_ANSWER_BYTES once escaped for the API);
- the accepted bodies that render largest and slowest, published through ingest
  (indexer.reconcile, on moto), answer their post page and API entry within Lambda's
  response limit (pages.MAX_RESPONSE_BYTES, measured as the Lambda response: the JSON
  envelope with the body escaped in it), and the feeds that hold them stay within
  feeds.MAX_FEED_BYTES, and a cold feed (no body in the cache) costs at most
  feeds.FEED_RENDER_SECONDS plus one body's render.
Times are CPU time with the garbage collector running, as in a Lambda. A body ingest
refuses although the gate accepted it here (a render near INGEST_RENDER_SECONDS can fall
either side) is counted, not published; nothing published, or a figure with nothing
measured, is an error row.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.figures import Figure, failed, judged
from bench.timing import clock
from bench.world import Blog, World
from blogctl.publishing import MARKDOWN_TYPE
from chalicelib import feeds, highlighting, indexer, pages, posts, render
from chalicelib.errors import InvalidPost
from chalicelib.site import now_utc

MIB = 1024 * 1024
# An accepted body's check is a whole render and more (the markup count, the escaped size): only
# bodies whose check took longer than this are rendered again and timed; the others' render is
# counted as their check's time, which is more.
RENDER_AGAIN_SECONDS = render.INGEST_RENDER_SECONDS / 4
LARGEST = 10  # accepted bodies published for their page and API sizes (and the 'large' tag feed)
CONTEXT = render.RenderContext(asset_base="/assets/x", link_base="/b")
FEEDS = {"/feed.xml": "slow", "/tags/large/feed.xml": "large", "/tags/entry/feed.xml": "entry"}  # and what they hold


@dataclass(frozen=True)
class Checked:
    """One body through check_render: its cost there, the verdict, and (if accepted) a reader's render."""

    name: str
    body: str
    check_seconds: float
    refused: str = ""  # the budget check_render named when it refused ('' when accepted)
    render_seconds: float = 0.0  # a second, uncached render, as a reader's request makes it (see RENDER_AGAIN_SECONDS)
    size: int = 0  # the accepted render's bytes
    escaped: int = 0  # its bytes in an API answer inside Lambda's response (render.answer_bytes)

    @property
    def accepted(self) -> bool:
        """Did ingest's gate let it through?"""
        return not self.refused


def cpu_seconds(work: Callable[[], Any]) -> float:
    """CPU seconds of one call of `work`, the garbage collector running as it would in a Lambda."""
    started = clock()
    work()
    return clock() - started


def budget_named(err: InvalidPost) -> str:
    """The budget constant a refusal names."""
    text = str(err)
    return next((name for name in ("MAX_MARKUP_CHARS", "INGEST_RENDER_SECONDS", "MAX_RENDERED_BYTES", "MAX_ANSWER_BYTES") if name in text),
                text[:80])


def check(name: str, body: str) -> Checked:
    """check_render on a cold highlighting cache, timed; an accepted body is rendered again, timed."""
    highlighting.highlight.cache_clear()
    outcome: list[render.Rendered | InvalidPost] = []

    def gate() -> None:
        try:
            outcome.append(render.check_render(body, CONTEXT))
        except InvalidPost as err:
            outcome.append(err)

    check_seconds = cpu_seconds(gate)
    accepted = outcome[0]
    if isinstance(accepted, InvalidPost):
        return Checked(name, body, check_seconds, refused=budget_named(accepted))
    if check_seconds <= RENDER_AGAIN_SECONDS:
        return Checked(name, body, check_seconds, render_seconds=check_seconds, size=accepted.size,
                       escaped=render.answer_bytes(accepted))
    highlighting.highlight.cache_clear()
    again: list[render.Rendered] = []
    render_seconds = cpu_seconds(lambda: again.append(render.render(body, CONTEXT)))
    return Checked(name, body, check_seconds, render_seconds=render_seconds, size=again[0].size,
                   escaped=render.answer_bytes(again[0]))


def check_all(bodies: dict[str, str], cut: dict[str, str]) -> list[Checked]:
    """Every body as uploaded, and (where it differs) cut to the markup cap."""
    found = [check(name, body) for name, body in bodies.items()]
    found += [check(f"{name} (cut)", body) for name, body in cut.items() if body != bodies[name]]
    return found


def gate_figures(checked: list[Checked]) -> list[Figure]:
    """check_render's own worst cost; the worst render and the largest output of what it accepted."""
    found: list[Figure] = []
    refused: dict[str, int] = {}
    for item in checked:
        if item.refused:
            refused[item.refused] = refused.get(item.refused, 0) + 1
    accepted = [c for c in checked if c.accepted]
    check_goal = f"≤ {render.MAX_RENDER_SECONDS:g} s (MAX_RENDER_SECONDS; it stops at INGEST_RENDER_SECONDS)"
    check_label = "Ingest's check_render on the corpus: its own worst CPU time"
    costliest = max(checked, key=lambda c: c.check_seconds, default=None)
    if costliest is None or costliest.check_seconds <= 0:
        found.append(failed("markdown.check_cost", check_label, check_goal, "no body was checked"))
    else:
        verdicts = ", ".join(f"{count} by {why}" for why, count in sorted(refused.items())) or "none"
        found.append(judged(
            "markdown.check_cost", check_label,
            f"{costliest.check_seconds:.2f} s ({costliest.name}, {costliest.refused or 'accepted'}); "
            f"{len(checked)} bodies: {len(accepted)} accepted, refused {verdicts}",
            check_goal, costliest.check_seconds <= render.MAX_RENDER_SECONDS,
            seconds=costliest.check_seconds, body=costliest.name, bodies=len(checked), refused=refused,
            costliest=[(c.name, round(c.check_seconds, 3), c.refused)
                       for c in sorted(checked, key=lambda c: -c.check_seconds)[:10]]))
    render_goal = f"≤ {render.MAX_RENDER_SECONDS:g} s (MAX_RENDER_SECONDS)"
    size_goal = f"≤ {render.MAX_RENDERED_BYTES / MIB:g} MiB (MAX_RENDERED_BYTES)"
    render_label = "Worst render of a body ingest accepted (adversarial and fuzz corpus, CPU)"
    size_label = "Largest rendered body ingest accepted"
    slowest = max(accepted, key=lambda c: c.render_seconds, default=None)
    largest = max(accepted, key=lambda c: c.size, default=None)
    if slowest is None or largest is None or slowest.render_seconds <= 0 or largest.size <= 0:
        return found + [failed("markdown.worst_render", render_label, render_goal, "no body was accepted"),
                        failed("markdown.largest_output", size_label, size_goal, "no body was accepted")]
    found.append(judged(
        "markdown.worst_render", render_label,
        f"{slowest.render_seconds:.2f} s ({slowest.name}; {slowest.check_seconds:.2f} s in check_render); "
        f"{len(accepted)} accepted", render_goal, slowest.render_seconds <= render.MAX_RENDER_SECONDS,
        seconds=slowest.render_seconds, body=slowest.name, accepted=len(accepted),
        slowest=[(c.name, round(c.render_seconds, 3)) for c in sorted(accepted, key=lambda c: -c.render_seconds)[:10]]))
    found.append(judged(
        "markdown.largest_output", size_label, f"{largest.size / MIB:.2f} MiB ({largest.name})",
        size_goal, largest.size <= render.MAX_RENDERED_BYTES, bytes=largest.size, body=largest.name))
    return found


def post_file(number: int, body: str, tags: list[str]) -> bytes:
    """A post of the corpus as an editor uploads it; lower numbers are newer, all in the past."""
    date = (dt.datetime(2020, 1, 1) - dt.timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"---\ntitle: Budget {number:02d}\ndate: {date}\ntags: [{', '.join(tags)}]\n---\n\n{body}".encode()


def lambda_response_bytes(status: int, headers: dict[str, str], body: bytes) -> int:
    """The size of the JSON a Lambda hands API Gateway for this response: the text body escaped in it,
    as the python3.11 runtime writes it (json.dumps with ensure_ascii; awslambdaric's marshaller)."""
    envelope = {"statusCode": status, "headers": headers, "isBase64Encoded": False, "body": body.decode("utf-8")}
    return len(json.dumps(envelope).encode("utf-8"))


@dataclass
class Published:
    """The chosen bodies after ingest."""

    blog: Blog
    slugs: dict[str, str] = field(default_factory=dict)  # corpus name -> slug, of those published
    large: list[str] = field(default_factory=list)  # corpus names of the largest, published or not
    refused: list[str] = field(default_factory=list)  # 'name (the editor's message)'


def publish(world: World, checked: list[Checked]) -> Published:
    """Accepted bodies uploaded to a new blog and reconciled as ingest does: the slowest, as many as
    a feed holds (the newest: the site's feed; tagged 'slow'); the LARGEST largest, as HTML or as
    escaped in an API answer ('large'); and the largest a feed shows whole, up to
    feeds.MAX_ENTRY_HTML_BYTES ('entry': their feed meets MAX_FEED_BYTES)."""
    accepted = [c for c in checked if c.accepted]
    groups = {
        "slow": sorted(accepted, key=lambda c: -c.render_seconds)[:feeds.FEED_SIZE],
        "large": sorted(accepted, key=lambda c: -max(c.size, c.escaped))[:LARGEST],
        "entry": sorted((c for c in accepted if c.size < feeds.MAX_ENTRY_HTML_BYTES), key=lambda c: -c.size)[:feeds.FEED_SIZE],
    }
    chosen = {c.name: c for group in groups.values() for c in group}
    tags = {name: [tag for tag, group in groups.items() if any(c.name == name for c in group)] for name in chosen}
    largest = groups["large"]
    done = Published(world.fresh("budgets"), large=[c.name for c in largest])
    now = now_utc()
    for number, item in enumerate(chosen.values()):
        key = f"{posts.POSTS_PREFIX}budget-{number:02d}{posts.SOURCE_SUFFIX}"
        done.blog.content.put(key, post_file(number, item.body, tags[item.name]), MARKDOWN_TYPE)
        outcome = indexer.reconcile(key, done.blog.index, done.blog.content, now)
        if outcome.action == "published":
            done.slugs[item.name] = outcome.slug
        else:
            done.refused.append(f"{item.name} ({outcome.action}: {outcome.message[:90]})")
    return done


def response_figures(world: World, done: Published) -> list[Figure]:
    """The largest post page and API entry of the largest published bodies; each feed's size and cold time."""
    page_goal = f"≤ {pages.MAX_RESPONSE_BYTES / MIB:g} MiB (pages.MAX_RESPONSE_BYTES)"
    feed_goal = f"≤ {feeds.MAX_FEED_BYTES / MIB:g} MiB (feeds.MAX_FEED_BYTES)"
    page_label = "Largest response for a body ingest accepted: post page, API entry (as Lambda's response)"
    feed_label = "Feeds of the accepted bodies: the slowest 20 (site feed), the largest, the largest a feed shows whole"
    refusals = (f"; refused at ingest although accepted above: {len(done.refused)} ({', '.join(done.refused[:3])})"
                if done.refused else "")
    largest: dict[str, tuple[int, int, str]] = {}  # route -> (Lambda response bytes, body bytes, corpus name)
    feed_notes: list[str] = []
    cold: list[tuple[float, str]] = []  # (CPU seconds, path) of each feed asked for cold
    errors: list[str] = []
    with world.http() as http, done.blog.serving():
        for path in FEEDS:  # first: cold, no body rendered yet (an API container has its own caches)
            highlighting.highlight.cache_clear()
            answer: list[Any] = []
            spent = cpu_seconds(lambda: answer.append(http.get(path)))
            response = answer[0]
            if response.status_code != 200:
                errors.append(f"{path}: {response.status_code}")
                continue
            size = len(response.body)
            cold.append((spent, path))
            feed_notes.append(f"{path} {size / MIB:.2f} MiB, {response.body.count(b'<entry>')} entries "
                              f"({response.body.count(b'Read the whole post on the site.')} summarized), "
                              f"cold {spent:.1f} s CPU")
            if size > largest.get("feed", (0, 0, ""))[1]:
                largest["feed"] = (size, size, path)
        for name in done.large:
            if name not in done.slugs:
                continue
            for route, path in (("post page", f"/posts/{done.slugs[name]}"), ("API entry", f"/api/posts/{done.slugs[name]}")):
                response = http.get(path)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code}")
                    continue
                size = lambda_response_bytes(response.status_code, dict(response.headers), response.body)
                if size > largest.get(route, (0, 0, ""))[0]:
                    largest[route] = (size, len(response.body), name)
    found: list[Figure] = []
    if errors or "post page" not in largest or "API entry" not in largest:
        found.append(failed("markdown.largest_response", page_label, page_goal,
                            "; ".join(errors[:3]) or "none of the largest bodies was published" + refusals))
    else:
        worst = max(largest["post page"][0], largest["API entry"][0])
        found.append(judged(
            "markdown.largest_response", page_label,
            "; ".join(f"{route} {size / MIB:.2f} MiB (body {body / MIB:.2f} MiB, {name})"
                      for route, (size, body, name) in largest.items() if route != "feed") + refusals,
            page_goal, worst <= pages.MAX_RESPONSE_BYTES,
            largest={route: list(value) for route, value in largest.items()}, refused=done.refused))
    if errors or "feed" not in largest:
        found.append(failed("markdown.largest_feed", feed_label, feed_goal, "; ".join(errors[:3]) or "no feed"))
    else:
        found.append(judged("markdown.largest_feed", feed_label, "; ".join(feed_notes), feed_goal,
                            largest["feed"][0] <= feeds.MAX_FEED_BYTES, feeds=feed_notes))
    cold_label = "Cold feed of the accepted bodies: CPU of the slowest (no body in the cache)"
    cold_limit = feeds.FEED_RENDER_SECONDS + render.MAX_RENDER_SECONDS
    cold_goal = f"≤ {cold_limit:g} s (feeds.FEED_RENDER_SECONDS + render.MAX_RENDER_SECONDS)"
    if not cold or min(cold)[0] <= 0:
        found.append(failed("markdown.cold_feed", cold_label, cold_goal, "; ".join(errors[:3]) or "no feed measured"))
    else:
        spent, path = max(cold)
        found.append(judged("markdown.cold_feed", cold_label, f"{spent:.2f} s ({path})", cold_goal,
                            spent <= cold_limit, seconds=spent))
    return found


def run(world: World, bodies: dict[str, str], cut: dict[str, str]) -> list[Figure]:
    """The gate's figures and the responses' figures for this corpus."""
    checked = check_all(bodies, cut)
    return gate_figures(checked) + response_figures(world, publish(world, checked))
