"""The per-case JSON report (spec ``autobahn-wirelog.md`` §1).

Reports are built the way Autobahn writes them (:mod:`autobahn_json_docs`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from autobahn_json_docs import MASK, REQUEST, RESPONSE, RX, TX, client_report, rf, ro, tf, to, write

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import MarkerKind, Role, ViolationKind
from wirelog.pipeline import detect, read
from wirelog.protocol.frames import encode_frame


def test_all_eleven_entry_kinds(tmp_path: Path) -> None:
    ping = b"ping!"
    doc = client_report(
        [
            ["CT", 1, "A"],
            ["CTE", "A"],
            ["KL", 0.5],
            ["KLE"],
            ["TI", 10],
            ["TIE"],
            ["WLM", False],
            ["WLM", True],
            tf(ping, 9),
            to(encode_frame(9, ping, mask=bytes.fromhex(MASK))),
            ro(encode_frame(10, ping)),
            rf(ping, 10),
        ],
        droppedByMe=True,
    )
    (conn,) = read(write(tmp_path, doc)).connections
    markers = [(m.kind, m.index, m.value, m.tag, m.raw) for m in conn.markers]
    assert markers == [
        (MarkerKind.DELAY, 2, 1, "A", 1),
        (MarkerKind.DELAY_FIRED, 3, None, "A", None),
        (MarkerKind.KILL_AFTER, 4, 0.5, None, 0.5),
        (MarkerKind.KILL_FIRED, 5, None, None, None),
        (MarkerKind.CLOSE_AFTER, 6, 10, None, 10),
        (MarkerKind.CLOSE_FIRED, 7, None, None, None),
        (MarkerKind.WIRELOG, 8, False, None, False),
        (MarkerKind.WIRELOG, 9, True, None, True),
        (MarkerKind.DROPPED, 14, None, None, "TCP DROPPED BY ME"),
    ]
    assert isinstance(conn.markers[0].raw, int) and isinstance(conn.markers[2].raw, float)
    assert conn.markers[-1].direction is TX
    assert [(c.direction, c.index, c.opcode, c.payload, c.mask) for c in conn.claims] == [
        (TX, 10, 9, ping, bytes.fromhex(MASK)),
        (RX, 13, 10, ping, None),
    ]
    assert [(c.direction, c.index) for c in conn.chunks] == [(TX, 0), (RX, 1), (TX, 11), (RX, 12)]
    kinds = [v.kind for v in conn.findings]
    assert kinds == [ViolationKind.LOGGING_OFF]  # the WLM False


def test_meta_keeps_the_report_and_its_statistics(tmp_path: Path) -> None:
    doc = client_report([])
    (conn,) = read(write(tmp_path, doc)).connections
    assert "wirelog" not in conn.meta
    assert conn.meta["httpRequest"] == REQUEST and conn.meta["case"] == 1
    assert conn.meta["case_id"] == "1.1.1" and conn.meta["agent"] == "Test Server"
    assert conn.meta["reported_stats"].to_autobahn()["txOctetStats"] == doc["txOctetStats"]
    assert conn.recorder is Role.CLIENT
    assert conn.handshake_request == REQUEST.encode()
    assert conn.handshake_response == RESPONSE.encode()


def test_unknown_heads_are_absent(tmp_path: Path) -> None:
    doc = client_report([], httpRequest="?", httpResponse="?")
    doc["wirelog"] = []
    (conn,) = read(write(tmp_path, doc)).connections
    assert conn.handshake_request is None and conn.handshake_response is None


def test_lone_surrogates_from_python2_json_load(tmp_path: Path) -> None:
    path = tmp_path / "s_case_6_20_1.json"
    doc = client_report([tf(b"\xed\xa0\x80")])
    text = json.dumps(doc, sort_keys=True, indent=3)
    assert "\\ud800" in text
    path.write_text(text)
    (conn,) = read(str(path)).connections
    assert conn.claims[0].payload == b"\xed\xa0\x80"


# -- bad input ----------------------------------------------------------------------------


def test_corrupted_hex_names_the_entry(tmp_path: Path) -> None:
    doc = client_report([to(b"\x81\x00")])
    doc["wirelog"][2][1][1] = "81zz"
    path = write(tmp_path, doc)
    with pytest.raises(InputError) as err:
        read(path)
    assert err.value.location == "entry 2" and err.value.source == path
    assert "\n" not in str(err.value)


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t_case_1_1_1.json"
    text = json.dumps(client_report([]), sort_keys=True, indent=3)
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TruncatedInputError) as err:
        read(str(path))
    assert err.value.location is not None and err.value.location.startswith("line ")
    assert int(err.value.location.split()[1]) > 10


@pytest.mark.parametrize(
    "entry",
    [
        ["XX", 1],
        ["RO", [3]],
        ["TF", [1, "a"], 1],
        ["KL", "soon"],
        "RO",
        ["RF", [1, "a"], 1, 1, 0, 0, "zz"],
    ],
)
def test_malformed_entries_raise_input_errors(tmp_path: Path, entry: Any) -> None:
    doc = client_report([entry])
    with pytest.raises(InputError) as err:
        read(write(tmp_path, doc))
    assert err.value.location == "entry 2"


def test_json_that_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}')
    with pytest.raises(InputError):
        read(str(path))
    assert detect(str(write(tmp_path, client_report([])))) == "autobahn-json"


# -- hostile documents (issue 11): one-line InputErrors that say where ---------------


def _error(path: str) -> InputError:
    with pytest.raises(InputError) as err:
        read(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(path)
    return err.value


def test_deep_nesting_is_refused_with_its_line(tmp_path: Path) -> None:
    """100,000 brackets made ``json`` raise RecursionError; 40 levels pass
    ``json`` but would make anything that recurses over them fail later."""
    for depth in (40, 100_000):
        doc = client_report([])
        text = json.dumps(doc, indent=1).replace(
            '"wirelog": [', '"deep": ' + "[" * depth + "]" * depth + ',\n "wirelog": ['
        )
        path = tmp_path / f"deep{depth}.json"
        path.write_text(text)
        err = _error(str(path))
        assert "nested more than 32 levels" in err.message
        assert err.location == f"line {text[: text.index('[' * 33)].count(chr(10)) + 1}"


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("9" * 5000, "an integer of 5000 digits"),  # over Python's 4,300-digit limit
        ("9" * 41, "an integer of 41 digits"),
        ("Infinity", "Infinity is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ("NaN", "NaN is not a JSON number"),
        ("1e999", "1e999 does not fit a float"),
    ],
)
def test_numbers_json_cannot_hold_are_refused(tmp_path: Path, token: str, said: str) -> None:
    doc = client_report([])
    text = json.dumps(doc, indent=1).replace(
        '"rxOctetStats": {', '"rxOctetStats": {\n"1": ' + token + ",", 1
    )
    path = tmp_path / "x_case_1_1_1.json"
    path.write_text(text)
    err = _error(str(path))
    assert said in err.message
    assert err.location == f"line {text[: text.index(token)].count(chr(10)) + 1}"


@pytest.mark.parametrize(
    "stats",
    [{"1": 1.5}, {"1": True}, {"1": -1}, {"-1": 1}, {"x": 1}, {"1" * 41: 1}, {"1": 2**63}, [1]],
)
def test_statistics_must_be_sizes_to_counts(tmp_path: Path, stats: Any) -> None:
    err = _error(write(tmp_path, client_report([], txFrameStats=stats)))
    assert err.message.startswith("txFrameStats is not a {size: count} object")


@pytest.mark.parametrize("key", ["id", "agent"])
@pytest.mark.parametrize("value", [5, None, ["1.1.1"], {"a": 1}])
def test_id_and_agent_must_be_strings(tmp_path: Path, key: str, value: Any) -> None:
    err = _error(write(tmp_path, client_report([], **{key: value})))
    assert err.message.startswith(f"'{key}' is not a string")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda e: e[1].__setitem__(0, 2**64), 2**64),
        (lambda e: e[1].__setitem__(0, -5), None),
        (lambda e: e.__setitem__(6, 2**64), 2**64),
        (lambda e: e.__setitem__(6, 2**63), 2**63),
        (lambda e: e.__setitem__(7, 2**64), 2**64),
        (lambda e: e.__setitem__(2, 16), 16),
        (lambda e: e.__setitem__(4, 8), 8),
    ],
)
def test_tf_fields_beyond_a_frame_are_refused(tmp_path: Path, edit: Any, field: int | None) -> None:
    """RFC 6455 §5.2: a 63-bit length, a 4-bit opcode, 3 RSV bits; 2^64
    reached ``struct.pack`` and crashed the rebuild."""
    entry = tf(b"hello")
    edit(entry)
    err = _error(write(tmp_path, client_report([entry])))
    assert err.location == "entry 2"
    if field is not None:
        assert f"{field} is out of range" in err.message


def test_a_huge_ro_length_is_refused(tmp_path: Path) -> None:
    entry = ro(b"x" * 64)
    entry[1][0] = 2**64
    assert _error(write(tmp_path, client_report([entry]))).location == "entry 2"


def test_an_oversized_hex_field_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100 MB hex field took 1.87 GB; the cap is checked on the text."""
    from wirelog.sources.autobahn import encoding

    monkeypatch.setattr(encoding, "MAX_FIELD_OCTETS", 1000)
    ok = ["RO", [1000, "ab" * 1000]]
    too_long = ["RO", [1001, "ab" * 1001]]
    (conn,) = read(write(tmp_path, client_report([ok]))).connections
    assert conn.chunks[-1].data == b"\xab" * 1000
    err = _error(write(tmp_path, client_report([too_long])))
    assert err.location == "entry 2" and "more than the 1,000 octets" in err.message
