"""Cheap constructors for the two objects decoding makes by the million.

A frozen dataclass sets each field through ``object.__setattr__``, which for
a :class:`~wirelog.model.Frame` is the costliest step of decoding it. The
builders here skip that, in whichever build runs:

* pure Python: a builder class with the very same slots sets plain
  attributes, then becomes the real class (``__class__`` swap);
* compiled (mypyc, see ``setup.py``): the model's classes are native, whose
  layout no other class shares, so the swap cannot work; instead the
  compiled builder allocates the instance and stores each field straight
  into it (compiled code writes native attributes directly, past the
  frozen ``__setattr__``).

Either way the result is an ordinary frozen instance (type, equality, hash,
``dataclasses.replace``). A field added to Frame or Chunk must be set here
too: tests compare the builders' output with the constructors', and run
against both builds. They live apart from :mod:`wirelog.model` so that the
model stays a plain list of dataclasses.
"""

from __future__ import annotations

from dataclasses import fields

from wirelog.enums import Direction, Role, ViolationKind
from wirelog.model import Chunk, Frame

#: True when :mod:`wirelog.model` is compiled (native classes carry
#: ``__mypyc_attrs__``); builders and model are compiled together or not at all.
NATIVE = hasattr(Frame, "__mypyc_attrs__")


class _FrameBuilder:
    """The pure build's Frame maker: the same slots as :class:`Frame` (so
    the same layout), set as plain attributes, then the swap (0.4 µs for a
    frame against the constructor's 2.5)."""

    __slots__ = tuple(f.name for f in fields(Frame))


class _ChunkBuilder:
    """The pure build's Chunk maker, as :class:`_FrameBuilder`."""

    __slots__ = tuple(f.name for f in fields(Chunk))


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
    f: Frame = Frame.__new__(Frame) if NATIVE else _FrameBuilder()  # type: ignore[assignment]
    f.direction = direction  # type: ignore[misc]
    f.sender = sender  # type: ignore[misc]
    f.index = index  # type: ignore[misc]
    f.fin = fin  # type: ignore[misc]
    f.rsv = rsv  # type: ignore[misc]
    f.opcode = opcode  # type: ignore[misc]
    f.masked = masked  # type: ignore[misc]
    f.mask = mask  # type: ignore[misc]
    f.length = length  # type: ignore[misc]
    f.payload = payload  # type: ignore[misc]
    f.header_length = header_length  # type: ignore[misc]
    f.offset = offset  # type: ignore[misc]
    f.ts_ns = ts_ns  # type: ignore[misc]
    f.chunk = chunk  # type: ignore[misc]
    f.violations = violations  # type: ignore[misc]
    f.from_log = False  # type: ignore[misc]
    f.record = None  # type: ignore[misc]
    if not NATIVE:
        f.__class__ = Frame
    return f


def new_chunk(
    direction: Direction,
    data: bytes,
    length: int,
    index: int,
    ts_ns: int | None = None,
    record: int | None = None,
) -> Chunk:
    """``Chunk(direction, data, length, index, ts_ns, record=record)`` for a
    quarter of the cost: capture readers make one per segment. The flags a
    capture never sets keep their defaults."""
    c: Chunk = Chunk.__new__(Chunk) if NATIVE else _ChunkBuilder()  # type: ignore[assignment]
    c.direction = direction  # type: ignore[misc]
    c.data = data  # type: ignore[misc]
    c.length = length  # type: ignore[misc]
    c.index = index  # type: ignore[misc]
    c.ts_ns = ts_ns  # type: ignore[misc]
    c.sync = False  # type: ignore[misc]
    c.rebuilt = False  # type: ignore[misc]
    c.synthesized = 0  # type: ignore[misc]
    c.record = record  # type: ignore[misc]
    if not NATIVE:
        c.__class__ = Chunk
    return c
