"""``suite serve`` driven the way a library's Autobahn client driver drives
Autobahn's fuzzingserver: the ``websockets`` client asks for the case count,
runs each case as an echo client, then asks for the reports. The reference
is the shared server-mode run (the fuzzer was the server, testing the
nim-websock client)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from suite_data import REPORTS, logs_as_autobahn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from wirelog.model import Opcode, Role
from wirelog.protocol.frames import encode_frame
from wirelog.replay.progress import Progress
from wirelog.suite.serve import Fuzzingserver, serve

REFERENCE = str(REPORTS / "testing-a-client")
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


@contextlib.contextmanager
def fuzzingserver(out: Path, cases: str) -> Iterator[tuple[str, dict[str, Fuzzingserver]]]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    def started(host: str, port: int) -> None:
        box["url"] = f"ws://{host}:{port}"
        ready.set()

    async def main() -> None:
        box["fs"] = await serve(REFERENCE, "127.0.0.1", 0, str(out), cases=[cases], ready=started)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "suite serve did not start"
    done: dict[str, Fuzzingserver] = {}
    try:
        yield str(box["url"]), done
    finally:
        stop = f"{box['url']}/stopServer"
        with contextlib.suppress(OSError, ConnectionClosed), connect(stop, open_timeout=5) as ws:
            ws.recv(timeout=5)
        thread.join(30)
        loop.close()
        if "fs" in box:
            done["fs"] = box["fs"]  # type: ignore[assignment]


def _text(url: str) -> str | None:
    # updateReports answers once the reports are written (seconds for 12.x)
    with connect(url, open_timeout=60) as ws:
        try:
            msg = ws.recv(timeout=5)
        except ConnectionClosed:
            return None
        return msg if isinstance(msg, str) else msg.decode()


def test_a_websockets_client_driver_runs_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "clients"
    with fuzzingserver(out, "1.*,2.*,5.*,7.7.*,9.1.1") as (url, done):
        count = int(_text(f"{url}/getCaseCount") or 0)
        assert count == 8 + 8 + 11 + 20 + 13 + 1
        info = json.loads(_text(f"{url}/getCaseInfo?case=1") or "{}")
        assert info["id"] == "1.1.1"
        for n in range(1, count + 1):
            case = f"{url}/runCase?case={n}&agent=websockets"
            with contextlib.suppress(ConnectionClosed), connect(case, max_size=None) as ws:
                for msg in ws:
                    ws.send(msg)
        status = json.loads(_text(f"{url}/getCaseStatus?case=1&agent=websockets") or "{}")
        assert status["behavior"] == "OK"
        assert _text(f"{url}/updateReports?agent=websockets") is None
    index = json.loads((out / "index.json").read_text())["websockets"]
    assert len(index) == count  # 9.1.1's data phase (not in the reference) generated
    assert done["fs"].not_run == {}
    bad = {
        k: (v["behavior"], v["behaviorClose"])
        for k, v in index.items()
        if v["behavior"] not in PASSING
    }
    assert bad == {}
    # the fuzzer is the server here: it may drop TCP itself, never "FAILED BY CLIENT"
    assert {v["behaviorClose"] for v in index.values()} <= {"OK", "INFORMATIONAL"}
    case = json.loads((out / index["2.10"]["reportfile"]).read_text())
    assert case["isServer"] is True and len(case["received"]) == 10
    # Every case ended on its closing handshake, the fuzzer dropping TCP as
    # Autobahn's does; none waited for a timer the recording never needed.
    runs = done["fs"].runs["websockets"]
    waited = {k: r.notes for k, r in runs.items() if any(_waited(n) for n in r.notes)}
    assert waited == {}
    assert all(
        json.loads((out / v["reportfile"]).read_text())["droppedByMe"] for v in index.values()
    )


def _waited(note: str) -> bool:
    return "which it did not in the recording" in note or note.startswith(("never", "stalled"))


def _fail_fast(host: str, port: int, agent: str) -> bytes:
    """A client that fails the connection on the first two octets after the
    101: everything the server sent until it dropped TCP."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"GET /runCase?case=1&agent={agent} HTTP/1.1\r\nHost: x\r\n".encode()
            + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        got = b""
        while b"\r\n\r\n" not in got or len(got) < got.find(b"\r\n\r\n") + 6:
            got += sock.recv(1)
        sock.sendall(encode_frame(Opcode.CLOSE, b"\x03\xea", mask=b"abcd"))
        while chunk := sock.recv(65536):
            got += chunk
    return got


