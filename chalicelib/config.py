"""Settings, read from environment variables once per process.

Each stage of `.chalice/config.json` sets the BLOG_* variables; `AWS_ENDPOINT_URL`
points every client at a local stack (moto) instead of AWS.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from chalicelib import cdn

DEFAULT_TITLE = "The Blog"
# The dev stage's queue and the rebuild's rate when the environment does not say: app.py wires
# the queue trigger and the schedule from these, and the tools read them from here too.
DEFAULT_QUEUE = "serverless-blog-dev-uploads"
DEFAULT_REBUILD_MINUTES = 10


@dataclass(frozen=True)
class Settings:
    """Everything the deployed code needs to know about its stage."""

    bucket: str
    table: str
    queue: str
    title: str = DEFAULT_TITLE
    site_url: str = ""
    description: str = ""
    region: str = "us-east-1"
    endpoint_url: str | None = None
    rebuild_minutes: int = DEFAULT_REBUILD_MINUTES
    cdn_distribution: str = ""  # the CloudFront distribution in front, whose paths ingest invalidates

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """Build settings from a mapping of environment variables (os.environ by default)."""
        env = dict(os.environ if env is None else env)
        return cls(
            bucket=env.get("BLOG_BUCKET", "serverless-blog-dev-content"),
            table=env.get("BLOG_TABLE", "serverless-blog-dev-index"),
            queue=env.get("BLOG_QUEUE", DEFAULT_QUEUE),
            title=env.get("BLOG_TITLE") or DEFAULT_TITLE,
            site_url=env.get("BLOG_SITE_URL", "").rstrip("/"),
            description=env.get("BLOG_DESCRIPTION", ""),
            region=(
                env.get("AWS_REGION")
                or env.get("AWS_DEFAULT_REGION")
                or env.get("BLOG_REGION")
                or "us-east-1"
            ),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            rebuild_minutes=int(env.get("BLOG_REBUILD_MINUTES") or DEFAULT_REBUILD_MINUTES),
            cdn_distribution=env.get(cdn.DISTRIBUTION_VARIABLE, ""),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read lazily on first use."""
    return Settings.from_env()


def reset() -> None:
    """Forget the cached settings (tests and tools that switch stages call this)."""
    get_settings.cache_clear()
