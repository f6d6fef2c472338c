"""Hypothesis strategies for hostile Autobahn reports (issue 11).

Structured mutations start from real reports of the shared corpus (or the
seed's flattened text) and change them the way a broken or hostile writer
would: a JSON value replaced by one of another type or an absurd size, a
list entry dropped or repeated, a markup token or a huge number inserted
into a page. The properties in ``test_fuzz_autobahn.py`` only ask that
reading ends quickly and raises nothing but :class:`~wirelog.errors.WirelogError`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT.parent / "shared" / "autobahn-reports"
SEED = ROOT / "samples" / "autobahnpython_case_2_2.txt"
#: Small real cases of every family that has a wire log worth changing.
CASES = ("1_1_1", "2_2", "3_2", "5_6", "6_4_1", "7_1_6", "7_5_1", "12_1_1")

HOSTILE: tuple[Any, ...] = (
    -1,
    2**63,
    2**64,
    10**39,
    1.5,
    "",
    "x" * 70,
    "0x" + "zz" * 64,
    "00" * 64 + " ...",
    None,
    True,
    [],
    {},
    [[[[[]]]]],
    {"1": -1},
    {"1": "x"},
    {"x": 1},
)
#: Tokens that once sent a reader into a quadratic scan or an internal error.
HTML_TOKENS = ('<pre class="wirelog_rx_octets">', "</pre>", "<tr>", "</tr>", "<td>", "</td>")
HTML_TOKENS += ("<", ">", "</table>", '<p class="case', "</div>", "\u00b9")
TEXT_TOKENS = ("Total", "Chop Size", "Opcode", "\n", "000 ", "TX FRAME : ", "\u00b9", " ...")
NUMBERS = ("0", "-1", "65536", "9223372036854775808", "18446744073709551616", "9" * 45)
NUMBERS += ("9" * 5000, "\u0661\u0662")
#: What a JSON number may be replaced by: none of these is a number JSON holds.
JSON_NUMBERS = ("Infinity", "-Infinity", "NaN", "1e999", "9" * 5000, "[" * 3000 + "1")
#: A number token of ``json.dumps`` output (after ": ", "[" or ", ").
JSON_NUMBER = r"(?<=[\[ ])-?\d+(?:\.\d+)?(?=[,\]}])"


def case_files(form: str) -> list[Path]:
    """The corpus's files of ``CASES`` in one form (``json`` or ``html``)."""
    out = []
    for side, agent in (
        ("testing-a-server", "websock_server"),
        ("testing-a-client", "websock_client"),
    ):
        out += [REPORTS / side / f"{agent}_case_{case}.{form}" for case in CASES]
    return [p for p in out if p.is_file()]


@st.composite
def mutated_json(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one to three values replaced, dropped or repeated."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        node = doc
        for _ in range(draw(st.integers(1, 4))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
                child = node[key]
            elif isinstance(node, list) and node:
                key = draw(st.integers(0, len(node) - 1))
                child = node[key]
            else:
                break
            action = draw(st.sampled_from(("replace", "descend", "descend", "drop", "repeat")))
            if action == "descend" and isinstance(child, list | dict):
                node = child
                continue
            if action == "drop":
                del node[key]
            elif action == "repeat" and isinstance(node, list):
                node[key : key + 1] = [child] * draw(st.integers(2, 50))
            else:
                node[key] = draw(st.sampled_from(HOSTILE))
            break
    return doc


@st.composite
def edited_text(
    draw: st.DrawFn,
    text: str,
    tokens: tuple[str, ...],
    numbers: tuple[str, ...] = NUMBERS,
    number: str = r"\d+",
) -> str:
    """``text`` with one to four tokens, numbers, deletions or cuts; a
    number (from ``numbers``) replaces a match of the regex ``number``."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("number", "token", "delete", "cut", "repeat")))
        if action == "number":
            found = [m.span() for m in re.finditer(number, text)]
            if found:
                start, end = found[draw(st.integers(0, len(found) - 1))]
                text = text[:start] + draw(st.sampled_from(numbers)) + text[end:]
        elif action == "token":
            token = draw(st.sampled_from(tokens)) * draw(st.sampled_from((1, 1, 20, 2000)))
            text = text[:at] + token + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)) :]
        elif action == "cut":
            text = text[:at]
        else:
            text = text[:at] + text[at : at + 80] * draw(st.integers(2, 30)) + text[at:]
    return text
