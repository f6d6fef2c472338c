"""One TLS connection, both directions: TCP pieces in, plaintext pieces out.

The flow engine hands a connection's reassembled pieces (in capture order,
per direction) to :meth:`TlsStream.feed` and gets back the pieces of the
decrypted stream: one DATA piece per application-data record (its
plaintext, the time of the segment that completed the record, as Wireshark
shows a decrypted record at that frame, and in the packet's place the
record's number: the direction's records counted from 0 as they were on
the wire, handshake and lost ones included), GAP pieces where
plaintext was lost, and the FIN. The HTTP watch and the WebSocket decoder
see that stream exactly as they see a plain one.

Keys come from the :class:`~wirelog.sources.tls.keylog.KeyStore` once the
ServerHello names the version and the suite: TLS 1.3 switches each side
from its handshake key to its traffic key after its Finished and on each
KeyUpdate; TLS 1.2 switches a side at its ChangeCipherSpec. What cannot be
decrypted is reported through ``report`` (one line each) and never raised:
a session without key (its octets counted, said once at the end), a record
that does not verify, a gap inside a record, a resynchronisation.

TLS 1.3 0-RTT (RFC 8446 §2.3, §4.2.10): a resumed client may send
application data under its early traffic secret right behind the
ClientHello, before any key but that one exists. Those records are held
until the ServerHello names the suite, then opened with the key log's
``CLIENT_EARLY_TRAFFIC_SECRET``; records that follow, up to the client's
EndOfEarlyData, are opened with it too. Whether the server took them is
known only then: the client sends EndOfEarlyData only when the server
accepted (§4.5), and only then does their plaintext join the stream,
ahead of everything after the handshake; refused, they are left out and
said so. Without the early secret, the early records are skipped without
disturbing the handshake key's record numbers, and the plaintext the
server took is a gap.
"""

from __future__ import annotations

from collections.abc import Callable

from wirelog.model import TlsInfo
from wirelog.sources.pcap.tcp import DATA, FIN, GAP, Piece
from wirelog.sources.tls import handshake as hs
from wirelog.sources.tls import keylog
from wirelog.sources.tls.decrypt import RecordCipher
from wirelog.sources.tls.keys import CBC, SUITES, Suite, tls12_keys, tls13_key_iv, tls13_update
from wirelog.sources.tls.records import END, HEADER, LOST, Record, RecordReader

_CCS = 20
_ALERT = 21
_HANDSHAKE = 22
_APPDATA = 23

#: Sequence numbers tried when resynchronising after lost records.
MAX_RESYNC = 4096
#: 0-RTT octets held at most (servers take 16 KiB or so: max_early_data).
MAX_EARLY = 1 << 24


class _Side:
    """One direction's record-layer state."""

    __slots__ = (
        "cipher", "client", "early", "early_octets", "held", "kept", "lost", "messages", "next",
        "pending", "reader", "records", "secret", "taken",
    )  # fmt: skip

    def __init__(self, client: bool) -> None:
        self.client = client
        self.reader: RecordReader
        self.messages = hs.Messages()
        self.cipher: RecordCipher | None = None
        self.next: RecordCipher | None = None
        """TLS 1.2: the cipher its ChangeCipherSpec starts."""
        self.secret: bytes | None = None
        """TLS 1.3: the traffic secret its Finished starts (then the current one)."""
        self.records = 0
        self.lost = 0
        """Octets of unknown records lost, not yet given as a plaintext gap."""
        # -- TLS 1.3 0-RTT (the client's side only; module docstring) --
        self.early: RecordCipher | None = None
        """The early traffic key, while 0-RTT records may still come."""
        self.held: list[Record] = []
        """0-RTT records that came before the ServerHello gave any key."""
        self.pending: list[Piece] = []
        """0-RTT plaintext, until EndOfEarlyData says the server took it."""
        self.taken = False
        """EndOfEarlyData went by: the server took the 0-RTT data."""
        self.early_octets = 0
        """Without the early key: plaintext octets of the 0-RTT records skipped."""
        self.kept = 0
        """Octets held in :attr:`held` and :attr:`pending` (at most :data:`MAX_EARLY`)."""

    @property
    def name(self) -> str:
        return "client" if self.client else "server"


