"""The Summary's words: what a capture skipped, and why nothing decoded."""

from __future__ import annotations

from wirelog.model import ViolationKind
from wirelog.sources.sink import Summary


def test_nothing_decoded_says_why() -> None:
    s = Summary(packets=40, tcp_connections=14, http=9, tls={443: 2}, other=3)
    assert s.nothing() == (
        "no WebSocket upgrade in 14 TCP connections, 9 of them HTTP; 2 TLS connections on "
        "port 443: give --keylog to decrypt; 3 other TCP connections (neither HTTP nor TLS, "
        "or no data)"
    )
    s = Summary(packets=9, tcp_connections=3, framing={9001: 2, 9002: 1})
    assert s.nothing() == (
        "no WebSocket upgrade in 3 TCP connections; 2 connections on port 9001, 1 on port "
        "9002 carry WebSocket frames without a handshake (the capture started after it?): "
        "try --ws-port 9001 --ws-port 9002"
    )
    assert Summary().nothing() == "no packets in the capture"
    arp = Summary(packets=3, not_tcp=3, reasons={"not IP": 2, "not TCP": 1})
    assert arp.nothing() == (
        "no WebSocket connection: 3 packets without a usable TCP segment (2 not IP, 1 not TCP)"
    )
    assert Summary(packets=1, not_tcp=1).nothing() == (
        "no WebSocket connection: 1 packet without a usable TCP segment"
    )


def test_filters_that_leave_everything_out_are_no_error() -> None:
    assert Summary(packets=9, tcp_connections=3, filtered=3).nothing() is None
    s = Summary(packets=9, tcp_connections=3, filtered=2, tls={8443: 1})
    assert s.nothing() == (
        "no WebSocket upgrade in 1 TCP connection; 1 TLS connection on port 8443: give "
        "--keylog to decrypt; 2 left out by --port/--conn"
    )


def test_the_ignored_traffic_finding() -> None:
    assert Summary(packets=5, tcp_connections=1, websocket=1).finding() is None
    assert Summary(packets=5, tcp_connections=1, websocket=1).nothing() is None
    s = Summary(packets=50, tcp_connections=4, websocket=2, http=1, tls={443: 1})
    found = s.finding()
    assert found is not None and found.kind is ViolationKind.IGNORED_TRAFFIC
    assert found.detail == (
        "ignored: 1 plain HTTP connection (no Upgrade); 1 TLS connection on port 443: give "
        "--keylog to decrypt"
    )


def test_tls_words_follow_what_happened() -> None:
    """Keys given but not matching, sessions decrypted to no WebSocket, and
    TLS captured after its handshake are each said as what they are."""
    s = Summary(packets=9, tcp_connections=3, tls={443: 1}, keylog=True)
    s.undecrypted.append("TLS session without key: client random 00; 5 octets skipped")
    s.decrypted = {"HTTP/2": 1, "plain HTTP": 1}
    assert s.nothing() == (
        "no WebSocket upgrade in 3 TCP connections; 1 TLS connection on port 443 not "
        "decrypted (TLS session without key: client random 00; 5 octets skipped); decrypted "
        "2 TLS connections, none WebSocket (1 HTTP/2, 1 plain HTTP)"
    )
    late = Summary(packets=9, tcp_connections=1, tls_late={8443: 1})
    assert late.nothing() == (
        "no WebSocket upgrade in 1 TCP connection; 1 TLS connection on port 8443 captured "
        "after the handshake: no key can be found without the ClientHello"
    )
    both = Summary()
    both.add(s)
    both.add(late)
    assert (both.tls_late, both.decrypted, both.keylog) == ({8443: 1}, s.decrypted, True)
