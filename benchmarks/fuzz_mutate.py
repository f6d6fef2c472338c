"""The mutations of ``benchmarks/fuzz_campaign.py``: random byte edits,
splices from other seeds, hostile numbers and markup tokens, and for JSON
structured edits of the parsed document (hostile values, repeated and
dropped list items)."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fuzz_campaign import Target

MAX_INPUT = 4 * 1024 * 1024

NUMBERS = (b"0", b"-1", b"126", b"65536", b"2147483648", b"9223372036854775808")
NUMBERS += (b"18446744073709551616", b"9" * 50, b"1" * 4400, b"1e400", b"-0")


HOSTILE: tuple[Any, ...] = (-1, 2**64, 2**63, 10**39, 1.5, float("inf"), float("nan"), "")
HOSTILE += ("x" * 70, "0x" + "zz" * 64, "00" * 64 + " ...", None, True, [], {}, [[[[[]]]]])
HOSTILE += ({"1": -1}, {"1": "x"}, {"x": 1})


def _hostile(rng: random.Random) -> Any:
    return rng.choice(HOSTILE)


def _mutate_json(rng: random.Random, data: bytes) -> bytes | None:
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    node: Any = doc
    for _ in range(rng.randint(1, 5)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
            if rng.random() < 0.3 or not isinstance(node[key], list | dict):
                node[key] = _hostile(rng)
                break
            node = node[key]
        elif isinstance(node, list) and node:
            i = rng.randrange(len(node))
            roll = rng.random()
            if roll < 0.15:
                node[i : i + 1] = [node[i]] * rng.randint(2, 40)
                break
            if roll < 0.25:
                del node[i]
                break
            if roll < 0.5 or not isinstance(node[i], list | dict):
                node[i] = _hostile(rng)
                break
            node = node[i]
    return json.dumps(doc).encode()


def mutate(rng: random.Random, data: bytes, seeds: list[bytes], target: Target) -> bytes:
    """One to four random edits of ``data``."""
    if target.json_aware and rng.random() < 0.5:
        out = _mutate_json(rng, data)
        if out is not None:
            return out
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        n = len(buf)
        roll = rng.random()
        at = rng.randrange(n + 1)
        if roll < 0.15 and n:
            buf[min(at, n - 1)] ^= 1 << rng.randrange(8)
        elif roll < 0.25 and n:
            buf[min(at, n - 1)] = rng.randrange(256)
        elif roll < 0.35:
            del buf[at : at + rng.randint(1, 64)]
        elif roll < 0.45:
            buf[at:at] = rng.randbytes(rng.randint(1, 16))
        elif roll < 0.55 and n:
            end = min(n, at + rng.randint(1, 256))
            buf[at:at] = bytes(buf[at:end]) * rng.randint(2, 200)
        elif roll < 0.65:
            other = rng.choice(seeds)
            start = rng.randrange(len(other) + 1)
            buf[at:at] = other[start : start + rng.randint(1, 2048)]
        elif roll < 0.75 and target.tokens:
            buf[at:at] = rng.choice(target.tokens) * rng.choice((1, 1, 1, 50, 5000))
        elif roll < 0.9:
            digits = [i for i in range(max(0, at - 200), min(n, at + 200)) if 48 <= buf[i] <= 57]
            if digits:
                i = rng.choice(digits)
                j = i
                while j < n and 48 <= buf[j] <= 57:
                    j += 1
                buf[i:j] = rng.choice(NUMBERS)
        else:
            del buf[rng.randrange(n + 1) :]
    return bytes(buf[:MAX_INPUT])
