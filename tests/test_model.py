"""The model's cheap constructors make ordinary frozen dataclasses."""

from __future__ import annotations

import dataclasses

import pytest

from wirelog import builders, model
from wirelog.builders import new_chunk
from wirelog.model import Chunk, Direction, Role


def test_new_chunk_is_a_chunk() -> None:
    """Capture readers make chunks with ``new_chunk``: what it returns must
    be an ordinary frozen Chunk, equal in every field (the defaults included,
    so a field added to Chunk and not to the builder fails here)."""
    made = new_chunk(Direction.RX, b"abc", 5, 7, 1_250_000_000)
    ref = Chunk(Direction.RX, b"abc", 5, 7, 1_250_000_000)
    assert type(made) is Chunk and made == ref and hash(made) == hash(ref)
    assert repr(made) == repr(ref)
    assert all(getattr(made, f.name) == getattr(ref, f.name) for f in dataclasses.fields(Chunk))
    assert made.missing == 2 and not made.complete
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.index = 4  # type: ignore[misc]
    assert dataclasses.replace(made, length=3).complete
    assert made.ts == 1.25 and new_chunk(Direction.TX, b"", 0, 0).ts is None  # derived seconds
    assert new_chunk(Direction.TX, b"", 0, 0) == Chunk(Direction.TX, b"", 0, 0)


def test_builders_take_the_path_of_the_build() -> None:
    """Native (compiled) model classes cannot change ``__class__``: the
    builders must know which build they are in, and say so only when the
    model really is compiled (``.ci/run`` runs this file against both)."""
    compiled = not (model.__file__ or "").endswith(".py")
    assert builders.NATIVE is compiled
    assert (builders.__file__ or "").endswith(".py") is not compiled  # compiled together
    # The frame the decoder records its TLS record in, in place (protocol/records.py).
    frame = builders.new_frame(Direction.TX, Role.CLIENT, 0, True, 0, 1, False, None, 0, b"", 2, 0)
    object.__setattr__(frame, "record", 7)
    assert frame.record == 7 and frame == dataclasses.replace(frame)
