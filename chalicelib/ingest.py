"""Ingest: the upload queue's handler. S3's event notifications name keys; the indexer
(chalicelib/indexer.py) makes the index match each one.

A message fails alone: one that is no S3 event goes to the dead-letter queue after its
retries, one whose key could not be indexed comes back; the rest of its batch succeeds.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from chalicelib import indexer
from chalicelib.indexer import Outcome
from chalicelib.store import ContentStore, PostIndex

log = logging.getLogger(__name__)


class IngestFailed(Exception):
    """Some messages of a batch could not be handled; the queue will deliver them again."""


@dataclass(frozen=True)
class Message:
    """One queue message: its id (for the queue) and the keys its S3 event names."""

    id: str
    keys: tuple[str, ...]
    readable: bool = True


def keys_from_message(body: str) -> list[str]:
    """The object keys an S3 event notification (an SQS message body) names."""
    return list(parse_message("", body).keys)


def parse_message(message_id: str, body: str) -> Message:
    """A queue message's keys; `readable` is False for a body that is no S3 event at all."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        return Message(message_id, (), readable=False)
    if not isinstance(message, dict):
        return Message(message_id, (), readable=False)
    if message.get("Event") == "s3:TestEvent":
        return Message(message_id, ())
    records = message.get("Records")
    if not isinstance(records, list):
        return Message(message_id, (), readable=False)
    keys = []
    for record in records:
        s3 = record.get("s3", {}) if isinstance(record, dict) else {}
        raw_key = s3.get("object", {}).get("key") if isinstance(s3, dict) else None
        if isinstance(raw_key, str) and raw_key:
            keys.append(unquote_plus(raw_key))  # S3 URL-encodes keys, '+' for space
    return Message(message_id, tuple(keys))


def handle_messages(messages: Iterable[Message], index: PostIndex, content: ContentStore,
                    now: dt.datetime) -> tuple[list[Outcome], list[str]]:
    """Reconcile every key a batch names; return the outcomes and the ids of messages that failed.

    A message fails when it is no S3 event (it goes to the dead-letter queue after its
    retries) or when one of its keys could not be reconciled; the others succeed alone.
    """
    batch = list(messages)
    outcomes: dict[str, Outcome] = {}
    failed_keys: set[str] = set()
    for key in dict.fromkeys(k for m in batch for k in m.keys):
        for found in _reconcile_logged(key, index, content, now, failed_keys):
            outcomes.setdefault(found.key, found)
    failed = [m.id for m in batch if not m.readable or failed_keys & set(m.keys)]
    for message in batch:
        if not message.readable:
            log.warning(json.dumps({"event": "ingest", "message_id": message.id,
                                    "action": "failed", "message": "not an S3 event notification"}))
    return list(outcomes.values()), failed


def _reconcile_logged(key: str, index: PostIndex, content: ContentStore, now: dt.datetime,
                      failed: set[str]) -> list[Outcome]:
    """Reconcile a key, then any source waiting for a slug it freed; log each outcome."""
    done: list[Outcome] = []
    queue = [key]
    while queue:
        current = queue.pop(0)
        try:
            outcome = indexer.reconcile(current, index, content, now)
        except Exception:  # one bad key must not stop the rest of the batch
            log.exception("ingest of %s failed", current)
            failed.add(current)
            continue
        log.info(outcome.as_log())
        done.append(outcome)
        queue += [k for k in outcome.recheck if k not in {o.key for o in done} and k not in queue]
    return done


