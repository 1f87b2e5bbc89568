"""The blog on AWS Chalice: public routes, the upload handler and the scheduled rebuild.

Thin by design: read the request, call chalicelib, turn its Page or error into a
Response. Everything else lives in chalicelib/.
"""
from __future__ import annotations

import gc

# The imports below make objects that live as long as the container: collecting while they are
# made only walks them again and again (about 10 ms of a cold start). Frozen at the end of this module.
_COLLECTING = gc.isenabled()
gc.disable()

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent

from chalicelib import pages, security, services
from chalicelib.config import Settings, get_settings
from chalicelib.errors import BlogError, Moved
from chalicelib.links import Links, links_for
from chalicelib.site import ASSET_TYPES

app = Chalice(app_name="serverless-blog")
app.log.setLevel(logging.INFO)
# Ingest and rebuild log one JSON line per key and per run: the editors' error trail.
logging.getLogger("chalicelib").setLevel(logging.INFO)
# Assets are bytes; API Gateway passes these types through unencoded (never text/css).
app.api.binary_types.extend(sorted(set(ASSET_TYPES.values()) - set(app.api.binary_types)))

# Read at import: `chalice deploy/package` wires the queue and the schedule from them.
UPLOAD_QUEUE = Settings.from_env().queue
REBUILD_MINUTES = Settings.from_env().rebuild_minutes


def request() -> Request:
    """The request being answered (Chalice sets it before it calls a view)."""
    current = app.current_request
    if current is None:
        raise RuntimeError("no request is being answered")
    return current


def links() -> Links:
    """How to write URLs for the current request: from the settings or API Gateway, never a header."""
    context = request().context or {}
    return links_for(get_settings().site_url, context.get("domainName"), context.get("stage"))


def param(name: str) -> str | None:
    """One query string parameter, or None."""
    params = request().query_params
    value = params.get(name) if params else None
    return value if isinstance(value, str) else None


def respond(page: pages.Page) -> Response:
    """A Page as a Response; 304 when the client already has this version; no body for HEAD."""
    headers: dict[str, str | list[str]] = dict(page.response_headers())
    if page.status == 200 and page.matches(request().headers.get("if-none-match")):
        headers.pop("Content-Type", None)
        return Response(body="", status_code=304, headers=headers)
    if request().method == "HEAD":  # link checkers, uptime monitors: the headers of a GET
        return Response(body="", status_code=page.status, headers=headers)
    return Response(body=page.body, status_code=page.status, headers=headers)


View = Callable[..., pages.Page]
Handler = Callable[..., Response]


def route(path: str, api: bool = False, exact: bool = True) -> Callable[[View], Handler]:
    """Register a GET (and HEAD) route whose errors become the site's error pages (JSON for the API)."""
    def register(view: View) -> Handler:
        @functools.wraps(view)
        def handler(**params: str) -> Response:
            # Path parameters may arrive percent-encoded (chalice local, some API Gateway
            # paths) or decoded; slugs never contain '%', so decoding is always safe.
            params = {name: unquote(value) for name, value in params.items()}
            try:
                slash = exact and _with_trailing_slash()
                page = view(**params)
                if slash:  # `/tags/x/` is `/tags/x` spelled otherwise: one canonical URL per page
                    raise Moved(slash)
                return respond(page)
            except Moved as moved:
                return Response(body="", status_code=301, headers={
                    "Location": links().path(moved.location), "Cache-Control": pages.PAGE_CACHE})
            except BlogError as err:
                return error_response(err.status, str(err), api)
            except Exception:
                app.log.exception("unhandled error on %s", request().path)
                return error_response(500, "The blog could not answer this request. Try again soon.", api)
        app.route(path, methods=["GET", "HEAD"])(handler)
        return handler
    return register


def _with_trailing_slash() -> str | None:
    """The path without its trailing slash, when it has one (the view's own redirect, if any, wins)."""
    context = request().context or {}
    path = context.get("path") or ""
    stage = context.get("stage")
    if stage and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1:]
    return (path.rstrip("/") or "/") if len(path) > 1 and path.endswith("/") else None


def error_response(status: int, message: str, api: bool) -> Response:
    """An error in the site's look (or as JSON for the API); never a stack trace."""
    if api:
        return Response(body={"error": message}, status_code=status, headers={"Cache-Control": pages.NO_STORE})
    try:
        return respond(services.site().error_page(links(), status, message))
    except Exception:
        app.log.exception("the error page itself failed")
        return Response(body=message, status_code=status, headers={"Content-Type": "text/plain; charset=utf-8"})


