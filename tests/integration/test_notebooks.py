"""Every notebook runs headless, and its numbers are the CLI's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import nbclient
import nbformat
import pytest
from typer.testing import CliRunner

from wirelog.cli.app import app

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    return nb


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_executes(path: Path) -> None:
    nb = _run(path)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # the ladders and the capture overview were drawn
    if path.name == "wirelog_analysis.ipynb":
        _numbers_match_the_cli(nb)


def _cli_stats(path: str) -> object:
    result = CliRunner().invoke(app, ["stats", path, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _numbers_match_the_cli(nb: nbformat.NotebookNode) -> None:
    last = nb.cells[-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    numbers = json.loads(text)
    # The notebook loaded "../samples/..." from notebooks/; the CLI gets the
    # same files by the same relative names from there.
    import os

    here = os.getcwd()
    os.chdir(NOTEBOOKS)
    try:
        seed = _cli_stats("../samples/autobahnpython_case_2_2.txt")
        pcap = _cli_stats("../samples/multi_conn.pcap")
    finally:
        os.chdir(here)
    assert numbers["seed"] == seed
    assert numbers["pcap"] == pcap
    assert len(pcap) == 3  # type: ignore[arg-type]
    # and the seed's own Total rows: 266 octets sent, 148 received
    assert numbers["seed_octets_total"] == {"tx": 266, "rx": 148}
