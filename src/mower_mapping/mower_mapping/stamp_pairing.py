"""Pairing two message streams by exact time stamp (labels and their confidence), ROS-free.

segmentation_node publishes a label image and its confidence image with the camera image's
header, one after the other, each stream in stamp order; mapping_node receives them on two
subscriptions, the two streams interleaved in any order, and a best-effort transport may lose
either. :class:`StampPairer` keeps a few unpaired items of
each stream and hands out a pair as soon as both halves of a stamp are there. A label image
whose confidence cannot come any more (a newer confidence arrived, or more than ``depth``
label images wait) is handed out alone, so that mapping never stops on a lost or missing
confidence stream; a confidence whose labels cannot come any more is dropped. Both are counted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

A = TypeVar('A')
B = TypeVar('B')


class StampPairer(Generic[A, B]):
    """Exact-stamp pairing of a first stream (labels) with a second (confidence)."""

    def __init__(self, depth: int = 5) -> None:
        """Keep at most ``depth`` unpaired items of each stream."""
        if depth < 1:
            raise ValueError(f'depth = {depth}: at least 1 item must be kept')
        self.depth = depth
        self._first: OrderedDict[int, A] = OrderedDict()
        self._second: OrderedDict[int, B] = OrderedDict()
        self.paired = 0  # pairs handed out
        self.unpaired = 0  # first items handed out alone
        self.dropped = 0  # second items that never met their first

    def add_first(self, stamp_ns: int, item: A) -> list[tuple[int, A, B | None]]:
        """Add a first-stream item; returns what is ready, oldest first."""
        if stamp_ns in self._second:
            self._drop_second_before(stamp_ns)
            self.paired += 1
            return [(stamp_ns, item, self._second.pop(stamp_ns))]
        self._drop_second_before(stamp_ns)
        self._first[stamp_ns] = item
        out = []
        while len(self._first) > self.depth:
            out.append(self._release_oldest_first())
        return out

    def add_second(self, stamp_ns: int, item: B) -> list[tuple[int, A, B | None]]:
        """Add a second-stream item; returns what is ready, oldest first.

        First items older than this stamp will not get their pair any more (the second stream
        comes in stamp order): they are handed out alone, before the pair.
        """
        out = []
        while self._first and next(iter(self._first)) < stamp_ns:
            out.append(self._release_oldest_first())
        if stamp_ns in self._first:
            self.paired += 1
            out.append((stamp_ns, self._first.pop(stamp_ns), item))
            return out
        self._second[stamp_ns] = item
        while len(self._second) > self.depth:
            self._second.popitem(last=False)
            self.dropped += 1
        return out

    def _release_oldest_first(self) -> tuple[int, A, None]:
        stamp, item = self._first.popitem(last=False)
        self.unpaired += 1
        return stamp, item, None

    def _drop_second_before(self, stamp_ns: int) -> None:
        while self._second and next(iter(self._second)) < stamp_ns:
            self._second.popitem(last=False)
            self.dropped += 1
