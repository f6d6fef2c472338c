"""``wirelog export`` and ``wirelog.load_many`` on real Dask clusters on
127.0.0.1: a local cluster of worker processes (``--workers 2``) and an
external one (``dask scheduler`` and two ``dask worker`` processes started
here, in another folder, and stopped after), each compared with the run on
one core, file by file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from captures_util import MANIFEST, SAMPLES
from distributed import Client, get_task_stream
from servers import refused_port
from typer.testing import CliRunner

import wirelog
from wirelog.analysis import table
from wirelog.analysis.parts import TABLES
from wirelog.cli.app import app
from wirelog.errors import UsageError
from wirelog.outputs.dataset import export

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ["ws_basic.pcap", "multi_conn.pcap", "aiohttp_ipv6.pcap", "autobahnpython_case_2_2.txt"]
SHARED = len(INPUTS)  # captures and reports alike are cut in shares
CORPUS = ROOT.parent / "shared" / "autobahn-reports" / "testing-a-server"


def scheduler_address(info: Path, wait: float = 60) -> str:
    """The address the scheduler wrote, once the file is whole (it is
    created empty, then filled)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            address: str = json.loads(info.read_text())["address"]
            return address
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-thread workers, as ``dask`` starts them."""
    home = tmp_path_factory.mktemp("cluster")
    info = home / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = dict(cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dask = [sys.executable, "-m", "dask"]
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(info)],
            **common,  # type: ignore[call-overload]
        )
    ]  # fmt: skip
    try:
        address = scheduler_address(info)
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--host",
                     "127.0.0.1", "--name", f"w{i}", "--no-dashboard", "--death-timeout", "60",
                     "--local-directory", str(home / f"w{i}")],
                    **common,  # type: ignore[call-overload]
                )
            )  # fmt: skip
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def in_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs named relative to the samples folder, which no worker runs in."""
    monkeypatch.chdir(SAMPLES)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inputs exported on one core, captures in two shares each."""
    out = tmp_path_factory.mktemp("serial")
    here = os.getcwd()
    os.chdir(SAMPLES)
    try:
        r = CliRunner().invoke(app, ["export", *INPUTS, "--to", str(out), "--shares", "2"])
    finally:
        os.chdir(here)
    assert r.exit_code == 0, r.output
    return out


def same_files(a: Path, b: Path) -> None:
    """Two datasets with the same files, each holding the same rows in the same order."""
    for level in TABLES:
        names = sorted(p.name for p in (a / level).glob("*.parquet"))
        assert names == sorted(p.name for p in (b / level).glob("*.parquet")) != []
        for name in names:
            left = table.read_parquet(str(a / level / name), level)
            right = table.read_parquet(str(b / level / name), level)
            pd.testing.assert_frame_equal(left, right)


def test_a_local_cluster_writes_what_one_core_writes(
    serial: Path, in_samples: None, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = ["export", *INPUTS, "--to", str(local), "--shares", "2", "--workers", "2"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert f"in {2 * SHARED} part(s)" in r.stdout
    same_files(serial, local)
    # and the whole is wirelog.load's tables
    frames = table.read_parquet(str(local / "frames"), "frames")
    whole = wirelog.load(INPUTS).frames()
    assert sorted(frames["source"]) == sorted(whole["source"])
    assert sorted(frames["payload"].fillna("")) == sorted(whole["payload"].fillna(""))


def test_an_external_cluster_shares_the_work_and_writes_the_same(
    scheduler: str, serial: Path, in_samples: None, tmp_path: Path
) -> None:
    with Client(scheduler) as client:
        with get_task_stream(client) as tasks:
            spread = export(INPUTS, tmp_path / "spread", client=client, shares=2)
        ran_on = {t["worker"] for t in tasks.data}
        with pytest.raises(UsageError, match="standard input"):  # a pipe no worker can read
            export(["-"], tmp_path / "piped", client=client)
    assert len(ran_on) == 2  # both workers decoded parts
    assert spread.errors == []
    assert [w.part.name for w in spread.written] == sorted(
        p.name.removesuffix(".parquet") for p in (serial / "frames").iterdir()
    )
    same_files(serial, tmp_path / "spread")


def test_the_command_uses_an_external_cluster_and_reports_bad_inputs(
    scheduler: str, in_samples: None, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    args = ["export", "ws_basic.pcap", "nope.pcap", "--to", str(out), "--scheduler", scheduler]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2
    assert r.stderr == "wirelog: nope.pcap: no such file\n"  # named as given, not as opened
    frames = table.read_parquet(str(out / "frames"), "frames")
    pd.testing.assert_frame_equal(frames, wirelog.load("ws_basic.pcap").frames())


def test_load_many_on_the_cluster_shares_one_capture_over_its_workers(
    scheduler: str, in_samples: None
) -> None:
    with Client(scheduler) as client:
        many = wirelog.load_many("multi_conn.pcap", client)
        assert [p.share for p in many.parts] == [(0, 2), (1, 2)]
        frames = many.frames()
        got = client.compute(frames).result()
    whole = wirelog.load("multi_conn.pcap").frames()
    keys = ["conn", "dir", "index"]
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True), whole.sort_values(keys).reset_index(drop=True)
    )


def test_no_scheduler_at_the_address_is_one_line_and_exit_2(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{refused_port()}"
    t0 = time.monotonic()
    r = CliRunner().invoke(
        app, ["export", str(SAMPLES / MANIFEST["ws_basic"]["file"]), "--to", str(tmp_path),
              "--scheduler", address]
    )  # fmt: skip
    assert r.exit_code == 2 and time.monotonic() - t0 < 30
    assert r.stderr.startswith(f"wirelog: --scheduler {address}: no Dask scheduler there")
    assert r.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing was written


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder of 40 Autobahn server reports (cases 1.x, 2.x, 5.x), and
    one report file on its own (the corpus's biggest)."""
    folder = tmp_path_factory.mktemp("reports") / "cases"
    folder.mkdir()
    cases = sorted(CORPUS.glob("websock_server_case_[125]_*.json"))[:40]
    for p in cases:
        (folder / p.name).write_bytes(p.read_bytes())
    big = max(CORPUS.glob("websock_server_case_*.json"), key=lambda p: p.stat().st_size)
    assert len(cases) == 40
    return folder, big


