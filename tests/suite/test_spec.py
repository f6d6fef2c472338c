"""``suite run fuzzingclient.json --reference DIR``: Autobahn's spec file
names the servers and cases, the reference run the octets. Both servers of
the spec (the real ``websockets`` and aiohttp echo servers) are run, each
with its own exclusions, into one Autobahn-layout folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from servers import Server, ws_echo  # noqa: F401
from suite_data import REPORTS
from suite_peers import aiohttp_echo
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.errors import UsageError
from wirelog.suite.spec import DEFAULT_OUTDIR, is_spec, read_spec

SERVER_RUN = REPORTS / "testing-a-server"
PICK = ("1_1_1", "1_1_2", "2_1", "2_2", "7_1_1")


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A small reference folder: five recorded cases of the shared run."""
    ref = tmp_path / "reference"
    ref.mkdir()
    for case in PICK:
        shutil.copy(SERVER_RUN / f"websock_server_case_{case}.json", ref)
    return ref


def _spec(path: Path, servers: list[dict[str, object]], **extra: object) -> Path:
    path.write_text(json.dumps({"servers": servers, **extra}))
    return path


def test_reading_a_spec(tmp_path: Path) -> None:
    spec = read_spec(
        str(
            _spec(
                tmp_path / "f.json",
                [{"agent": "A", "url": "ws://h:1"}, {"url": "ws://h:2"}],
                cases=["1.*"],
                **{"exclude-agent-cases": {"A*": ["1.1.2"]}, "exclude-cases": ["9.*"]},
            )
        )
    )
    assert [s.agent for s in spec.servers] == ["A", "ws://h:2"]
    assert spec.cases == ("1.*",) and spec.outdir == DEFAULT_OUTDIR
    assert spec.excluded_for("Alpha") == ["9.*", "1.1.2"]
    assert spec.excluded_for("B") == ["9.*"]
    assert is_spec(str(tmp_path / "f.json"))
    assert not is_spec(str(SERVER_RUN / "index.json"))
    assert not is_spec(str(SERVER_RUN))


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        ("[1]", "a fuzzingclient spec is a JSON object"),
        ("{", "not JSON"),
        ('{"servers": []}', "'servers' must list at least one server"),
        ('{"servers": [{"agent": "x"}]}', "servers[0] needs a 'url'"),
        ('{"servers": [{"url": "ws://h:1", "options": 3}]}', "'options' an object"),
        ('{"servers": [{"url": "ws://h:1"}], "cases": "1.*"}', "'cases' must be a list"),
        ('{"servers": [{"url": "ws://h:1"}], "exclude-agent-cases": []}', "agent globs"),
        ('{"servers": [{"url": "ws://h:1"}], "outdir": 1}', "'outdir' must be"),
    ],
)
def test_bad_specs_name_the_file_and_key(tmp_path: Path, doc: str, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(doc)
    with pytest.raises(UsageError, match=r"bad\.json: ") as err:
        read_spec(str(path))
    assert says in str(err.value)
    with pytest.raises(UsageError, match=r"missing\.json"):
        read_spec(str(tmp_path / "missing.json"))


def test_every_server_of_the_spec_is_run(
    ws_echo: Server,  # noqa: F811
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    xml = tmp_path / "junit.xml"
    with aiohttp_echo() as aio:
        spec = _spec(
            tmp_path / "fuzzingclient.json",
            [
                {"agent": "websockets", "url": ws_echo.url, "options": {"version": 18}},
                {"agent": "aiohttp", "url": aio},
            ],
            outdir="./reports/servers",
            cases=["1.*", "2.*", "7.1.1"],
            **{"exclude-cases": ["2.1"], "exclude-agent-cases": {"aio*": ["1.1.2"]}},
        )
        args = ["suite", "run", str(spec), "--reference", str(reference), "--junit", str(xml)]
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    index = json.loads((tmp_path / "reports" / "servers" / "index.json").read_text())
    assert sorted(index["websockets"]) == ["1.1.1", "1.1.2", "2.2", "7.1.1"]
    assert sorted(index["aiohttp"]) == ["1.1.1", "2.2", "7.1.1"]
    verdicts = {(e["behavior"], e["behaviorClose"]) for v in index.values() for e in v.values()}
    assert verdicts == {("OK", "OK")}
    for agent, cases in index.items():
        for entry in cases.values():
            assert entry["reportfile"].startswith(f"{agent}_case_")
            assert (tmp_path / "reports" / "servers" / entry["reportfile"]).is_file()
    page = (tmp_path / "reports" / "servers" / "index.html").read_text()
    assert "<h1>websockets</h1>" in page and "<h1>aiohttp</h1>" in page
    assert page.count('<td class="key">') == 7
    junit = xml.read_text()
    assert junit.count("<testsuite ") == 2 and junit.count("<testcase") == 7
    assert "websockets: 4 cases" in r.output and "aiohttp: 3 cases" in r.output


def test_spec_errors_are_one_line(reference: Path, tmp_path: Path) -> None:
    spec = _spec(tmp_path / "fuzzingclient.json", [{"agent": "a", "url": "ws://127.0.0.1:9/"}])
    r = CliRunner().invoke(app, ["suite", "run", str(spec)])
    assert r.exit_code == 2 and "give its octets with --reference DIR" in r.output
    r = CliRunner().invoke(
        app, ["suite", "run", str(spec), "--reference", str(reference), "--target", "ws://x:1/"]
    )
    assert r.exit_code == 2 and "drop --target/--agent" in r.output
    r = CliRunner().invoke(
        app,
        [
            "suite",
            "run",
            str(reference),
            "--reference",
            str(reference),
            "--target",
            "ws://x:1/",
            "--out",
            "o",
        ],
    )
    assert r.exit_code == 2 and "--reference goes with a fuzzingclient.json spec" in r.output
    r = CliRunner().invoke(app, ["suite", "run", str(reference)])
    assert r.exit_code == 2 and "give --target" in r.output
