"""A pcap or pcapng capture as a source: its records, through the flow
engine, pushed into a :class:`~wirelog.sources.sink.Sink`.

:mod:`wirelog.sources.pcap.files` reads the records (the only scapy
importer), :mod:`wirelog.sources.pcap.flows` turns them into connections;
this module runs the two and says when a batch of packets has been pushed,
so that a pulling caller (:func:`wirelog.pipeline.stream`) can take what the
sink collected while memory stays bounded by the open connections. A batch
also ends where the next packet has not arrived yet, so a capture read
from a pipe is decoded (and printed) as it arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import islice

from wirelog.errors import InputError
from wirelog.sources.options import Options
from wirelog.sources.pcap.files import Record, Records, open_records
from wirelog.sources.pcap.flows import Engine
from wirelog.sources.pcap.streams import is_stream
from wirelog.sources.sink import Sink

log = logging.getLogger(__name__)

#: Packets pushed between two yields of :func:`push`.
BATCH = 256


def push(path: str, options: Options, sink: Sink, batch: int = BATCH) -> Iterator[None]:
    """Push the capture at ``path`` into ``sink``, yielding after each
    ``batch`` packets (or fewer: those that have arrived); ``sink.done``
    gets the summary at the end.

    After a read error the connections still open are closed (what came
    before the error is pushed, holes as gaps), ``sink.done`` is called,
    then the error is raised. A capture that holds no WebSocket connection
    raises :class:`~wirelog.errors.InputError` after ``sink.done``, its
    message :meth:`Summary.nothing <wirelog.sources.sink.Summary.nothing>`."""
    waits = is_stream(path)  # first: a live capture's held stream is one until opened
    recs = open_records(path)
    engine = Engine(path, options, sink, recs.secrets, recs.comments.packets)
    arrived = _Arrived(recs, batch, waits)
    try:
        while not arrived.ended:
            before = engine.summary.packets
            engine.packets(arrived.step())
            if not arrived.waits and engine.summary.packets - before < batch:
                arrived.ended = True  # a slice ran short: the file has ended
            yield
    except InputError:
        _end(engine, recs)
        raise
    _end(engine, recs)
    nothing = engine.summary.nothing()
    if nothing is not None:
        # An input with no WebSocket connection is an error, saying why
        # (TLS, plain HTTP, a capture started after the handshake).
        raise InputError(path, nothing)


class _Arrived:
    """The records of a stream in steps that end where the next record has
    not arrived yet, so that what arrived is pushed (and printed) before the
    reader waits on the source (``tcpdump -U -w - | wirelog decode -``).
    Each step is consumed lazily: a read error leaves every record before
    it pushed. A regular file never makes the reader wait: its steps are
    plain slices of the records, without a check (and a generator frame)
    per record."""

    def __init__(self, recs: Records, batch: int, waits: bool = True) -> None:
        self.recs = recs
        self.batch = batch
        self.waits = waits
        self.ended = False

    def step(self) -> Iterator[Record]:
        if not self.waits:
            return islice(self.recs.packets, self.batch)
        return self._arrived()

    def _arrived(self) -> Iterator[Record]:
        recs = self.recs
        for n, rec in enumerate(recs.packets, 1):
            yield rec
            if n >= self.batch or not recs.ready():
                return
        self.ended = True


def _end(engine: Engine, recs: Records) -> None:
    engine.finish()
    summary = engine.summary
    summary.comments[:0] = recs.comments.lines  # the section's and interfaces' first
    found = summary.finding()
    if found is not None:
        log.info("%s: %s", engine.path, found.detail)
    if summary.undecrypted and summary.nothing() is None:
        # A warning: undecrypted TLS is traffic the user expected to see
        # (Python's last-resort handler prints it on stderr, one line); when
        # nothing decoded, the error that follows says it instead.
        more = f"; and {len(summary.undecrypted) - 3} more" if len(summary.undecrypted) > 3 else ""
        log.warning("%s: %s%s", engine.path, "; ".join(summary.undecrypted[:3]), more)
    engine.sink.done(engine.summary)
