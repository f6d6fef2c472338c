"""The human table view: one header, columns that line up across batches."""

from __future__ import annotations

import io

from wirelog.outputs.formats import FRAME_COLUMNS, Writer


def rows(n: int, source: str = "a.pcap") -> list[dict[str, object]]:
    return [
        {"source": source, "conn": 0, "dir": "tx", "index": i, "length": 10**(i // 2500),
         "payload": "ab" * (i % 7), "violations": []}
        for i in range(n)
    ]  # fmt: skip


def test_one_header_and_aligned_batches() -> None:
    buf = io.StringIO()
    w = Writer("table", FRAME_COLUMNS, buf)
    for r in rows(4500):  # more than one batch, with wider values in the later one
        w.row(r)
    w.flush()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4501
    assert sum(line.startswith("conn") for line in lines) == 1
    at = lines[0].index("dir")
    assert {line[at : at + 2] for line in lines[1:]} == {"tx"}


def test_source_column_follows_the_number_of_inputs() -> None:
    for show, expected in ((True, True), (False, False)):
        buf = io.StringIO()
        w = Writer("table", FRAME_COLUMNS, buf, show_source=show)
        for r in rows(3):
            w.row(r)
        w.flush()
        assert buf.getvalue().startswith("source") is expected
