"""Cheap constructors for the two objects decoding makes by the million.

A frozen dataclass sets each field through ``object.__setattr__``, which for
a :class:`~wirelog.model.Frame` is the costliest step of decoding it; the
builders here have the very same slots, set plain attributes, then become the
real class. They live apart from :mod:`wirelog.model` so that the model stays
a plain list of dataclasses.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from wirelog.enums import Direction, Role, ViolationKind
from wirelog.model import Chunk, Frame


class _FrameBuilder:
    """Builds a :class:`Frame` for a sixth of what its constructor costs.

    A frozen dataclass sets each field through ``object.__setattr__`` (2.5 µs
    for a frame, the costliest step of decoding one); this class has the very
    same slots (so the same layout), sets them as plain attributes, then
    becomes a :class:`Frame` (0.4 µs in all). The result is an ordinary frozen
    Frame in every respect (type, equality, hash, ``dataclasses.replace``).
    A field added to Frame must be set here too: tests compare the two.
    """

    __slots__ = tuple(f.name for f in fields(Frame))

    def __init__(
        self,
        direction: Direction,
        sender: Role,
        index: int,
        fin: bool,
        rsv: int,
        opcode: int,
        masked: bool,
        mask: bytes | None,
        length: int,
        payload: bytes,
        header_length: int,
        offset: int | None,
        ts_ns: int | None = None,
        chunk: int | None = None,
        violations: tuple[ViolationKind, ...] = (),
    ) -> None:
        self.direction = direction
        self.sender = sender
        self.index = index
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.masked = masked
        self.mask = mask
        self.length = length
        self.payload = payload
        self.header_length = header_length
        self.offset = offset
        self.ts_ns = ts_ns
        self.chunk = chunk
        self.violations = violations
        self.from_log = False
        self.record = None
        self.__class__ = Frame  # type: ignore[assignment]


if TYPE_CHECKING:

    def new_frame(
        direction: Direction,
        sender: Role,
        index: int,
        fin: bool,
        rsv: int,
        opcode: int,
        masked: bool,
        mask: bytes | None,
        length: int,
        payload: bytes,
        header_length: int,
        offset: int | None,
        ts_ns: int | None = None,
        chunk: int | None = None,
        violations: tuple[ViolationKind, ...] = (),
    ) -> Frame:
        """``Frame(...)`` with the same positional arguments (``from_log``
        excepted), for a sixth of the cost: for decoders, which make every
        frame."""
else:
    new_frame = _FrameBuilder


class _ChunkBuilder:
    """:class:`Chunk` made as :class:`_FrameBuilder` makes a Frame (a
    quarter of the constructor's cost): capture readers make one per
    segment. The flags a capture never sets keep their defaults."""

    __slots__ = tuple(f.name for f in fields(Chunk))

    def __init__(
        self,
        direction: Direction,
        data: bytes,
        length: int,
        index: int,
        ts_ns: int | None = None,
        record: int | None = None,
    ) -> None:
        self.direction = direction
        self.data = data
        self.length = length
        self.index = index
        self.ts_ns = ts_ns
        self.sync = False
        self.rebuilt = False
        self.synthesized = 0
        self.record = record
        self.__class__ = Chunk  # type: ignore[assignment]


if TYPE_CHECKING:

    def new_chunk(
        direction: Direction,
        data: bytes,
        length: int,
        index: int,
        ts_ns: int | None = None,
        record: int | None = None,
    ) -> Chunk:
        """``Chunk(direction, data, length, index, ts_ns, record=record)`` for a
        quarter of the cost."""
else:
    new_chunk = _ChunkBuilder
