"""``wirelog plot`` and ``wirelog report`` in-process: output files, the
html page, and an input cut part-way (render the part, then fail with one
line, exit 2)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from servers import SAMPLES, SEED
from typer.testing import CliRunner

from wirelog.cli import app


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def cut_inside_packet(src: Path, dst: Path, packet: int) -> None:
    """Copy a little-endian pcap, ending halfway through record ``packet`` (1-based)."""
    raw = src.read_bytes()
    pos, n = 24, 0
    while pos < len(raw):
        n += 1
        incl = struct.unpack_from("<I", raw, pos + 8)[0]
        if n == packet:
            dst.write_bytes(raw[: pos + 16 + incl // 2])
            return
        pos += 16 + incl
    raise AssertionError("capture has fewer packets")


@pytest.fixture
def cut(tmp_path: Path) -> Path:
    path = tmp_path / "cut.pcap"
    cut_inside_packet(Path(SAMPLES) / "multi_conn.pcap", path, 42)
    return path


@pytest.mark.parametrize("command", [["report"], ["plot", "-o", "PLOTS", "--kind", "chops"]])
def test_report_and_plot_render_the_part_then_fail(
    cut: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [str(tmp_path / "plots") if a == "PLOTS" else a for a in command]
    code, out, err = cli(*args, str(cut))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "packet 42" in lines[0] and "Traceback" not in err
    if command[0] == "report":
        assert "Wire Log" in out and "TX FRAME" in out
    else:
        assert (tmp_path / "plots" / "cut_chops.png").stat().st_size > 1000
        assert out == f"{tmp_path / 'plots' / 'cut_chops.png'}\n"


def test_the_partial_warning_does_not_leak_out_of_the_command(cut: Path) -> None:
    import warnings

    import wirelog
    from wirelog.errors import PartialInputWarning

    cli("report", str(cut))
    with pytest.warns(PartialInputWarning, match="packet 42"):
        wirelog.load(str(cut)).frames()
    assert not [f for f in warnings.filters if f[2] is PartialInputWarning and f[0] == "ignore"]


def test_report_to_a_file_as_html(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    code, out, err = cli("report", SEED, "--format", "html", "--output", str(target))
    assert code == 0, err
    assert out == ""
    page = target.read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "Wire Log" in page


def test_report_of_the_connections_asked_for_decodes_those_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``report --conn 1`` is the full report's part for connection 1, and
    only connection 1 is decoded; one that is not there is named with
    those that are."""
    from wirelog.analysis import loaded

    multi = str(Path(SAMPLES) / "multi_conn.pcap")
    code, whole, err = cli("report", multi)
    assert code == 0, err
    decoded: list[int] = []
    real = loaded.decode

    def counting(path: str, options: object = None) -> object:
        out = real(path, options)  # type: ignore[arg-type]
        decoded.extend(d.conn for d in out)
        return out

    monkeypatch.setattr(loaded, "decode", counting)
    code, one, err = cli("report", multi, "--conn", "1")
    assert code == 0, err
    assert decoded == [1]
    title = f"{multi} - Connection 1 ("
    assert title in one and f"{multi} - Connection 0 (" not in one
    part = one[one.index(title) :]
    assert whole[whole.index(title) :].startswith(part.rstrip())
    code, _, err = cli("report", multi, "--conn", "7")
    assert code == 2 and err == f"wirelog: {multi}: no connection 7 (have 0, 1, 2)\n"


def test_report_of_an_input_without_connections(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    code, out, err = cli("report", str(empty))
    assert code == 2 and out == ""
    assert err == f"wirelog: {empty}: no connections\n"


def test_plot_output_must_be_a_directory(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("x")
    code, _, err = cli("plot", SEED, "-o", str(taken), "--kind", "opcodes")
    assert code == 2 and "exists and is not a directory" in err
    assert taken.read_text() == "x"


def test_ladder_of_one_connection(tmp_path: Path) -> None:
    out_dir = tmp_path / "p"
    path = os.path.join(SAMPLES, "multi_conn.pcap")
    code, out, err = cli("plot", path, "-o", str(out_dir), "-k", "ladder", "--conn", "1")
    assert code == 0, err
    assert out.splitlines() == [str(out_dir / "multi_conn_ladder_conn1.png")]  # one per --conn


@pytest.mark.parametrize("where", ["dir", "missing-folder"])
def test_report_output_that_cannot_be_written_names_the_output(tmp_path: Path, where: str) -> None:
    """Issue 11: ``report -o DIR`` blamed the input file (and a missing
    folder gave a traceback); the line names the output path, exit 2."""
    target = tmp_path if where == "dir" else tmp_path / "no" / "report.txt"
    code, out, err = cli("report", SEED, "-o", str(target))
    reason = "is a directory" if where == "dir" else f"no folder {tmp_path / 'no'}"
    assert code == 2 and out == ""
    assert err == f"wirelog: --output {target}: {reason}\n"


def test_plot_output_under_a_file_names_the_output(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("x")
    code, _, err = cli("plot", SEED, "-o", str(taken / "sub"), "--kind", "opcodes")
    assert code == 2
    assert err == f"wirelog: --output {taken / 'sub'}: Not a directory\n"
