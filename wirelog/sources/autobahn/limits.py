"""The bounds the Autobahn readers keep, whatever a report claims.

A report is untrusted input: its numbers are read, never obeyed. Each bound
below is far above anything Autobahn Testsuite writes (its largest message
is 16 MiB, cases 9.1.6/9.2.6; the two real 517-case folders rebuild
256 KiB in all), so only a broken or hostile file meets one, and it gets a
one-line :class:`~wirelog.errors.InputError` or a finding, never a hang,
a traceback or an allocation sized by a length field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LENGTH = 2**63 - 1
"""Largest frame or chunk length a log may declare: RFC 6455 §5.2's 64-bit
length, whose most significant bit MUST be 0."""
MAX_OPCODE = 15
MAX_RSV = 7
MAX_DIGITS = 40
"""Digits of one printed number (a count, a size, a length, a code). Python
refuses to convert more than 4,300, and splitting a run-together text row
costs the square of its digits (:mod:`.text_page`)."""
MAX_DEPTH = 32
"""JSON nesting no Autobahn report comes near (its deepest is an entry's
``[length, text]``, four levels down); deeper documents are refused before
anything (``json`` itself, ``repr``, a writer) recurses over them."""
MAX_FIELD_OCTETS = 32 * 1024 * 1024
"""Octets one log field may decode to. Autobahn keeps 64 of them
(:data:`~.encoding.MAXLEN`); wirelog's own replay reports keep whole chunks,
and a frame of the suite's largest message is 16 MiB plus its header."""
MAX_DELAY = 3600.0
"""Seconds one timer (CT, KL, TI) may claim. Autobahn's cases wait a few
seconds at most, and a replay sleeps as long as the log says: a negative,
infinite or 10^39-second delay is refused, not obeyed."""
REBUILD_LIMIT = 64 * 1024 * 1024
"""Bytes rebuilt from ``PAYLOAD-REPEAT-LEN`` for one input (a case file, or a
whole folder): a total, not a bound per entry, so that forty 64 MiB claims in
a 5 KB file cost what one does. Past it, TF entries stay cut at the log's
prefix and a finding says so (:class:`RebuildBudget`)."""


def delay_ok(seconds: float) -> bool:
    """A timer's delay within 0 and :data:`MAX_DELAY` (NaN is neither)."""
    return 0 <= seconds <= MAX_DELAY


@dataclass(slots=True)
class RebuildBudget:
    """What one input may still rebuild (:data:`REBUILD_LIMIT`), and the
    entries refused once it was spent (their indexes, in order, for findings)."""

    limit: int = field(default_factory=lambda: REBUILD_LIMIT)
    spent: int = 0
    refused: list[int] = field(default_factory=list)

    def take(self, index: int, n: int) -> bool:
        """Spend ``n`` bytes for entry ``index`` if they are left."""
        if self.spent + n > self.limit:
            self.refused.append(index)
            return False
        self.spent += n
        return True

    def copy(self) -> RebuildBudget:
        """The same allowance, spent separately (a dry run)."""
        return RebuildBudget(self.limit, self.spent)


def digits_ok(text: str, signed: bool = False) -> bool:
    """``text`` is a decimal number (negative only if ``signed``) short
    enough to convert (:data:`MAX_DIGITS`): ASCII digits, as Autobahn
    prints them, never ``int()``'s other spellings ("+1", "1_0", "١")."""
    body = text[1:] if signed and text.startswith("-") else text
    return 0 < len(body) <= MAX_DIGITS and body.isascii() and body.isdigit()
