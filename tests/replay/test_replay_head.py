"""Handshake edits: Host for the target, a fresh key, the accept a server
replay must fit to the live client's key (RFC 6455 §4.2.2)."""

from __future__ import annotations

import base64
from dataclasses import replace

from servers import SEED_PING, SEED_REQUEST, SEED_RESPONSE, seed_connection

from wirelog.model import Chunk, Direction, Role
from wirelog.protocol.handshake import accept_for
from wirelog.replay.head import answer_key, edit_head, header, new_key, request_key
from wirelog.replay.plan import build_plan

TX = Direction.TX


def test_host_edit_keeps_the_chop_boundaries() -> None:
    conn = seed_connection(cut=False)
    # Split the request in two chunks, the boundary inside the Host value.
    cut = SEED_REQUEST.index(b"9001")
    conn.chunks[0:1] = [
        Chunk(TX, SEED_REQUEST[:cut], cut, 0),
        Chunk(TX, SEED_REQUEST[cut:], len(SEED_REQUEST) - cut, 0),
    ]
    conn.chunks[1] = replace(conn.chunks[1], index=2)
    conn.chunks.sort(key=lambda c: c.index)
    plan = build_plan(conn)
    edited = edit_head(plan, {"Host": "localhost:12345"})
    head = edited.writes[0].data + edited.writes[1].data
    assert head == SEED_REQUEST.replace(b"127.0.0.1:9001", b"localhost:12345")
    assert len(edited.writes) == len(plan.writes) == 4
    assert edited.writes[2].data == SEED_PING


def test_accept_for_is_what_a_server_replay_fits() -> None:
    plan = build_plan(seed_connection(), Role.SERVER)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    edited = edit_head(plan, {"Sec-WebSocket-Accept": accept_for(key)})
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in edited.writes[0].data
    assert edited.writes[1:] == plan.writes[1:]
    assert answer_key(plan.writes, key) == edited.writes


def test_a_new_key_is_kept_on_the_plan() -> None:
    plan = build_plan(seed_connection())
    key = new_key()
    assert len(base64.b64decode(key)) == 16 and key != new_key()
    edited = edit_head(plan, {"Sec-WebSocket-Key": key})
    assert edited.request_key == key == request_key(edited.writes[0].data)
    assert edit_head(plan, {"Host": "x"}).request_key == plan.request_key


def test_edits_of_absent_headers_or_heads_change_nothing() -> None:
    plan = build_plan(seed_connection())
    assert edit_head(plan, {}) is plan
    assert edit_head(plan, {"X-Absent": "1"}).writes == plan.writes
    bare = build_plan(seed_connection(), handshake=False)
    assert edit_head(bare, {"Host": "x"}) is bare


def test_header_lookup_ignores_case_and_the_start_line() -> None:
    assert header(SEED_RESPONSE, "SEC-WEBSOCKET-ACCEPT") == "YIxrIiLD42I3Ax0HMkqxV24gCGM="
    assert header(b"Host: x\r\n\r\n", "host") is None  # the first line is the start line
    assert request_key(SEED_REQUEST) == "pKZMnrfgxQewKsfiO39oBQ=="
    assert request_key(SEED_RESPONSE) is None
