"""The blog's own errors; app.py maps each to an HTTP status."""
from __future__ import annotations

import re
from dataclasses import dataclass

# An error message is shown in `blogctl status`, stored on the post's index item and kept in
# the site's rebuild report: one bad upload must never make any of those large.
MAX_PROBLEM_CHARS = 400
MAX_PROBLEMS = 20

# Characters that must not reach a terminal, a log line or an XML document: C0 controls
# (tab and line feed are fine), DEL, lone surrogates and the non-characters U+FFFE/U+FFFF.
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class BlogError(Exception):
    """Base class of every error the blog raises on purpose."""

    status = 500


class BadRequest(BlogError):
    """The request itself is malformed (garbage cursor, absurd parameter)."""

    status = 400


class NotFound(BlogError):
    """Nothing public lives at this address."""

    status = 404


class Gone(BlogError):
    """Something was published here and has been deleted."""

    status = 410


class Moved(BlogError):
    """The content lives at another address now (an alias or a renamed slug)."""

    status = 301

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (an ellipsis marks the cut), unprintable characters escaped."""
    text = text[: limit * 4]  # bound the escaping work before it can grow the text
    text = _UNPRINTABLE_RE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                               else f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a post source, with the line it was found on (1-based, 0 if none).

    The message is cut to MAX_PROBLEM_CHARS, so no input can make an error large.
    """

    message: str
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", bounded(str(self.message), MAX_PROBLEM_CHARS))

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class InvalidPost(BlogError):
    """A post source that cannot be published; `problems` says why, line by line (at most MAX_PROBLEMS)."""

    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS + 1
            problems = [*problems[: MAX_PROBLEMS - 1], Problem(f"… and {more} more problem(s)")]
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class CorruptIndex(BlogError):
    """A stored search index part (manifest, shard, batch, pending entry) cannot be read."""

    status = 500
