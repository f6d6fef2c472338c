"""pcap/pcapng captures. Not yet written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from wirelog.errors import UnknownFormatError
from wirelog.model import Connection, Recording

if TYPE_CHECKING:
    from wirelog.capture import Options, StreamItem


def read(path: str, options: Options) -> Recording:
    raise UnknownFormatError(path, "capture reading is not implemented yet")


def stream(path: str, options: Options) -> Iterator[tuple[Connection, StreamItem]]:
    raise UnknownFormatError(path, "capture reading is not implemented yet")
