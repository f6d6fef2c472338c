"""Headless Chromium (Debian's /usr/bin/chromium) driven over its DevTools
protocol, and the HAR its DevTools would save of the WebSocket sessions a
page makes: the Network domain's WebSocket events, turned into HAR entries
the way DevTools' HAR writer does (``_resourceType: websocket``,
``_webSocketMessages``: ``{type, time, opcode, data}``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]


class Page:
    """One page target, spoken to over CDP; every event is kept."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._id = 0

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(max(deadline - time.monotonic(), 0.01)))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def run(self, script: str) -> Any:
        out = self.call(
            "Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in out:
            raise RuntimeError(f"page script failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def har(self) -> dict[str, Any]:
        """The page's WebSocket connections as DevTools saves them in a HAR."""
        sockets: dict[str, dict[str, Any]] = {}
        for ev in self.events:
            method, p = ev.get("method", ""), ev.get("params", {})
            if not method.startswith("Network.webSocket"):
                continue
            s = sockets.setdefault(p["requestId"], {"frames": []})
            if method == "Network.webSocketCreated":
                s["url"] = p["url"]
            elif method == "Network.webSocketWillSendHandshakeRequest":
                s["wall0"], s["ts0"], s["request"] = p["wallTime"], p["timestamp"], p["request"]
            elif method == "Network.webSocketHandshakeResponseReceived":
                s["response"] = p["response"]
            elif method in ("Network.webSocketFrameSent", "Network.webSocketFrameReceived"):
                kind = "send" if method.endswith("Sent") else "receive"
                s["frames"].append((kind, p["timestamp"], p["response"]))
        entries = []
        for s in sockets.values():
            wall = lambda ts, s=s: s["wall0"] + (ts - s["ts0"])  # noqa: E731 - DevTools' pseudo wall time
            response = s.get("response", {})
            entries.append(
                {
                    "startedDateTime": datetime.fromtimestamp(s["wall0"], UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "time": 0,
                    "request": {
                        "method": "GET",
                        "url": s["url"],
                        "httpVersion": "HTTP/1.1",
                        "headers": _pairs(s["request"]["headers"]),
                        "queryString": [],
                        "cookies": [],
                        "headersSize": -1,
                        "bodySize": 0,
                    },
                    "response": {
                        "status": response.get("status", 0),
                        "statusText": response.get("statusText", ""),
                        "httpVersion": "HTTP/1.1",
                        "headers": _pairs(response.get("headers", {})),
                        "cookies": [],
                        "content": {"size": 0, "mimeType": "x-unknown"},
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": 0,
                    },
                    "cache": {},
                    "timings": {
                        "blocked": -1,
                        "dns": -1,
                        "connect": -1,
                        "send": 0,
                        "wait": 0,
                        "receive": 0,
                        "ssl": -1,
                    },
                    "_resourceType": "websocket",
                    "_webSocketMessages": [
                        {
                            "type": kind,
                            "time": wall(ts),
                            "opcode": f["opcode"],
                            "data": f["payloadData"],
                        }
                        for kind, ts, f in s["frames"]
                    ],
                }
            )
        return {
            "log": {
                "version": "1.2",
                "creator": {"name": "WebInspector", "version": "537.36"},
                "pages": [],
                "entries": entries,
            }
        }


def _pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    """CDP joins repeated headers with newlines; a HAR lists each."""
    return [{"name": k, "value": v} for k, vs in headers.items() for v in vs.split("\n")]


@contextlib.contextmanager
def page() -> Iterator[Page]:
    """A fresh headless Chromium with one blank page, Network enabled."""
    profile = tempfile.mkdtemp(prefix="wirelog-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not (os.path.exists(port_file) and Path(port_file).read_text().count("\n") >= 1):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = Path(port_file).read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(url, max_size=None, open_timeout=10) as ws:
            p = Page(ws)
            p.call("Network.enable")
            yield p
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        shutil.rmtree(profile, ignore_errors=True)
