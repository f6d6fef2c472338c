"""TLS decryption speed: the same WebSocket session plain and inside TLS 1.3,
wirelog beside tshark with the same key log.

A script, not a test::

    .venv/bin/python benchmarks/bench_tls.py [--frames 200000] [--keep DIR]

The plain capture is :mod:`bench_capture`'s synthetic session (a real HTTP
Upgrade, then masked client and unmasked server frames of mixed sizes, one
frame per segment, several per segment, large ones over several segments).
The TLS capture is the very same session, segment for segment, with every
payload encrypted by OpenSSL itself: Python's ``ssl`` runs a real TLS 1.3
handshake between two ``SSLObject``\\ s over memory BIOs (the client writing
the NSS key log), each segment's payload goes through the sender's
``SSLObject.write`` and the records that come out are the segment's
payload. Each run is a fresh process, timed by GNU time:

* ``wirelog decode --format jsonl`` on the plain capture, and on the TLS one
  with ``--keylog``;
* ``tshark`` exporting the same fields as a wirelog jsonl line (see
  bench_capture), plain and with ``-o tls.keylog_file:KEYS``.

The issue's targets: decryption at most doubles wirelog's plain time, and
stays well under tshark's time on the TLS capture.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from bench_capture import PORT, TSHARK_FULL, Writer, count_lines, run, synthesize


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate (cryptography)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.wirelog")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsWriter(Writer):
    """A :class:`Writer` whose payloads travel inside a TLS 1.3 session."""

    folder: Path
    """Where the certificate and the key log go (set before use)."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__(fh)
        cert, key = _certificate(self.folder)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        client_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        client_ctx.keylog_filename = str(self.folder / "keys.log")
        self.bio = {side: (ssl.MemoryBIO(), ssl.MemoryBIO()) for side in (True, False)}
        self.obj = {
            True: client_ctx.wrap_bio(*self.bio[True], server_hostname="bench.wirelog"),
            False: server_ctx.wrap_bio(*self.bio[False], server_side=True),
        }
        self.established = False

    def _flight(self, client: bool) -> None:
        """Run one side's handshake step; its output is one segment."""
        with contextlib.suppress(ssl.SSLWantReadError):
            self.obj[client].do_handshake()
        self._send(client)

    def _send(self, client: bool) -> None:
        out = self.bio[client][1].read()
        if out:
            super().packet(client, out)
            self.bio[not client][0].write(out)
            self._drain(not client)

    def _drain(self, side: bool) -> None:
        """The receiver reads (and forgets) what arrived."""
        if not self.established:
            return
        obj = self.obj[side]
        try:
            while obj.read(1 << 20):
                pass
        except ssl.SSLWantReadError:
            pass

    def packet(self, from_client: bool, payload: bytes, flags: int = 0x18) -> None:
        if not payload:
            super().packet(from_client, payload, flags)
            return
        if not self.established:
            for side in (True, False, True, False):
                self._flight(side)
            self.established = True
            self._drain(True)  # the server's session tickets
        self.obj[from_client].write(payload)
        self._send(from_client)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="write the captures here and keep them")
    args = ap.parse_args()
    here = Path(sys.executable).parent
    wirelog = str(here / "wirelog") if (here / "wirelog").exists() else "wirelog"
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="wirelog-bench-tls-"))
    tmp.mkdir(parents=True, exist_ok=True)
    plain, tls = tmp / "plain.pcap", tmp / "tls13.pcap"
    keys = tmp / "keys.log"
    t0 = time.perf_counter()
    synthesize(plain, args.frames)
    TlsWriter.folder = tmp
    synthesize(tls, args.frames, writer=TlsWriter)
    print(
        f"synthesized {plain.name} ({plain.stat().st_size / 2**20:.0f} MiB) and {tls.name} "
        f"({tls.stat().st_size / 2**20:.0f} MiB): {args.frames} frames each "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    decode = [wirelog, "decode", "--format", "jsonl"]
    n_plain = count_lines([*decode, str(plain)])
    n_tls = count_lines([*decode, "--keylog", str(keys), str(tls)])
    print(f"wirelog decodes {n_plain} frames plain, {n_tls} inside TLS")
    assert n_plain == n_tls, "the TLS capture must decode to the same frames"
    results: list[tuple[str, str, float, float, float]] = []
    for label, cmd in (
        ("wirelog decode --format jsonl", [*decode, str(plain)]),
        ("wirelog decode --format jsonl --keylog", [*decode, "--keylog", str(keys), str(tls)]),
    ):
        wall, cpu, rss, code = run(cmd)
        assert code == 0, code
        results.append((label, Path(cmd[-1]).name, wall, cpu, rss))
    if shutil.which("tshark"):
        fields = [a for f in TSHARK_FULL for a in ("-e", f)]
        tail = ["-Y", "websocket", "-T", "fields", "-E", "occurrence=a", *fields]
        base = ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE"]
        for label, extra, path in (
            ("tshark, same fields", ["-d", f"tcp.port=={PORT},http"], plain),
            (
                "tshark, same fields, -o tls.keylog_file",
                [
                    "-o",
                    f"tls.keylog_file:{keys}",
                    "-d",
                    f"tcp.port=={PORT},tls",
                    "-d",
                    f"tls.port=={PORT},http",
                ],
                tls,
            ),
        ):
            wall, cpu, rss, _ = run([*base, "-r", str(path), *extra, *tail])
            results.append((label, path.name, wall, cpu, rss))
    print()
    print(f"{'tool':<44} {'capture':<11} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13}")
    for name, cap, wall, cpu, rss in results:
        print(f"{name:<44} {cap:<11} {wall:>7.2f} {cpu:>7.2f} {rss:>13.0f}")
    print()
    ours_plain, ours_tls = results[0][3], results[1][3]
    print(f"wirelog TLS / wirelog plain: {ours_tls / ours_plain:.2f} of the CPU time (target <= 2)")
    if len(results) == 4:
        theirs = results[3][3]
        print(f"wirelog TLS / tshark TLS: {ours_tls / theirs:.2f} of its CPU time (well under 1)")
    if not args.keep:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
