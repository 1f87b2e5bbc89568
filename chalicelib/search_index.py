"""The search index in storage: merging ingest's queue into it, and loading it for queries.

Ingest queues each changed post's search text (model.SearchText) in the same transaction
as the post; the rebuild merges the queue into the stored index; a query reads the
stored index and the queue, so a change is searchable at once.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any

from chalicelib import model, search
from chalicelib.store import SEARCH_ARTIFACT_KEY, ContentStore, PostIndex, dumps
from chalicelib.transitions import Condition, Delete, Update

log = logging.getLogger(__name__)

MAX_QUEUE_READ = 200    # queued texts a query reads; more means the merge is behind (a bulk import)
MAX_MERGE_PER_RUN = 5000


def merge_queue(index: PostIndex, content: ContentStore) -> int:
    """Merge queued search texts into the stored index; return how many were merged."""
    queued = index.search_queue(MAX_MERGE_PER_RUN)
    if not queued:
        return 0
    docs = {d["slug"]: d for d in _read_artifact(content, index).get("docs", [])}
    for text in queued:
        if text.removed:
            docs.pop(text.slug, None)
        else:
            docs[text.slug] = text.document
    artifact = search.build_artifact(list(docs.values()))
    content.write_artifact(SEARCH_ARTIFACT_KEY, artifact)
    site = index.get_site()
    site["search"] = {"key": SEARCH_ARTIFACT_KEY, "hash": hashlib.sha256(dumps(artifact).encode()).hexdigest()[:32],
                      "documents": len(docs)}
    index.put_site({k: v for k, v in site.items() if k not in ("pk", "sk")})
    for text in queued:
        done = Condition("stamp = :stamp", {":stamp": text.stamp})
        write = (Delete(model.text_key(text.slug), done) if text.removed
                 else Update(model.text_key(text.slug), remove=("search_queue",), condition=done))
        try:
            index.commit([write])
        except Exception:  # changed again meanwhile: it stays queued for the next run
            continue
    return len(queued)


def _read_artifact(content: ContentStore, index: PostIndex) -> dict[str, Any]:
    if not (index.get_site().get("search") or {}).get("hash"):
        return {}
    try:
        return content.read_artifact(SEARCH_ARTIFACT_KEY)
    except Exception:
        log.warning("search: stored index unreadable; rebuilding it from the queue")
        return {}


class Searcher:
    """Loads the stored index once per version and overlays the queue on every query."""

    def __init__(self, index: PostIndex, content: ContentStore) -> None:
        self._index = index
        self._content = content
        self._loaded: tuple[str, list[dict[str, Any]]] | None = None

    def documents(self) -> list[dict[str, Any]]:
        """The stored documents with the queued changes applied."""
        digest = (self._index.get_site().get("search") or {}).get("hash")
        if not digest:
            stored: list[dict[str, Any]] = []
        elif self._loaded is not None and self._loaded[0] == digest:
            stored = self._loaded[1]
        else:
            stored = self._content.read_artifact(SEARCH_ARTIFACT_KEY).get("docs", [])
            self._loaded = (digest, stored)
        docs = {d["slug"]: d for d in stored}
        for text in self._index.search_queue(MAX_QUEUE_READ):
            if text.removed:
                docs.pop(text.slug, None)
            else:
                docs[text.slug] = text.document
        return list(docs.values())
