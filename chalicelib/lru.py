"""A small least-recently-used cache: rendered pages and bodies, per Lambda container."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """A small least-recently-used cache (rendered pages and bodies, per Lambda container)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[str, V] = OrderedDict()

    def get_or_make(self, key: str, make: Callable[[], V]) -> V:
        """The cached value for `key`, made and stored on a miss."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = make()
        self._data[key] = value
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()