def test_a_close_during_a_chopped_frame_is_answered_after_that_frame(tmp_path: Path) -> None:
    # 5.11 writes its frames octet by octet; a client that fails the
    # connection early closes while a frame is half sent (most runs: which
    # octet the close meets is a race, hence several). The answer must follow
    # that frame: inside it, it would be payload (no close seen, no TCP drop,
    # the case ending on its kill timer and the end-of-session timeout).
    with fuzzingserver(tmp_path, "5.11") as (url, done):
        host, port = url.removeprefix("ws://").split(":")
        streams = [_fail_fast(host, int(port), f"raw{n}") for n in range(8)]
    for n, got in enumerate(streams):
        stream = Progress(Role.SERVER)
        stream.feed(got)
        assert stream.close_seen and stream.close_payload == b"\x03\xea" and stream.extra == 0
        run = done["fs"].runs[f"raw{n}"]["5.11"]
        assert run.verdict.behavior == "OK" and not any(_waited(n) for n in run.notes)
        assert run.doc["droppedByMe"] is True and run.doc["wasClean"] is True


def _drive(url: str, agent: str, **options: object) -> int:
    """A websockets echo client as an Autobahn client driver: every case."""
    count = int(_text(f"{url}/getCaseCount") or 0)
    for n in range(1, count + 1):
        case = f"{url}/runCase?case={n}&agent={agent}"
        with contextlib.suppress(ConnectionClosed), connect(case, max_size=None, **options) as ws:  # type: ignore[arg-type]
            for msg in ws:
                ws.send(msg)
    return count


def test_generated_data_cases_judged_as_autobahn_judges_a_compliant_client(
    tmp_path: Path,
) -> None:
    # 9.x, 12.x, 13.x log no data phase: the server side is generated. The
    # websockets client offers permessage-deflate with client_max_window_bits;
    # 13.3.1 answers client_max_window_bits=9, 13.7.1 also context takeover off.
    picked = "9.1.1,9.5.1,12.1.1,12.2.1,13.1.1,13.3.1,13.7.1"
    reference = json.loads((REPORTS / "testing-a-client" / "index.json").read_text())
    [recorded] = reference.values()
    with fuzzingserver(tmp_path, picked) as (url, done):
        count = _drive(url, "websockets")
        assert _text(f"{url}/updateReports?agent=websockets") is None
    index = json.loads((tmp_path / "index.json").read_text())["websockets"]
    assert len(index) == count == 7 and done["fs"].not_run == {}
    for case_id, v in index.items():
        # the data checks as Autobahn's gave the recorded client; the close
        # OK, as for a client that closes cleanly
        assert (v["behavior"], v["behaviorClose"]) == (recorded[case_id]["behavior"], "OK")
        doc = json.loads((tmp_path / v["reportfile"]).read_text())
        assert "generated by wirelog" in doc["description"]
        assert doc["droppedByMe"] is True
        logs_as_autobahn(REPORTS / "testing-a-client", case_id, doc)
    answer = {
        k: json.loads((tmp_path / index[k]["reportfile"]).read_text())["httpResponse"]
        for k in ("9.1.1", "12.1.1", "13.3.1", "13.7.1")
    }
    assert "Extensions" not in answer["9.1.1"]
    assert "Sec-WebSocket-Extensions: permessage-deflate\r\n" in answer["12.1.1"]
    assert "permessage-deflate; client_max_window_bits=9\r\n" in answer["13.3.1"]
    assert "client_no_context_takeover; client_max_window_bits=9" in answer["13.7.1"]
    runs = done["fs"].runs["websockets"]
    assert not {k: r.notes for k, r in runs.items() if any(_waited(n) for n in r.notes)}


def test_a_client_that_offers_no_deflate_gets_no_extension(tmp_path: Path) -> None:
    with fuzzingserver(tmp_path, "12.1.1") as (url, done):
        _drive(url, "plain", compression=None)
    run = done["fs"].runs["plain"]["12.1.1"]
    # Autobahn's verdict when no permessage-deflate was agreed
    assert run.verdict.behavior == "UNIMPLEMENTED"
    assert "Extensions" not in run.doc["httpResponse"]


def test_unknown_urls_and_cases(tmp_path: Path) -> None:
    with fuzzingserver(tmp_path, "2.1") as (url, _):
        assert _text(f"{url}/getCaseStatus?case=1&agent=nobody") == '{"behavior": null}'
        assert _text(f"{url}/getCaseInfo?casetuple=2.1") == (
            '{"id": "2.1", "description": "Send ping without payload."}'
        )
        with contextlib.suppress(Exception), connect(f"{url}/nothing", open_timeout=5):
            raise AssertionError("a 404 must refuse the upgrade")
        with contextlib.suppress(Exception), connect(f"{url}/runCase?case=x", open_timeout=5):
            raise AssertionError("no such case")
