"""The S3 notification moto does not send: `ObjectRemoved:DeleteMarkerCreated`, for the local stack.

In a versioned bucket, a DeleteObject without a VersionId adds a delete marker, and real S3
notifies `s3:ObjectRemoved:DeleteMarkerCreated` (which the blog's `s3:ObjectRemoved:*`
notification takes). moto 5.2 sends nothing then, so on the local stack a deleted post would
stay online until the next rebuild. `delete_marker_notifications()` makes moto's S3 send the
event real S3 sends, through moto's own notification code (the bucket's configuration, its
filters, its queues), in the process that runs moto's server. Nothing in what the blog sends
to S3 changes; only the fake S3's answer to it does.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class _DeletedKey:
    """What moto's event writer reads of a key: a delete marker has a name, no size and no ETag."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.size = 0
        self.etag = ""


@contextlib.contextmanager
def delete_marker_notifications() -> Iterator[None]:
    """While inside, moto's S3 notifies `ObjectRemoved:DeleteMarkerCreated` as real S3 does."""
    from moto.s3 import notifications
    from moto.s3.models import S3Backend

    original = S3Backend.delete_object

    def delete_object(self: S3Backend, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        deleted, meta = original(self, bucket_name, key_name, *args, **kwargs)
        version_id = kwargs.get("version_id", args[0] if args else None)
        if version_id is None and meta.get("delete-marker") == "true":
            notifications.send_event(
                self.account_id, notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                self.get_bucket(bucket_name), _DeletedKey(key_name))
        return deleted, meta

    S3Backend.delete_object = delete_object  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Backend.delete_object = original  # type: ignore[method-assign]
