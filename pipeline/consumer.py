"""Faust's Kafka consumer, fixed so that it never skips a message of the pipeline's topics.

Faust's fetch loop can lose records it has fetched:

* it drops them when their partition is paused by a rebalance while the fetch is under way,
  or when the consumer generation changes while they are delivered. The Kafka client's
  position has moved past them; the seek to committed offsets at the end of the rebalance
  is meant to bring them back, but it skips partitions with no committed offset yet (aiokafka
  seeks only to offsets > 0): a worker joining a group before its first commit never saw
  them (the "worker join stall");
* a record fetched before that seek but handled after it moves Faust's read offset past the
  seek position, so the records read again from there are dropped as already seen;
* when a record arrives past a hole, Faust takes the hole for offsets a compacted topic or a
  transaction marker left out and counts them as processed: the next commit goes past
  messages that were never processed, and a crash loses them for good.

:class:`SeekingConsumer` seeks partitions without a committed offset to their beginning (the
pipeline's reset policy is ``earliest``), undoes a read offset moved by a record from before
the seek, and on the raw and pours topics — neither compacted nor transactional, so a hole
in their offsets always means dropped records — seeks back to the first missing offset
instead of skipping it, and never counts a hole as processed. Reading a record again is safe
downstream: the bucket stage skips pours it has already applied (:mod:`pipeline.bucket_stage`).
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

#: seeks back to the same missing offset before a hole is accepted (a broker that cannot
#: serve a fetch from inside a batch, as the embedded one, would otherwise never progress)
MAX_REWINDS = 3


class SeekingConsumer(faust_aiokafka.Consumer):
    """The aiokafka-driver consumer that reads the pipeline's topics without holes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seek_epoch = 0
        self._read_offsets_at_seek: dict[TP, int | None] = {}
        #: per stream partition, the offset the next record must have (when known)
        self._next_offsets: dict[TP, int] = {}
        self._rewinds: dict[TP, tuple[int, int]] = {}

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        fresh = [tp for tp, offset in committed.items()
                 if not (offset and offset > 0) and not self._is_changelog_tp(tp)]
        if fresh:
            await self._thread.seek_to_beginning(*fresh)
        return committed

    async def perform_seek(self) -> None:
        await super().perform_seek()
        self._seek_epoch += 1
        self._read_offsets_at_seek = dict(self._read_offset)
        self._next_offsets = {tp: offset for tp, offset in self._read_offset.items()
                              if offset is not None and not self._is_changelog_tp(tp)}
        self._rewinds.clear()

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        if self._is_changelog_tp(tp):  # compacted: holes are normal there
            await super()._add_gap(tp, offset_from, offset_to)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        epoch: int | None = None  # of the seek the fetch came after
        rewind: dict[TP, int] = {}
        async for tp, message in super().getmany(timeout):
            if epoch is None:
                epoch = self._seek_epoch
            elif self._seek_epoch != epoch:
                return  # fetched before the latest seek: read again from there
            if tp in rewind:
                continue
            expected = self._next_offsets.get(tp)
            if expected is not None and message.offset > expected:
                if self._should_rewind(tp, expected):
                    rewind[tp] = expected
                    continue
                self.log.error("offsets %d to %d of %s could not be read again: skipped",
                               expected, message.offset - 1, tp)
                await super()._add_gap(tp, expected, message.offset)
            yield tp, message
            if self._seek_epoch != epoch:
                # handled after the seek: the fetch loop moved the read offset past it
                self._read_offset[tp] = self._read_offsets_at_seek.get(tp)
                return
            self._next_offsets[tp] = message.offset + 1
        for tp, offset in rewind.items():
            if tp in self.assignment():
                self.log.warning("records of %s from offset %d were dropped: reading them again",
                                 tp, offset)
                await self.seek(tp, offset)

    def _should_rewind(self, tp: TP, offset: int) -> bool:
        previous, count = self._rewinds.get(tp, (-1, 0))
        count = count + 1 if previous == offset else 1
        self._rewinds[tp] = (offset, count)
        return count <= MAX_REWINDS


class SeekingTransport(faust_aiokafka.Transport):
    Consumer = SeekingConsumer


class PipelineApp(faust.App):
    """A Faust app whose Kafka transport uses :class:`SeekingConsumer`."""

    def _new_transport(self) -> SeekingTransport:
        return SeekingTransport(self.conf.broker_consumer, self)
