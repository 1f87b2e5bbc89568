"""moto's objects held lean, so the local stack keeps a real archive within a laptop's memory.

At 3,000 posts the stack's moto process held 445 MiB once its state was loaded (measured with
the state loaded in one process, then garbage collected and trimmed). Four things in it hold
nothing the blog needs, and each is dropped here:

- `compressed_s3_values()`: moto keeps each S3 object's bytes in a SpooledTemporaryFile (an
  in-memory buffer below 1 MB). An object's bytes are kept in a `_Blob` instead: zlib'd when
  that saves at least MIN_SAVING (editors' Markdown halves; the rebuild's gzip'd shards do not
  shrink and are kept as they are), and unpacked on each read. -27 MiB at 3,000 posts.
- `dynamo_values_without_dicts()`: every attribute of every DynamoDB item is a moto DynamoType
  (about 125 a post). CPython keeps an instance's attributes in a compact array until its
  `__dict__` is asked for; pickling asks, so every value the state saver wrote, or read back,
  carried a dict of its own. DynamoType gets a `__getstate__`/`__setstate__` that name its two
  attributes instead. -23 MiB at 3,000 posts.
- `untracked_instances()`: moto's BaseModel appends every model instance it ever makes to its
  class's `instances_tracked` list (for moto's reset and dashboard), and never lets go. In a
  server that runs for hours that is a leak of everything ever replaced: at 1,500 posts the
  stack held 13,021 DynamoDB Items no table had (the copies moto and the undo log make on each
  write, every older state of every item) beside the 6,139 live ones, and every FakeKey, ACL
  and grant ever made. Instances are no longer listed; the local stack never resets moto.
- `drop_ec2_data()`: moto's SSM imports moto's EC2, which loads every region's instance-type
  offerings at import: 45 MiB the local stack never reads (it serves no EC2). It cannot be put
  back, so only the stack's own process calls it.

Together: 445 -> 348 MiB at 3,000 posts with the state loaded (tests/test_motomemory.py checks each
by its effect); `untracked_instances()` does not show there (a state just loaded has no history),
only in a stack that has run for a while. Each patch replaces one class attribute, and `restore()`
puts back what each replaced.
Only the local stack (blogctl/localstack.py) installs these, in the process that runs moto's
server; not deployed.
"""
from __future__ import annotations

import threading
import zlib
from typing import Any

MIN_SAVING = 0.1  # keep an object's bytes zlib'd only if that saves a tenth of them
MIN_PACKED_BYTES = 256  # smaller objects are kept as they are: zlib's own header would eat the saving
ZLIB_LEVEL = 1  # the fastest: an upload pays about 50 µs per 10 KB, a read about 20 µs

_lock = threading.Lock()
_ABSENT = object()  # an attribute the class only inherited: restored by deleting ours
_originals: dict[tuple[type, str], Any] = {}  # (class, attribute) -> what our patch replaced there


def _replace(owner: type, name: str, value: Any) -> None:
    """Set `owner.name` to `value`, keeping what was there for `restore()` (once: a second install keeps the first)."""
    with _lock:
        if (owner, name) not in _originals:
            _originals[(owner, name)] = owner.__dict__.get(name, _ABSENT)
            setattr(owner, name, value)


class _Blob:
    """The subset of a file moto's FakeKey uses (seek, read, write, truncate, close), over bytes held packed."""

    __slots__ = ("data", "packed", "size", "position", "closed")

    def __init__(self, value: bytes = b"") -> None:
        self.data, self.packed, self.size, self.position, self.closed = b"", False, 0, 0, False
        self.write(value)

    def seek(self, position: int, whence: int = 0) -> int:
        """Move to `position` from the start (moto only rewinds)."""
        if whence != 0:
            raise ValueError("only seeks from the start are supported")
        self.position = position
        return position

    def truncate(self, size: int | None = None) -> int:
        """Empty the blob (moto truncates at 0 before each write)."""
        if size not in (None, 0):
            raise ValueError("only truncating to empty is supported")
        self.data, self.packed, self.size = b"", False, 0
        return 0

    def write(self, value: bytes) -> int:
        """Replace the contents with `value` (moto writes a whole object at once), packed if that pays."""
        value = bytes(value)
        packed = zlib.compress(value, ZLIB_LEVEL) if len(value) >= MIN_PACKED_BYTES else value
        if len(packed) <= len(value) * (1 - MIN_SAVING):
            self.data, self.packed = packed, True
        else:
            self.data, self.packed = value, False
        self.size = self.position = len(value)
        return len(value)

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (all, if negative) from the current position."""
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if self.position >= self.size:  # the read that ends moto's ETag loop: nothing to unpack
            return b""
        whole = zlib.decompress(self.data) if self.packed else self.data
        end = len(whole) if size is None or size < 0 else self.position + size
        out = whole[self.position:end]
        self.position += len(out)
        return out

    def close(self) -> None:
        """Drop the bytes (moto closes a key's buffer when it disposes of the key)."""
        self.data, self.packed, self.size, self.closed = b"", False, 0, True


def compressed_s3_values() -> None:
    """Keep each S3 object's bytes in a `_Blob`, zlib'd when that pays (idempotent)."""
    from moto.s3.models import FakeKey

    def set_value(self: Any, new_value: bytes | str) -> None:
        if isinstance(new_value, str):  # as moto's own setter
            new_value = new_value.encode("utf-8")
        self._value_buffer = _Blob(new_value)
        self.contentsize = len(new_value)

    _replace(FakeKey, "value", property(FakeKey.__dict__["value"].fget, set_value))


def _getstate(self: Any) -> dict[str, Any]:
    return {"type": self.type, "value": self.value}


def _setstate(self: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():  # setattr keeps CPython's compact attributes; __dict__.update would not
        setattr(self, name, value)


def dynamo_values_without_dicts() -> None:
    """Pickle and unpickle DynamoType by its two attributes, never asking for its `__dict__` (idempotent)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    _replace(DynamoType, "__getstate__", _getstate)
    _replace(DynamoType, "__setstate__", _setstate)


def _new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """BaseModel.__new__ without the listing: as moto's, the arguments are __init__'s."""
    from moto.core.common_models import BaseModel

    return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]  # cls is a BaseModel subclass


def untracked_instances() -> None:
    """Stop moto listing every model instance it makes in `instances_tracked` (idempotent)."""
    from moto.core.common_models import BaseModel

    _replace(BaseModel, "__new__", staticmethod(_new))


def drop_ec2_data() -> None:
    """Free the EC2 instance-type offerings moto loads at import (cannot be undone: the stack's process only)."""
    from moto.ec2.models import instance_types

    instance_types.INSTANCE_TYPE_OFFERINGS.clear()


def install() -> None:
    """The patches that can be undone (`restore()`)."""
    compressed_s3_values()
    dynamo_values_without_dicts()
    untracked_instances()


def restore() -> None:
    """Undo `install()` (tests restore moto as they found it)."""
    with _lock:
        for (owner, name), original in _originals.items():
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        _originals.clear()
