"""The asyncio edge of a replay: the protocol object, drains and pauses.

:class:`Wire` hands a TCP connection's events to an :class:`Endpoint` (the
session, :class:`~wirelog.replay.session.Runner`) and sets TCP_NODELAY so a
write is not held back waiting for more (Nagle). :func:`drain` waits until
the kernel has put a write on the wire (``SIOCOUTQNSD`` reaches 0) so the
next write starts a new segment and recorded chops leave as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
import time
from collections.abc import Callable
from typing import Protocol

SIOCOUTQNSD = 0x894B
"""Linux ioctl: octets in the send queue not yet sent (``linux/sockios.h``)."""

#: The loop's timer wakes up to a few ms late (epoll has millisecond
#: resolution, and a VM adds jitter): the last stretch is yielded away instead.
_SPIN = 0.003
#: Drain polls yielding to the loop before it starts sleeping between polls.
_EAGER_POLLS = 20
_POLL = 0.0005


class Endpoint(Protocol):
    """What :class:`Wire` reports to."""

    writable: asyncio.Event

    def attach(self, transport: asyncio.Transport) -> None: ...
    def on_data(self, data: bytes) -> None: ...
    def on_eof(self) -> None: ...
    def on_lost(self, exc: Exception | None) -> None: ...


class Wire(asyncio.Protocol):
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert isinstance(transport, asyncio.Transport)
        self.endpoint.attach(transport)

    def data_received(self, data: bytes) -> None:
        self.endpoint.on_data(data)

    def eof_received(self) -> bool:
        self.endpoint.on_eof()
        return True  # keep our half open: the endpoint decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.endpoint.on_lost(exc)

    def pause_writing(self) -> None:
        self.endpoint.writable.clear()

    def resume_writing(self) -> None:
        self.endpoint.writable.set()


async def drain(tr: asyncio.Transport, timeout: float, gone: Callable[[], bool]) -> int:
    """Wait until the octets have left: asyncio's buffer is empty and the
    kernel has nothing unsent, so the next write starts a new segment. Gives
    up after ``timeout`` (returning the octets still unsent: a peer that
    does not read) or once ``gone()`` says the connection is lost (0)."""
    deadline = time.perf_counter() + timeout
    spins = 0
    sock = tr.get_extra_info("socket")
    fd = sock.fileno() if sock is not None else -1
    while not gone():
        left = tr.get_write_buffer_size() + unsent(fd)
        if left == 0 or time.perf_counter() >= deadline:
            return left
        spins += 1
        await asyncio.sleep(0 if spins < _EAGER_POLLS else _POLL)
    return 0


def unsent(fd: int) -> int:
    """Octets the kernel holds for ``fd`` but has not sent (0 when unknown)."""
    if fd < 0:
        return 0
    try:
        raw = fcntl.ioctl(fd, SIOCOUTQNSD, b"\0\0\0\0")
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])


async def pause_until(deadline: float) -> None:
    """Sleep until a ``perf_counter`` deadline, to well under a millisecond:
    the loop's timer sleeps most of it, the rest is yielded away."""
    left = deadline - time.perf_counter()
    if left > _SPIN:
        await asyncio.sleep(left - _SPIN)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)


def close(tr: asyncio.Transport | None, *, abort: bool) -> None:
    """End a connection: a reset when ``abort``, else our FIN after what is
    queued (the peer's half may stay open until it closes it)."""
    if tr is None or tr.is_closing():
        return
    if abort:
        tr.abort()
    else:
        with contextlib.suppress(OSError, RuntimeError):
            if tr.can_write_eof():
                tr.write_eof()
        tr.close()
