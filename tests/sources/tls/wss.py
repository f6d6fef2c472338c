"""Real wss:// traffic for the TLS tests: the ``websockets`` echo server
behind Python's ``ssl`` in a child process (pinned to a TLS version and
cipher suite), a ``websockets`` client writing the key log
(``SSLContext.keylog_filename``), captured on loopback with tcpdump, and
tshark with the same key log as the oracle.

TLS 1.3 suites cannot be pinned from Python (``SSLContext`` has no
``set_ciphersuites`` in 3.11): the server child gets an ``OPENSSL_CONF``
whose ``system_default`` section sets ``Ciphersuites``, which OpenSSL
applies to every context it creates. Encrypt-then-MAC (negotiated by
default for CBC suites) is turned off with OpenSSL's
``SSL_OP_NO_ENCRYPT_THEN_MAC`` bit, which Python's ``ssl`` does not name.

Run as a script (``python wss.py CERT KEY CONFIG_JSON``) it is the server.
"""

from __future__ import annotations

import _ssl
import asyncio
import atexit
import contextlib
import ctypes
import datetime
import functools
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (ssl.h, OpenSSL 1.1.1 and 3.x).
OP_NO_ENCRYPT_THEN_MAC = 1 << 19

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))

import servers  # noqa: E402
from captures_util import tshark_frames  # noqa: E402


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed RSA certificate for 127.0.0.1 (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wirelog.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("wirelog.test")]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Variant:
    """How the server speaks TLS."""

    name: str
    tls13_suite: str | None = None
    """Pins TLS 1.3 to this suite (OpenSSL name)."""
    tls12_ciphers: str | None = None
    """Pins TLS 1.2 to these ciphers (``set_ciphers``)."""
    etm: bool = True
    groups: str | None = None
    """TLS 1.3: the server's only key-exchange groups (OpenSSL ``Groups``):
    one the client sends no key share for makes a HelloRetryRequest."""
    renegotiate: bool = False
    """TLS 1.2: the client renegotiates every fifth message (the server
    allows it with OpenSSL's SSL_OP_ALLOW_CLIENT_RENEGOTIATION)."""


VARIANTS = [
    Variant("tls13-aes128gcm", tls13_suite="TLS_AES_128_GCM_SHA256"),
    Variant("tls13-aes256gcm", tls13_suite="TLS_AES_256_GCM_SHA384"),
    Variant("tls13-chacha20", tls13_suite="TLS_CHACHA20_POLY1305_SHA256"),
    Variant("tls13-hello-retry", tls13_suite="TLS_AES_128_GCM_SHA256", groups="P-384"),
    Variant("tls12-aes128gcm", tls12_ciphers="ECDHE-RSA-AES128-GCM-SHA256"),
    Variant("tls12-aes256gcm", tls12_ciphers="ECDHE-RSA-AES256-GCM-SHA384"),
    Variant("tls12-chacha20", tls12_ciphers="ECDHE-RSA-CHACHA20-POLY1305"),
    Variant("tls12-cbc-sha256-etm", tls12_ciphers="ECDHE-RSA-AES128-SHA256"),
    Variant("tls12-cbc-sha256-noetm", tls12_ciphers="ECDHE-RSA-AES128-SHA256", etm=False),
    Variant("tls12-cbc-sha1-noetm", tls12_ciphers="AES128-SHA", etm=False),
    Variant("tls12-cbc-sha1-etm", tls12_ciphers="ECDHE-RSA-AES256-SHA"),
    Variant("tls12-aes128ccm", tls12_ciphers="AES128-CCM"),
    Variant("tls12-aes256ccm8", tls12_ciphers="AES256-CCM8"),
]
#: A suite wirelog does not decrypt (ARIA: ``cryptography`` has no ARIA-GCM).
UNSUPPORTED = Variant("tls12-aria128gcm", tls12_ciphers="ARIA128-GCM-SHA256")
RENEGOTIATION = Variant(
    "tls12-renegotiation", tls12_ciphers="ECDHE-RSA-AES128-GCM-SHA256", renegotiate=True
)
BY_NAME = {v.name: v for v in [*VARIANTS, UNSUPPORTED, RENEGOTIATION]}

#: OpenSSL's SSL_OP_ALLOW_CLIENT_RENEGOTIATION (ssl.h, 3.x): off by default.
OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8