@app.middleware("http")
def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every response carries the security headers (a route may tighten the CSP)."""
    response = get_response(event)
    for name, value in security.security_headers(get_settings().endpoint_url).items():
        response.headers.setdefault(name, value)
    return response


@route("/")
def home() -> pages.Page:
    return services.site().home(links(), param("cursor"), param("before"), param("page"))


@route("/posts/{slug}")
def post(slug: str) -> pages.Page:
    return services.site().post(links(), slug)


@route("/tags")
def tags() -> pages.Page:
    return services.site().tags(links())


@route("/tags/{tag}")
def tag(tag: str) -> pages.Page:
    return services.site().tag(links(), tag, param("cursor"), param("before"), param("page"))


@route("/tags/{tag}/feed.xml")
def tag_feed(tag: str) -> pages.Page:
    return services.site().feed(links(), tag)


@route("/authors/{author}")
def author(author: str) -> pages.Page:
    return services.site().author(links(), author, param("cursor"), param("before"), param("page"))


@route("/authors/{author}/feed.xml")
def author_feed(author: str) -> pages.Page:
    return services.site().feed(links(), author=author)


@route("/archive")
def archive() -> pages.Page:
    return services.site().archive(links())


@route("/archive/{year}/{month}")
def archive_month(year: str, month: str) -> pages.Page:
    return services.site().archive_month(links(), year, month, param("cursor"), param("before"), param("page"))


@route("/search")
def search() -> pages.Page:
    return services.site().search(links(), param("q"))


@route("/feed.xml")
def feed() -> pages.Page:
    return services.site().feed(links())


@route("/sitemap.xml")
def sitemap() -> pages.Page:
    return services.site().sitemap(links())


@route("/sitemaps/{name}")
def sitemap_file(name: str) -> pages.Page:
    return services.site().sitemap_file(links(), name)


@route("/robots.txt")
def robots() -> pages.Page:
    return services.site().robots(links())


@route("/api/posts", api=True)
def api_posts() -> pages.Page:
    return services.site().api_posts(links(), param("cursor"), param("limit"))


@route("/api/posts/{slug}", api=True)
def api_post(slug: str) -> pages.Page:
    return services.site().api_post(links(), slug)


@route("/static/{name}")
def static(name: str) -> pages.Page:
    return services.site().stylesheet(name)


@route("/assets/{slug}/{name}")
def asset(slug: str, name: str) -> pages.Page:
    return services.site().asset(slug, name)


@route("/preview/{slug}/{token}")
def preview(slug: str, token: str) -> pages.Page:
    """A draft or scheduled post for whoever holds a signed, expiring link (`blogctl preview`)."""
    return services.site().preview(links(), slug, token)


@route("/preview/{slug}/{token}/{name}")
def preview_asset(slug: str, token: str, name: str) -> pages.Page:
    return services.site().preview_asset(slug, token, name)


@route("/{proxy+}", exact=False)  # elsewhere() forgives every spelling in one redirect
def elsewhere() -> pages.Page:
    """Every path no other route matches: a forgiven spelling or an old URL (301), else the 404 page."""
    rest = (request().uri_params or {}).get("proxy") or ""
    return services.site().elsewhere("/" + unquote(rest))


@app.on_sqs_message(queue=UPLOAD_QUEUE, batch_size=10)
def ingest_uploads(event: SQSEvent) -> None:
    """S3 notifications of uploads and deletions, through the queue: reconcile each key.

    A message that fails (no S3 event, or a key that could not be reconciled) must not
    take the rest of its batch with it: the others are deleted here, then the failure is
    raised so that Lambda returns only the failed ones to the queue (and, after their
    retries, to the dead-letter queue).
    """
    from chalicelib import ingest  # the upload flow: a post view's cold start never loads it

    records = list(event)
    messages = [ingest.parse_message(r.receipt_handle, r.body) for r in records]
    failed = set(services.ingest_messages(messages))
    if failed:
        services.acknowledge(records[0].to_dict()["eventSourceARN"],
                             [r.receipt_handle for r in records if r.receipt_handle not in failed])
        raise ingest.IngestFailed(f"{len(failed)} of {len(records)} message(s) failed; they will be retried")


@app.schedule(Rate(REBUILD_MINUTES, unit=Rate.MINUTES))
def rebuild_index(event: CloudWatchEvent) -> None:
    """Repair missed events, publish scheduled posts, refresh tags, archive and search."""
    services.run_rebuild()


# Everything made so far (the modules, boto3's and Chalice's objects) lives as long as the
# function's container. Frozen, the cyclic collector's full passes no longer walk it: the first
# one came during a cold start's first page (about 15 ms), and each later one cost as much.
# (The few hundred objects the imports left unreachable are frozen too: a few kilobytes.)
gc.freeze()
if _COLLECTING:
    gc.enable()
