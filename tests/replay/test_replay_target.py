"""Where a replay goes, and the Host a client replay sends there."""

from __future__ import annotations

import pytest
from servers import SEED_REQUEST, seed_connection

from wirelog.errors import UsageError
from wirelog.replay.head import header, request_key
from wirelog.replay.plan import build_plan
from wirelog.replay.target import Target, client_plan, parse_listen, parse_target


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "ws://127.0.0.1/", "ws://:9001/", "127.0.0.1:9001"]
)
def test_targets_need_scheme_host_and_port(url: str) -> None:
    with pytest.raises(UsageError, match=r"host and port|scheme"):
        parse_target(url)


def test_a_port_out_of_range_is_no_port() -> None:
    with pytest.raises(UsageError, match="host and port"):
        parse_target("ws://127.0.0.1:99999/")


def test_targets() -> None:
    t = parse_target("wss://[::1]:8443/path")
    assert t == Target("wss", "::1", 8443) and t.secure and t.peer == "[::1]:8443"
    assert t.host_header == "[::1]:8443"
    assert parse_target("ws://example.org:80/").host_header == "example.org"
    assert parse_target("wss://example.org:443/").host_header == "example.org"
    assert not parse_target("ws://h:1/").secure


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:9001") == ("127.0.0.1", 9001)
    assert parse_listen("[::1]:0") == ("::1", 0)
    for bad in ("9001", ":9001", "host:port"):
        with pytest.raises(UsageError, match="expected HOST:PORT"):
            parse_listen(bad)


def test_client_plan_sets_host_and_optionally_a_new_key() -> None:
    plan = build_plan(seed_connection())
    t = parse_target("ws://10.0.0.1:7000/")
    live = client_plan(plan, t, keep_host=False, fresh_key=False)
    assert header(live.writes[0].data, "host") == "10.0.0.1:7000"
    assert request_key(live.writes[0].data) == "pKZMnrfgxQewKsfiO39oBQ=="
    kept = client_plan(plan, t, keep_host=True, fresh_key=False)
    assert kept.writes[0].data == SEED_REQUEST
    fresh = client_plan(plan, t, keep_host=True, fresh_key=True)
    assert fresh.request_key != plan.request_key
    assert request_key(fresh.writes[0].data) == fresh.request_key