@contextlib.contextmanager
def tls_server(folder: Path, variant: Variant) -> Iterator[int]:
    """The echo server behind TLS in a child process; its port."""
    cert, key = make_cert(folder)
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    if variant.tls13_suite:
        conf = folder / "openssl.cnf"
        conf.write_text(
            "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n"
            "[ssl_sect]\nsystem_default = system_default_sect\n"
            f"[system_default_sect]\nCiphersuites = {variant.tls13_suite}\n"
            + (f"Groups = {variant.groups}\n" if variant.groups else "")
        )
        env["OPENSSL_CONF"] = str(conf)
    config = json.dumps(
        {"ciphers": variant.tls12_ciphers, "etm": variant.etm, "renegotiate": variant.renegotiate}
    )
    proc = subprocess.Popen(
        [sys.executable, __file__, str(cert), str(key), config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"TLS server did not start: {line!r} {err[-500:]}")
        yield int(line.split()[1])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


@dataclass
class Sent:
    """What the client was told to send, per connection."""

    messages: list[list[bytes | str]] = field(default_factory=list)


def client_context(keylog: Path, variant: Variant) -> ssl.SSLContext:
    """A client that logs its keys and offers what the variant needs
    (Python's default cipher list leaves the SHA-1 CBC suites out)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = str(keylog)
    ctx.set_alpn_protocols(["http/1.1"])
    if variant.tls12_ciphers:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(variant.tls12_ciphers)
    return ctx


def messages(conn: int, count: int) -> list[bytes | str]:
    """Text and binary messages of many sizes, some past one TLS record."""
    out: list[bytes | str] = []
    for i in range(count):
        size = (0, 1, 125, 126, 1000, 20_000, 70_000)[i % 7] + conn
        if i % 2:
            out.append(bytes((i * 7 + j) & 0xFF for j in range(size)))
        else:
            unit = f"wirelog {conn}/{i} "
            out.append((unit * (size // len(unit) + 1))[:size])
    return out


def request_key_update(ssl_object: ssl.SSLObject) -> None:
    """Make OpenSSL send a TLS 1.3 KeyUpdate (update_requested, so the peer
    answers with its own) with the next write: ``ssl`` has no API for it,
    so OpenSSL's ``SSL_key_update`` is called on the ``SSL *`` that
    CPython's ``_ssl._SSLSocket`` holds right after its object header and
    its socket reference (Modules/_ssl.c, 3.11). ``SSL_version`` checks the
    pointer is an ``SSL`` first."""
    lib = ctypes.CDLL(_ssl.__file__)  # its libssl symbols, by dependency
    lib.SSL_version.argtypes = [ctypes.c_void_p]
    lib.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
    inner = ssl_object._sslobj  # type: ignore[attr-defined]
    pointer = ctypes.cast(id(inner), ctypes.POINTER(ctypes.c_void_p))[3]
    assert lib.SSL_version(pointer) == 0x0304, "not a TLS 1.3 SSL object"
    assert lib.SSL_key_update(pointer, 1) == 1  # SSL_KEY_UPDATE_REQUESTED


def request_renegotiation(ssl_object: ssl.SSLObject) -> None:
    """Make OpenSSL start a TLS 1.2 renegotiation (a new handshake under the
    current keys) with the next write, through ``SSL_renegotiate`` on the
    same ``SSL *`` as :func:`request_key_update`."""
    lib = ctypes.CDLL(_ssl.__file__)
    lib.SSL_version.argtypes = [ctypes.c_void_p]
    lib.SSL_renegotiate.argtypes = [ctypes.c_void_p]
    inner = ssl_object._sslobj  # type: ignore[attr-defined]
    pointer = ctypes.cast(id(inner), ctypes.POINTER(ctypes.c_void_p))[3]
    assert lib.SSL_version(pointer) == 0x0303, "not a TLS 1.2 SSL object"
    assert lib.SSL_renegotiate(pointer) == 1


async def _talk(
    port: int,
    ctx: ssl.SSLContext,
    sent: list[bytes | str],
    deflate: bool,
    key_updates: bool,
    renegotiate: bool = False,
) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        f"wss://127.0.0.1:{port}/",
        ssl=ctx,
        server_hostname="wirelog.test",
        compression="deflate" if deflate else None,
        max_size=None,
    ) as ws:
        for i, m in enumerate(sent):
            if key_updates and i % 4 == 3:
                request_key_update(ws.transport.get_extra_info("ssl_object"))
            if renegotiate and i % 5 == 4:
                request_renegotiation(ws.transport.get_extra_info("ssl_object"))
            await ws.send(m)
            assert await ws.recv() == m


def run_clients(
    port: int,
    keylog: Path,
    variant: Variant,
    conns: int = 2,
    count: int = 14,
    deflate: bool = False,
    key_updates: bool = False,
) -> list[list[bytes | str]]:
    """``conns`` connections one after another, each echoing ``count`` messages."""
    ctx = client_context(keylog, variant)
    sent = [messages(c, count) for c in range(conns)]

    async def main() -> None:
        for s in sent:
            await _talk(port, ctx, s, deflate, key_updates, variant.renegotiate)

    asyncio.run(main())
    return sent


@functools.cache
def tshark_tls_frames(
    path: Path, port: int, keylog: Path | None
) -> dict[tuple[int, int], list[tuple[int, bool, int]]]:
    """Frames tshark decrypts and decodes, per (tcp.stream, sender port),
    as (opcode, fin, payload length): TLS on ``port``, HTTP inside it
    (once per capture: the captures do not change; callers must not
    modify the result)."""
    extra = ["-o", f"tls.keylog_file:{keylog}"] if keylog is not None else []
    return tshark_frames(
        path, port, *extra, "-d", f"tcp.port=={port},tls", "-d", f"tls.port=={port},http"
    )


@dataclass(frozen=True)
class Capture:
    """A tcpdump capture of real wss traffic and the key log that decrypts it."""

    pcap: Path
    port: int
    keylog: Path
    sent: list[list[bytes | str]]
    variant: Variant


_captures: dict[tuple[str, bool, int, bool], Capture] = {}
_folder: list[Path] = []


def captured(
    name: str, deflate: bool = False, conns: int = 2, key_updates: bool = False
) -> Capture:
    """The capture of ``conns`` connections of variant ``name`` (made once
    per test session, removed at its end)."""
    key = (name, deflate, conns, key_updates)
    if key not in _captures:
        if not _folder:
            _folder.append(Path(tempfile.mkdtemp(prefix="wirelog-tls-")))
            atexit.register(shutil.rmtree, _folder[0], True)
        folder = _folder[0] / f"{name}-{int(deflate)}-{conns}-{int(key_updates)}"
        folder.mkdir()
        variant = BY_NAME[name]
        keylog = folder / "keys.log"
        with tls_server(folder, variant) as port, servers.tcpdump(port, tail=1.0) as raw:
            sent = run_clients(
                port, keylog, variant, conns, deflate=deflate, key_updates=key_updates
            )
        pcap = folder / "capture.pcap"
        shutil.move(raw, pcap)
        _captures[key] = Capture(pcap, port, keylog, sent, variant)
    return _captures[key]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: What the browser's page does: three messages echoed, then a clean close.
PAGE = """<html><body><pre id=log>open</pre><script>
const ws = new WebSocket("wss://127.0.0.1:PORT/");
let n = 0;
ws.onopen = () => { ws.send("hello from chromium"); ws.send(new Uint8Array(70000));
                    ws.send("x".repeat(20000)); };
ws.onmessage = () => { n += 1; if (n == 3) ws.close(1000, "done"); };
ws.onclose = (e) => { document.getElementById("log").textContent = "closed " + e.code; };
</script><script src="/slow.js"></script></body></html>"""


def chromium_session(folder: Path) -> Capture:
    """A real browser's wss traffic: headless Chromium loads a page (from
    a loopback HTTP server) whose script talks to the TLS echo server;
    Chromium writes the key log (``--ssl-key-log-file``). The page's last
    script is served after a pause, so that ``--dump-dom`` (which waits
    for the load event) returns after the WebSocket session closed."""
    import http.server
    import threading
    import time

    assert CHROMIUM is not None
    variant = BY_NAME["tls13-aes128gcm"]
    keylog = folder / "keys.log"
    with tls_server(folder, variant) as port:
        page = PAGE.replace("PORT", str(port)).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow.js":
                    time.sleep(3)
                body = b"/* loaded */" if self.path == "/slow.js" else page
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            with servers.tcpdump(port, tail=1.0) as raw:
                dom = subprocess.run(
                    [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--ignore-certificate-errors",
                     f"--user-data-dir={folder / 'profile'}", f"--ssl-key-log-file={keylog}",
                     "--dump-dom", f"http://127.0.0.1:{httpd.server_address[1]}/page.html"],
                    capture_output=True, text=True, timeout=90,
                )  # fmt: skip
        finally:
            httpd.shutdown()
            httpd.server_close()
    assert "closed 1000" in dom.stdout, dom.stdout[-500:]
    pcap = folder / "chromium.pcap"
    shutil.move(raw, pcap)
    sent: list[bytes | str] = ["hello from chromium", bytes(70000), "x" * 20000]
    return Capture(pcap, port, keylog, [sent], variant)


def _serve(cert: str, key: str, config: dict[str, Any]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    if config["ciphers"]:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(config["ciphers"])
    if not config["etm"]:
        ctx.options |= OP_NO_ENCRYPT_THEN_MAC  # type: ignore[assignment]
    if config["renegotiate"]:
        ctx.options |= OP_ALLOW_CLIENT_RENEGOTIATION  # type: ignore[assignment]
    servers._child_websockets("127.0.0.1", ctx)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
