"""Properties of the Autobahn readers on hostile input (issue 11): whatever
a report holds, reading and decoding it end quickly, and only
:class:`~wirelog.errors.WirelogError` comes out, never a traceback.

Inputs are structured mutations of real reports (:mod:`fuzz_mutations`) and
arbitrary bytes given straight to each reader. Bounded for CI: a fixed
number of examples each, and a deadline per example; the long runs are
``benchmarks/fuzz_campaign.py``'s.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_mutations import (
    HTML_TOKENS,
    JSON_NUMBER,
    JSON_NUMBERS,
    REPORTS,
    SEED,
    TEXT_TOKENS,
    case_files,
    edited_text,
    mutated_json,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirelog.errors import InputError, WirelogError
from wirelog.model import Recording
from wirelog.pipeline import decode_recording, read
from wirelog.sources.autobahn.build import build_connection
from wirelog.sources.autobahn.reader import read_report

pytestmark = pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
BOUNDED = settings(
    max_examples=150,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    derandomize=True,
)
JSON_DOCS = [json.loads(p.read_text()) for p in case_files("json")]
HTML_PAGES = [p.read_bytes().decode("utf-8", "surrogateescape") for p in case_files("html")]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _read_and_decode(path: Path, kind: str | None = None) -> None:
    """Only wirelog's own errors may escape, each a single line."""
    try:
        if kind is None:
            decode_recording(read(str(path)))
        else:
            report = read_report(str(path), kind)
            decode_recording(Recording(str(path), kind, [build_connection(report)]))
    except WirelogError as exc:
        assert "\n" not in str(exc)


def _write(scratch: Path, name: str, data: bytes | str) -> Path:
    path = scratch / name
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    return path


@BOUNDED
@given(st.data())
def test_mutated_json_reports(scratch: Path, data: st.DataObject) -> None:
    doc = data.draw(mutated_json(data.draw(st.sampled_from(JSON_DOCS))))
    _read_and_decode(_write(scratch, "x_case_1_1_1.json", json.dumps(doc)), "autobahn-json")


@BOUNDED
@given(st.data())
def test_edited_json_text(scratch: Path, data: st.DataObject) -> None:
    text = json.dumps(data.draw(st.sampled_from(JSON_DOCS)))
    edited = data.draw(edited_text(text, ('"', ",", "{", "[", "]"), JSON_NUMBERS, JSON_NUMBER))
    _read_and_decode(_write(scratch, "x_case_1_1_1.json", edited), "autobahn-json")


@BOUNDED
@given(st.data())
def test_edited_html_pages(scratch: Path, data: st.DataObject) -> None:
    page = data.draw(edited_text(data.draw(st.sampled_from(HTML_PAGES)), HTML_TOKENS))
    _read_and_decode(_write(scratch, "x_case_1_1_1.html", page), "autobahn-html")


@BOUNDED
@given(st.data())
def test_edited_seed_text(scratch: Path, data: st.DataObject) -> None:
    text = data.draw(edited_text(SEED.read_text(), TEXT_TOKENS))
    _read_and_decode(_write(scratch, "seed.txt", text), "autobahn-text")


READERS: list[tuple[str, str]] = [
    ("autobahn-json", "x.json"),
    ("autobahn-html", "x.html"),
    ("autobahn-text", "x.txt"),
]


@pytest.mark.parametrize(("kind", "name"), READERS)
def test_arbitrary_bytes_to_each_reader(scratch: Path, kind: str, name: str) -> None:
    @BOUNDED
    @given(st.binary(max_size=4096))
    def check(raw: bytes) -> None:
        _read_and_decode(_write(scratch, name, raw), kind)

    check()


@settings(BOUNDED, max_examples=25)
@given(st.data())
def test_a_folder_keeps_its_readable_cases(scratch: Path, data: st.DataObject) -> None:
    """One mutated case among three: the others still come out, through
    ``partial`` when the mutated one cannot be read."""
    folder = scratch / "folder"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    names = ["websock_server_case_2_1", "websock_server_case_2_2", "websock_server_case_2_3"]
    for name in names:
        shutil.copy(REPORTS / "testing-a-server" / f"{name}.json", folder)
    victim = folder / f"{data.draw(st.sampled_from(names))}.json"
    doc = data.draw(mutated_json(json.loads(victim.read_text())))
    victim.write_text(json.dumps(doc))
    try:
        recording = read(str(folder))
    except InputError as exc:
        assert exc.source == str(victim)
        assert isinstance(exc.partial, Recording) and len(exc.partial.connections) == 2
        recording = exc.partial
    assert [c.source for c in recording.connections if c.source != str(victim)] == [
        str(folder / f"{n}.json") for n in names if folder / f"{n}.json" != victim
    ]
    decode_recording(recording)
