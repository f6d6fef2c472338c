"""``wirelog suite judge`` and ``wirelog suite diff`` in-process (typer's
CliRunner): output shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from suite_data import REPORTS
from typer.testing import CliRunner

from wirelog.cli import app

RUN = REPORTS / "testing-a-server"


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_judge_json_is_one_object_per_case() -> None:
    code, out, _ = cli("suite", "judge", str(RUN / "index.json"), "-f", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 517
    assert {"source", "id", "behavior", "behaviorClose"} <= rows[0].keys()
    index = json.loads((RUN / "index.json").read_text())["websock server"]
    assert all(r["behavior"] == index[r["id"]]["behavior"] for r in rows)


def test_judge_table_and_a_bad_input() -> None:
    code, out, err = cli("suite", "judge", str(RUN / "websock_server_case_6_4_1.json"))
    assert code == 0
    assert "6.4.1" in out and "NON-STRICT" in out
    code, out, err = cli("suite", "judge", str(RUN / "websock_server_case_6_4_1.html"))
    assert code == 2
    assert err.count("\n") == 1 and "expectedClose" in err


def test_diff_exit_codes(tmp_path: object) -> None:
    other = REPORTS / "testing-a-client"
    code, out, _ = cli("suite", "diff", str(RUN), str(other))
    assert (code, out) == (0, "no verdict changed\n")
    code, out, err = cli("suite", "diff", str(RUN), "/nonexistent")
    assert code == 2 and "/nonexistent" in err


def test_diff_json_lists_changes(tmp_path: object) -> None:
    from pathlib import Path

    tmp = Path(str(tmp_path))
    src = RUN / "websock_server_case_1_1_1.json"
    doc = json.loads(src.read_text())
    (tmp / "a_case_1_1_1.json").write_text(json.dumps(doc))
    b = tmp / "b"
    b.mkdir()
    doc["received"] = []
    (b / "a_case_1_1_1.json").write_text(json.dumps(doc))
    code, out, _ = cli("suite", "diff", str(tmp / "a_case_1_1_1.json"), str(b), "-f", "json")
    assert code == 1
    [change] = json.loads(out)
    assert change["id"] == "1.1.1" and change["b"]["behavior"] == "FAILED"
    code, out, _ = cli("suite", "diff", str(tmp / "a_case_1_1_1.json"), str(b))
    assert code == 1 and "OK/UNCLEAN" in out and "FAILED/UNCLEAN" in out


def test_run_writes_autobahns_layout_and_exits_by_verdict(tmp_path: Path) -> None:
    from suite_peers import NoUtf8Echo

    out, xml = tmp_path / "out", tmp_path / "junit.xml"
    with NoUtf8Echo() as peer:
        args = ["suite", "run", str(RUN), "--target", peer.url, "--out", str(out)]
        code, stdout, _ = cli(*args, "--cases", "6.2.1", "--cases", "6.3.*", "--junit", str(xml))
    assert code == 1  # 6.3.1 and 6.3.2 echo invalid UTF-8 back: FAILED
    assert "3 cases" in stdout and "FAILED 6.3.1" in stdout
    index = json.loads((out / "index.json").read_text())
    assert sorted(index["UnknownServer"]) == ["6.2.1", "6.3.1", "6.3.2"]
    assert (out / "index.html").is_file() and xml.read_text().count("<failure") == 2
    with NoUtf8Echo() as peer:
        args = ["suite", "run", str(RUN), "--target", peer.url, "--out", str(out)]
        code, stdout, _ = cli(
            *args, "--cases", "6.2.*", "--exclude-cases", "6.2.4", "--agent", "x", "--chop", "1"
        )
    assert code == 0 and "3 cases" in stdout


def test_run_errors_are_one_line() -> None:
    code, _, err = cli("suite", "run", str(RUN), "--target", "http://x", "--out", "/tmp/x")
    assert code == 2 and err.count("\n") == 1 and "ws://" in err
    args = ["suite", "run", str(RUN), "--target", "ws://127.0.0.1:9/", "--out", "/tmp/x"]
    code, _, err = cli(*args, "--cases", "99.*")
    assert code == 2 and "no case matches" in err
    code, _, err = cli(*args, "--timeout", "0")
    assert code == 2 and "--timeout" in err
    code, _, err = cli(*args, "--chop", "x")
    assert code == 2 and "--chop" in err


def test_serve_until_stop_server(tmp_path: Path) -> None:
    import contextlib
    import socket
    import threading
    import time

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ref = str(RUN.parent / "testing-a-client")
    box: dict[str, tuple[int, str, str]] = {}
    args = ["suite", "serve", ref, "--listen", f"127.0.0.1:{port}", "--out", str(tmp_path)]
    thread = threading.Thread(target=lambda: box.update(r=cli(*args, "--cases", "2.1")))
    thread.start()
    url = f"ws://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with connect(f"{url}/getCaseCount", open_timeout=2) as ws:
                assert ws.recv(timeout=5) == "1"
            break
        except OSError:
            time.sleep(0.1)
    with contextlib.suppress(ConnectionClosed), connect(f"{url}/stopServer") as ws:
        ws.recv(timeout=5)  # nothing comes: the server closes
    thread.join(60)
    code, out, _ = box["r"]
    assert code == 0 and f"ws://127.0.0.1:{port}" in out
    code, _, err = cli("suite", "serve", ref, "--listen", "nowhere", "--out", str(tmp_path))
    assert code == 2 and "--listen" in err


def test_full_log_keeps_the_data_phase_autobahn_leaves_out(tmp_path: Path) -> None:
    """``--full-log``: 9.7.1's 1000 round trips are in the report as frames
    (a library author debugging a data-phase failure reads them); without
    it the report logs what Autobahn's does: no data frame, WLM around."""
    from suite_peers import NoUtf8Echo

    logs = {}
    with NoUtf8Echo() as peer:
        for name, extra in (("quiet", []), ("full", ["--full-log"])):
            out = tmp_path / name
            args = ["suite", "run", str(RUN), "--target", peer.url, "--out", str(out)]
            code, _, _ = cli(*args, "--cases", "9.7.1", *extra)
            assert code == 0
            [report] = out.glob("*_case_9_7_1.json")
            logs[name] = json.loads(report.read_text())["wirelog"]
    data = [e for e in logs["full"] if e[0] in ("TF", "RF") and e[2] == 1]
    assert len(data) == 2000  # each message sent and its echo
    assert not any(e[0] == "WLM" for e in logs["full"])
    assert [e for e in logs["quiet"] if e[0] in ("TF", "RF") and e[2] == 1] == []
    assert [e[1] for e in logs["quiet"] if e[0] == "WLM"] == [False, True]
