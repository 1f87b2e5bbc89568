"""The blog's own errors; app.py maps each to an HTTP status."""
from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a post source, with the line it was found on (1-based, 0 if none)."""

    message: str
    line: int = 0

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class InvalidPost(BlogError):
    """A post source that cannot be published; `problems` says why, line by line."""

    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class CorruptIndex(BlogError):
    """A stored search index part (manifest, shard, batch, pending entry) cannot be read."""

    status = 500
