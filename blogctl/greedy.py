"""API Gateway's greedy path parameters for Chalice's local gateway and test client.

app.py routes every path no other route matches to `/{proxy+}`. API Gateway sends such a
path there with `pathParameters.proxy` set to the rest of the path ("a/b/c.html").
Chalice's local router (used by `chalice local` and `chalice.test.Client`) matches
`{proxy+}` as one path segment only, so `/a/b` would get its JSON 403 there. `install()`
teaches it the greedy match; `python -m blogctl.greedy local ...` runs `chalice local`
with it (the local stack does). Not deployed: on AWS, API Gateway does this itself.
"""
from __future__ import annotations

import functools
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse


def _greedy(route: str) -> tuple[str, str] | None:
    """('/prefix', 'name') of a route ending in a greedy parameter `{name+}`, else None."""
    head, _, last = route.rpartition("/")
    if last.startswith("{") and last.endswith("+}"):
        return head, last[1:-2]
    return None


def install() -> None:
    """Make chalice.local.RouteMatcher match `{name+}` routes as API Gateway does (idempotent)."""
    from chalice.local import MatchResult, RouteMatcher

    if getattr(RouteMatcher.match_route, "greedy", False):
        return
    original = RouteMatcher.match_route

    @functools.wraps(original)
    def match_route(self: Any, url: str) -> Any:
        try:
            found = original(self, url)
        except ValueError:
            found = None
        if found is not None and _greedy(found.route) is None:
            return found  # a concrete route, or one with single-segment parameters
        parsed = urlparse(url)
        path = parsed.path if parsed.path == "/" else parsed.path.rstrip("/")
        for route in self.route_urls:
            greedy = _greedy(route)
            if greedy and path.startswith(greedy[0] + "/") and len(path) > len(greedy[0]) + 1:
                query = parse_qs(parsed.query, keep_blank_values=True)
                return MatchResult(route, {greedy[1]: path[len(greedy[0]) + 1:]}, query)
        raise ValueError(f"No matching route found for: {url}")

    match_route.greedy = True  # type: ignore[attr-defined]
    RouteMatcher.match_route = match_route  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    """`chalice <argv>` with greedy routes (e.g. `python -m blogctl.greedy local --port 8000`)."""
    from chalice.cli import main as chalice_main

    install()
    sys.argv = ["chalice", *argv]
    return chalice_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
