"""``suite serve``: Autobahn's fuzzingserver without Autobahn (spec §3.7 step 5).

A library's existing Autobahn client driver runs unchanged: every URL of
the fuzzingserver API is a WebSocket connection on one listening port.

* ``/getCaseCount``: one text message, the number of cases;
* ``/getCaseInfo?case=N``: ``{"id": ..., "description": ...}``;
* ``/getCaseStatus?case=N&agent=A``: ``{"behavior": ...}`` once run;
* ``/runCase?case=N&agent=A`` (or ``casetuple=X.Y.Z``): the case itself,
  the server side of a server-mode reference run (the fuzzer as the
  server) played by :class:`~wirelog.replay.fuzzer.FuzzerRunner` and judged
  with the case's expectations (:func:`wirelog.suite.run.judged_run`);
* ``/updateReports?agent=A``: that agent's reports written in Autobahn's
  layout (:mod:`wirelog.suite.output`);
* ``/stopServer``: stop.

Cases are numbered 1..N in Autobahn's order of the selected cases. The
data-phase cases (9.x, 12.x, 13.x), whose messages the reference does not
log, are generated from their definitions as the server sends them
(:func:`wirelog.suite.generate.generate_server`: unmasked, 12.x/13.x
compressed as the 101 answers the client's offer) and judged by their own
checks; their reports say so. A case the reference cannot play otherwise
is answered with close 1011 and listed as not run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from wirelog.errors import PlanError
from wirelog.model import Opcode
from wirelog.pipeline import decode
from wirelog.protocol.connection import DecodedConnection
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.replay.chop import Chop, rechop
from wirelog.replay.fuzzer import FuzzerRunner
from wirelog.replay.head import request_key
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.transport import Wire
from wirelog.suite.cases import data_case
from wirelog.suite.generate import generate_server
from wirelog.suite.output import write_runs
from wirelog.suite.run import (
    DEFAULT_CASE_TIMEOUT,
    CaseRun,
    SuiteRun,
    fuzzer_plan,
    judged_run,
    selected,
    split_globs,
)

#: The longest request head read before a connection is dropped.
MAX_HEAD = 16384
_CLOSE_OK = encode_frame(Opcode.CLOSE, b"\x03\xe8")


@dataclass(slots=True)
class Fuzzingserver:
    """The cases on offer and what each agent's runs gave."""

    cases: list[DecodedConnection]
    out: str
    timeout: float = DEFAULT_CASE_TIMEOUT
    chop: Chop | None = None
    full_log: bool = False
    """Reports log the data phase too (``suite serve --full-log``)."""
    runs: dict[str, dict[str, CaseRun]] = field(default_factory=dict)
    not_run: dict[str, dict[str, str]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    answered: list[asyncio.Transport] = field(default_factory=list)
    """API connections, closed at the latest when the server stops."""

    def ids(self) -> list[str]:
        return [str(dc.connection.meta.get("case_id")) for dc in self.cases]

    def pick(self, query: dict[str, list[str]]) -> DecodedConnection | None:
        """The case a query names: ``case=N`` (1-based) or ``casetuple=id``."""
        if "casetuple" in query:
            want = query["casetuple"][0]
            return next(
                (dc for dc, i in zip(self.cases, self.ids(), strict=True) if i == want), None
            )
        try:
            n = int(query.get("case", [""])[0])
        except ValueError:
            return None
        return self.cases[n - 1] if 1 <= n <= len(self.cases) else None

    def route(self, transport: asyncio.Transport, head: bytes, data: bytes) -> None:
        """Answer one request (module docstring)."""
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        url = urlsplit(line[1] if len(line) > 1 else "/")
        query = parse_qs(url.query)
        agent = query.get("agent", ["UnknownClient"])[0]
        path = url.path.rstrip("/")
        case = self.pick(query)
        if path == "/runCase" and case is not None:
            self._run(transport, case, agent, data)
            return
        texts: list[str] = []
        if path == "/getCaseCount":
            texts.append(str(len(self.cases)))
        elif path == "/getCaseInfo" and case is not None:
            meta = case.connection.meta
            texts.append(
                json.dumps({"id": meta.get("case_id"), "description": meta.get("description")})
            )
        elif path == "/getCaseStatus" and case is not None:
            done = self.runs.get(agent, {}).get(str(case.connection.meta.get("case_id")))
            texts.append(json.dumps({"behavior": done.verdict.behavior if done else None}))
        elif path == "/updateReports":
            self._track(asyncio.ensure_future(self._update(transport, head, agent)))
            return
        elif path == "/stopServer":
            self.stop.set()
        else:
            transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            transport.close()
            return
        _answer(transport, head, texts)
        self.answered = [t for t in self.answered if not t.is_closing()] + [transport]

    def _run(
        self, transport: asyncio.Transport, case: DecodedConnection, agent: str, data: bytes
    ) -> None:
        case_id = str(case.connection.meta.get("case_id"))
        head = data[: data.find(b"\r\n\r\n") + 4]
        definition = data_case(case_id)
        sent: tuple[tuple[bool, bytes], ...] | None = None
        timeout = self.timeout
        try:
            if definition is not None:
                # The data phase is not in the reference: generated, as the
                # server, answering this client's offer (wirelog.suite.offer).
                gen = generate_server(case, case_id, definition, head)
                plan, sent = gen.plan, gen.sent
                timeout += definition.wait
            else:
                plan = fuzzer_plan(case)
            if self.chop is not None:
                plan = rechop(plan, self.chop)
        except PlanError as exc:
            self.not_run.setdefault(agent, {})[case_id] = str(exc)
            _answer(transport, head, [], code=1011)
            return
        runner = FuzzerRunner(plan, timeout=timeout, label=f"suite:{case_id}", fit_accept=True)
        wire = Wire(runner)
        transport.set_protocol(wire)
        wire.connection_made(transport)
        runner.on_data(data)

        async def play() -> None:
            await runner.run()
            result = ReplayResult(plan, runner.conn, runner.outcome, agent)
            done = judged_run(case, result, agent, sent=sent, full_log=self.full_log)
            self.runs.setdefault(agent, {})[case_id] = done

        self._track(asyncio.ensure_future(play()))

    def _track(self, task: asyncio.Task[None]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _update(self, transport: asyncio.Transport, head: bytes, agent: str) -> None:
        """``/updateReports``: once the cases still being judged are, the
        reports written off the loop (a 12.x case's HTML takes most of a
        second), then the answer, as Autobahn answers once they are written."""
        me = asyncio.current_task()
        pending = [t for t in self.tasks if t is not me]
        if pending:
            await asyncio.wait(pending, timeout=self.timeout * 3)
        await asyncio.to_thread(self.report, agent)
        _answer(transport, head, [])
        self.answered = [t for t in self.answered if not t.is_closing()] + [transport]

    def report(self, agent: str) -> str:
        """Write the reports of every agent seen so far (``agent`` among
        them), as Autobahn's updateReports does: one driver after another
        against the same server share one index; the index.json path."""
        runs = []
        for name in sorted({agent, *self.runs, *self.not_run}):
            run = SuiteRun(name, list(self.runs.get(name, {}).values()))
            run.not_run = sorted(self.not_run.get(name, {}).items())
            runs.append(run)
        return write_runs(runs, self.out)


def _answer(transport: asyncio.Transport, head: bytes, texts: list[str], code: int = 1000) -> None:
    """Upgrade, send ``texts`` as messages, close with ``code``, and drop
    TCP once the client answered the close (or after a second)."""
    key = request_key(head) or ""
    transport.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(key).encode() + b"\r\n\r\n"
    )
    for t in texts:
        transport.write(encode_frame(Opcode.TEXT, t.encode()))
    transport.write(encode_frame(Opcode.CLOSE, code.to_bytes(2, "big")))
    transport.set_protocol(_Closing(transport))
    asyncio.get_running_loop().call_later(1.0, transport.close)


class _Closing(asyncio.Protocol):
    """After our close: the client's answer ends the connection."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.close()


class _Request(asyncio.Protocol):
    """Reads a request head, then hands the connection to the server."""

    def __init__(self, server: Fuzzingserver) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                self.transport.close()
            return
        raw = bytes(self.buf)
        self.server.route(self.transport, raw[: end + 4], raw)


async def serve(
    reference: str,
    host: str,
    port: int,
    out: str,
    *,
    cases: Iterable[str] = (),
    exclude: Iterable[str] = (),
    timeout: float = DEFAULT_CASE_TIMEOUT,
    ready: Callable[[str, int], None] | None = None,
    chop: Chop | None = None,
    full_log: bool = False,
) -> Fuzzingserver:
    """Serve the fuzzingserver API until ``/stopServer`` (or cancellation);
    ``ready(host, port)`` once listening (port 0 picks one)."""
    include, skip = split_globs(cases), split_globs(exclude)
    offered = [
        dc
        for dc in decode(reference)
        if selected(str(dc.connection.meta.get("case_id")), include, skip)
    ]
    fs = Fuzzingserver(offered, out, timeout, chop, full_log)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Request(fs), host, port, reuse_address=True)
    try:
        bound = server.sockets[0].getsockname()
        if ready is not None:
            ready(bound[0], bound[1])
        await fs.stop.wait()
    finally:
        server.close()
        began = time.perf_counter()
        while fs.tasks and time.perf_counter() - began < timeout * 3:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # the last API answer's close reply
        for t in fs.answered:
            t.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
    return fs


__all__ = ["Fuzzingserver", "serve"]