def test_reports_are_shared_across_workers_as_captures_are(
    scheduler: str, reports: tuple[Path, Path], tmp_path: Path
) -> None:
    """A folder of reports and one big report, two shares each on the
    external cluster: the shares together hold the serial run's rows, and
    each share of the folder holds only its own connections."""
    folder, big = reports
    inputs = [str(folder), str(big)]
    serial = export(inputs, tmp_path / "serial")
    with Client(scheduler) as client:
        spread = export(inputs, tmp_path / "spread", client=client, shares=2)
    assert serial.errors == spread.errors == []
    assert [w.part.share for w in spread.written] == [(0, 2), (1, 2)] * 2
    first, second = (w.rows["frames"] for w in spread.written[:2])
    assert first > 0 and second > 0  # the folder's connections went both ways
    for level in TABLES:
        want = table.read_parquet(str(tmp_path / "serial" / level), level)
        got = table.read_parquet(str(tmp_path / "spread" / level), level)
        keys = [c for c in ("source", "conn", "dir", "index", "kind", "detail") if c in want]
        pd.testing.assert_frame_equal(
            got.sort_values(keys).reset_index(drop=True),
            want.sort_values(keys).reset_index(drop=True),
        )
        assert spread.rows(level) == serial.rows(level) == len(want)
    conns = table.read_parquet(str(tmp_path / "spread" / "connections"), "connections")
    assert not conns.duplicated(["source", "conn"]).any() and len(conns) == 41