class TlsStream:
    """A TLS connection's plaintext, as the decrypting layer between TCP and HTTP."""

    def __init__(
        self, keys: keylog.KeyStore, client_is_a: bool, report: Callable[[str], None]
    ) -> None:
        self.keys = keys
        self.client_is_a = client_is_a
        self.report = report
        self.client_hello: hs.Hello | None = None
        self.server_hello: hs.Hello | None = None
        self.suite: Suite | None = None
        self.alpn: tuple[str, ...] = ()
        self.without_key = False
        """No secret for this session: its protected octets are counted."""
        self.unsupported: str | None = None
        self.skipped = 0
        self.early_taken = False
        """The server's EncryptedExtensions accepted 0-RTT data."""
        self._out: list[Piece] = []
        self._at = (0, 0)
        """Time and packet of the piece being read."""
        self._sides = {True: _Side(True), False: _Side(False)}
        for side in self._sides.values():
            side.reader = RecordReader(self._resyncer(side), self._emitter(side))

    # -- the engine's side -------------------------------------------------

    def feed(self, from_a: bool, pieces: list[Piece]) -> list[Piece]:
        """The plaintext pieces these TCP pieces of one direction give."""
        out: list[Piece] = []
        self._out = out
        reader = self._sides[from_a == self.client_is_a].reader
        for piece in pieces:
            self._at = piece[3], piece[4]
            reader.feed(piece)
        return out

    def finish(self) -> list[tuple[bool, list[Piece]]]:
        """The connection ended without the client's FIN (a capture that
        stops): the 0-RTT plaintext still held, if the server took it, as
        ``(from_a, pieces)``."""
        out: list[Piece] = []
        self._out = out
        client = self._sides[True]
        self._early_end(client)
        if client.early_octets:
            self._early_lost(client, out)
        return [(self.client_is_a, out)] if out else []

    def info(self) -> TlsInfo:
        """SNI, ALPN, version and cipher suite, as far as the hellos said."""
        ch, sh = self.client_hello, self.server_hello
        version = hs.VERSIONS.get(sh.version, f"0x{sh.version:04x}") if sh else None
        cipher = None
        if sh is not None and sh.suites:
            s = SUITES.get(sh.suites[0])
            cipher = s.name if s else f"0x{sh.suites[0]:04x}"
        alpn = self.alpn or (sh.alpn if sh else ())
        return TlsInfo(version, cipher, ch.sni if ch else None, alpn[0] if alpn else None)

    @property
    def decrypts(self) -> bool:
        """The session's keys were found and its suite is one wirelog reads."""
        return self.suite is not None and not self.without_key

    def carried(self, start: bytes, http: bool) -> str:
        """What a decrypted session that was no WebSocket carried, from the
        first plaintext octets one side sent (``start``) and whether the HTTP
        watch read a request: for the line saying why nothing decoded."""
        if start.startswith(b"PRI * HTTP/2.0") or (not start and self.info().alpn == "h2"):
            return "HTTP/2"
        if http:
            return "plain HTTP"
        return "other" if start else "no application data"

    def undecrypted(self) -> str | None:
        """The one line a session without key ends with, if it had none."""
        if not self.without_key and self.unsupported is None:
            return None
        random = self.client_hello.random.hex() if self.client_hello else "unknown"
        why = self.unsupported or "TLS session without key"
        return f"{why}: client random {random}; {self.skipped} octets skipped"

    # -- records -----------------------------------------------------------

    def _emitter(self, side: _Side) -> Callable[[Record], None]:
        def emit(record: Record) -> None:
            self._record(side, record)

        return emit

    def _resyncer(self, side: _Side) -> Callable[[bytes, bytes, int], bool]:
        def resync(header: bytes, fragment: bytes, lost: int) -> bool:
            cipher = side.cipher
            if cipher is None:
                return True  # nothing to check a boundary against: take it
            step = HEADER + cipher.overhead()
            for k in range(min(lost // step + 1, MAX_RESYNC) + 1):
                if cipher.open_at(cipher.seq + k, header, fragment) is not None:
                    cipher.seq += k
                    side.records += k
                    plain = max(lost - k * step, 0) if k else lost
                    side.lost = 0
                    self.report(
                        f"TLS {side.name} records resynchronised after {lost} lost octets "
                        f"({k} record(s) missing)"
                    )
                    self._out.append((GAP, b"", plain, *self._at))
                    return True
            return False

        return resync

    def _record(self, side: _Side, record: Record) -> None:
        ctype, header, fragment, ts, number, lost = record
        out = self._out
        if side.pending and side.taken:  # 0-RTT plaintext the server took, first
            out.extend(side.pending)
            side.pending.clear()
        if ctype == END:
            self._early_end(side)
            if side.early_octets:
                self._early_lost(side, out)
            if side.lost:
                out.append((GAP, b"", side.lost, ts, number))
                side.lost = 0
            out.append((FIN, b"", 0, ts, number))
            return
        if ctype == LOST:
            side.lost += lost
            self.report(f"capture gap in the TLS {side.name} stream ({lost} octets lost)")
            return
        seq = side.records
        side.records = seq + 1
        cipher = side.cipher
        if lost:
            size = header[3] << 8 | header[4]
            self.report(
                f"capture gap inside TLS {side.name} record {seq} ({lost} of {size} octets lost)"
            )
            if cipher is not None:
                cipher.seq += 1
                if ctype == _APPDATA:
                    out.append((GAP, b"", max(size - cipher.overhead(), 0), ts, number))
            return
        if cipher is None or (ctype == _CCS and self._tls13):
            if ctype == _HANDSHAKE:
                self._handshake(side, fragment)
            elif ctype == _CCS and side.next is not None:
                side.cipher, side.next = side.next, None
            elif ctype == _CCS and self.suite is not None and not self.suite.tls13:
                side.messages.broken = True  # TLS 1.2 without key: the rest is sealed
            elif (
                ctype == _APPDATA
                and side.client
                and self._offers_early
                and self._keep(side, fragment)
            ):
                side.held.append((*record[:-1], seq))  # 0-RTT: opened at the ServerHello
            elif ctype == _APPDATA:
                self.skipped += len(fragment)
            return
        if side.early is not None and ctype == _APPDATA:
            early = side.early.open(header, fragment)
            if early is not None:
                self._early(side, early, ts, seq)
                return
            self._early_end(side)  # the first record of the handshake key
        opened = cipher.open(header, fragment)
        if (
            opened is None
            and side.client
            and cipher.seq == 0
            and self._offers_early
            and self._early_key() is None
        ):
            # A 0-RTT record without its key: the handshake key's first
            # record (the client's Finished) is still to come.
            side.early_octets += max(len(fragment) - cipher.overhead(), 0)
            return
        if opened is not None and side.early_octets:
            self._early_lost(side, out)
        if opened is None:
            cipher.seq += 1
            size = max(len(fragment) - cipher.overhead(), 0)
            self.report(
                f"TLS {side.name} record {seq} does not verify (bad tag, "
                f"{len(fragment)} octets, packet {number})"
            )
            if header[0] == _APPDATA:
                out.append((GAP, b"", size, ts, number))
            return
        inner, plain = opened
        if inner == _APPDATA:
            out.append((DATA, plain, len(plain), ts, seq))
        elif inner == _HANDSHAKE:
            self._handshake(side, plain)  # TLS 1.3 post-handshake; TLS 1.2 renegotiation
        elif inner == _CCS and side.next is not None:
            side.cipher, side.next = side.next, None  # renegotiated: sealed under the old keys

    @property
    def _tls13(self) -> bool:
        return self.suite is not None and self.suite.tls13

    # -- handshake ---------------------------------------------------------

    def _handshake(self, side: _Side, data: bytes) -> None:
        for kind, body in side.messages.feed(data):
            if kind == hs.CLIENT_HELLO and side.client:
                self.client_hello = hs.parse_hello(body, server=False)
            elif kind == hs.SERVER_HELLO and not side.client:
                hello = hs.parse_hello(body, server=True)
                if hello is not None and hello.random != hs.HRR_RANDOM:
                    self.server_hello = hello
                    self._keys()
            elif kind == hs.ENCRYPTED_EXTENSIONS:
                ee = hs.encrypted_extensions(body)
                self.alpn = ee.alpn
                self.early_taken = ee.early_data
            elif kind == hs.FINISHED and self._tls13 and side.secret is not None:
                self._traffic(side)
            elif kind == hs.KEY_UPDATE and self._tls13 and side.secret is not None:
                assert self.suite is not None
                side.secret = tls13_update(side.secret, self.suite)
                self._traffic(side)

    def _traffic(self, side: _Side) -> None:
        """TLS 1.3: the side's records from here on use its traffic secret."""
        assert self.suite is not None and side.secret is not None
        key, iv = tls13_key_iv(side.secret, self.suite)
        side.cipher = RecordCipher(self.suite, key, iv)

    def _keys(self) -> None:
        """Both sides' keys, once the ServerHello says how."""
        ch, sh = self.client_hello, self.server_hello
        if ch is None or sh is None:
            self.unsupported = "TLS session without a readable ClientHello"
            return
        suite = SUITES.get(sh.suites[0]) if sh.suites else None
        if suite is None:
            self.unsupported = f"TLS cipher suite 0x{sh.suites[0]:04x} not supported"
            return
        self.suite = suite
        secrets = self.keys.lookup(ch.random)
        client, server = self._sides[True], self._sides[False]
        if suite.tls13:
            names = (
                keylog.CLIENT_HANDSHAKE,
                keylog.SERVER_HANDSHAKE,
                keylog.CLIENT_TRAFFIC,
                keylog.SERVER_TRAFFIC,
            )
            if secrets is None or any(n not in secrets for n in names):
                self.without_key = True
                return
            for side, hs_name, app in (
                (client, keylog.CLIENT_HANDSHAKE, keylog.CLIENT_TRAFFIC),
                (server, keylog.SERVER_HANDSHAKE, keylog.SERVER_TRAFFIC),
            ):
                side.secret = secrets[hs_name]
                self._traffic(side)
                side.secret = secrets[app]
            if self._offers_early:
                self._open_held(client, secrets.get(keylog.CLIENT_EARLY))
            return
        master = secrets.get(keylog.CLIENT_RANDOM) if secrets else None
        if master is None:
            self.without_key = True
            return
        etm = suite.cipher == CBC and ch.etm and sh.etm
        ck, sk = tls12_keys(master, ch.random, sh.random, suite)
        client.next = RecordCipher(suite, ck.key, ck.iv, ck.mac_key, etm)
        server.next = RecordCipher(suite, sk.key, sk.iv, sk.mac_key, etm)

    # -- TLS 1.3 0-RTT (module docstring) ----------------------------------

    @property
    def _offers_early(self) -> bool:
        """The ClientHello announced 0-RTT data (TLS 1.3 only has it)."""
        ch = self.client_hello
        return ch is not None and ch.early_data and (self.suite is None or self.suite.tls13)

    def _early_key(self) -> bytes | None:
        ch = self.client_hello
        secrets = self.keys.lookup(ch.random) if ch is not None else None
        return secrets.get(keylog.CLIENT_EARLY) if secrets else None

    def _open_held(self, client: _Side, secret: bytes | None) -> None:
        """The ServerHello named the suite: open the 0-RTT records held so far."""
        assert self.suite is not None
        if secret is not None:
            client.early = RecordCipher(self.suite, *tls13_key_iv(secret, self.suite))
        held, client.held = client.held, []
        for _, header, fragment, ts, _, seq in held:
            client.kept -= len(fragment)  # counted again as plaintext if it opens
            opened = client.early.open(header, fragment) if client.early is not None else None
            if opened is not None:
                self._early(client, opened, ts, seq)
            else:
                client.early = None
                client.early_octets += max(len(fragment) - self.suite.tag - 1, 0)

    def _keep(self, side: _Side, data: bytes) -> bool:
        """Room for these 0-RTT octets (:data:`MAX_EARLY`); said once when not."""
        if side.kept + len(data) <= MAX_EARLY:
            side.kept += len(data)
            return True
        if side.kept <= MAX_EARLY:
            side.kept = MAX_EARLY + 1
            self.report(f"TLS 0-RTT data beyond {MAX_EARLY} octets not kept")
        self.skipped += len(data)
        return False

    def _early(self, side: _Side, opened: tuple[int, bytes], ts: int, seq: int) -> None:
        inner, plain = opened
        if inner == _APPDATA and self._keep(side, plain):
            side.pending.append((DATA, plain, len(plain), ts, seq))
        elif inner == _HANDSHAKE:
            for kind, _ in side.messages.feed(plain):
                if kind == hs.END_OF_EARLY_DATA:
                    # Taken: the plaintext goes out ahead of the client's next
                    # record (:meth:`_record`), in the client's own stream.
                    side.early, side.taken = None, True

    def _early_end(self, side: _Side) -> None:
        """No more 0-RTT records and no EndOfEarlyData (a client that sent
        none, or a capture that ends first): the server's EncryptedExtensions
        says whether it took them."""
        side.early = None
        if not side.pending or side.taken:
            return
        if self.early_taken:
            self._out.extend(side.pending)
        else:
            n = sum(p[2] for p in side.pending)
            self.report(
                f"TLS 0-RTT data refused by the server: {n} octets of the client's left out"
            )
        side.pending.clear()

    def _early_lost(self, side: _Side, out: list[Piece]) -> None:
        """The handshake key opened a record: the 0-RTT records skipped
        without their key are over; what the server took is a gap."""
        n, side.early_octets = side.early_octets, 0
        why = "CLIENT_EARLY_TRAFFIC_SECRET not in the key log"
        if self._early_key() is not None:
            why = "CLIENT_EARLY_TRAFFIC_SECRET does not open them"
        if self.early_taken:
            n = max(n - 4, 0)  # the EndOfEarlyData message among them
            self.report(f"TLS 0-RTT data without its key ({why}): {n} octets lost")
            out.append((GAP, b"", n, *self._at))
        else:
            self.report(f"TLS 0-RTT data without its key ({why}), refused by the server: skipped")
