"""Autobahn's ``fuzzingclient.json`` as the REFERENCE of ``suite run``.

Autobahn's spec file names the servers to test and the cases to run:

.. code-block:: json

   {"outdir": "./reports/servers",
    "servers": [{"agent": "MyServer", "url": "ws://127.0.0.1:9001", "options": {"version": 18}}],
    "cases": ["*"], "exclude-cases": ["9.*"], "exclude-agent-cases": {"MyServer*": ["12.*"]}}

It names no earlier run, and a run without Autobahn needs one: the octets
each case sends come from a recorded client-mode run (``--reference DIR``
or its ``index.json``). So the spec says *what* to run and *against whom*,
the reference *what to send*: existing CI scripts keep their spec file and
add the reference folder. Every server listed is run, in the spec's order,
each with the cases its agent is not excluded from (``exclude-agent-cases``
keys are agent globs, as in Autobahn).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wirelog.errors import UsageError
from wirelog.pipeline import decode
from wirelog.replay.chop import Chop
from wirelog.suite.run import DEFAULT_CASE_TIMEOUT, CaseRun, SuiteRun, run_suite

DEFAULT_OUTDIR = "./reports/servers"
"""Autobahn's outdir when the spec names none (spec §0: client mode)."""


@dataclass(frozen=True, slots=True)
class SpecServer:
    agent: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Spec:
    servers: tuple[SpecServer, ...]
    cases: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    exclude_agent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outdir: str = DEFAULT_OUTDIR

    def excluded_for(self, agent: str) -> list[str]:
        """The case globs ``agent`` skips: the spec's and its agent globs'."""
        out = list(self.exclude)
        for pattern, globs in self.exclude_agent.items():
            if fnmatch.fnmatchcase(agent, pattern):
                out.extend(globs)
        return out


def is_spec(path: str) -> bool:
    """Whether ``path`` is a spec file (a JSON object with ``servers``), not
    a report folder or ``index.json``."""
    if not path.endswith(".json"):
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "servers" in doc


def _globs(path: str, doc: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = doc.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise UsageError(f"{path}: {key!r} must be a list of case globs")
    return tuple(value)


def read_spec(path: str) -> Spec:
    """The spec at ``path``; a one-line :class:`UsageError` naming the file
    and the key when it is not one."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a fuzzingclient spec is a JSON object")
    servers = doc.get("servers")
    if not isinstance(servers, list) or not servers:
        raise UsageError(f"{path}: 'servers' must list at least one server")
    listed = []
    for n, s in enumerate(servers):
        if not isinstance(s, dict) or not isinstance(s.get("url"), str):
            raise UsageError(f"{path}: servers[{n}] needs a 'url'")
        agent = s.get("agent", s["url"])
        options = s.get("options", {})
        if not isinstance(agent, str) or not isinstance(options, dict):
            raise UsageError(f"{path}: servers[{n}]: 'agent' is a string, 'options' an object")
        listed.append(SpecServer(agent, s["url"], options))
    per_agent = doc.get("exclude-agent-cases", {})
    if not isinstance(per_agent, dict):
        raise UsageError(f"{path}: 'exclude-agent-cases' must map agent globs to case globs")
    # each value checked as a list of case globs
    exclude_agent = {str(k): _globs(path, per_agent, k, ()) for k in per_agent}
    outdir = doc.get("outdir", DEFAULT_OUTDIR)
    if not isinstance(outdir, str):
        raise UsageError(f"{path}: 'outdir' must be a folder name")
    return Spec(
        servers=tuple(listed),
        cases=_globs(path, doc, "cases", ("*",)),
        exclude=_globs(path, doc, "exclude-cases", ()),
        exclude_agent=exclude_agent,
        outdir=outdir,
    )


def run_spec(
    spec: Spec,
    reference: str,
    *,
    cases: Iterable[str] = (),
    exclude: Iterable[str] = (),
    timeout: float = DEFAULT_CASE_TIMEOUT,
    on_case: Callable[[CaseRun], None] | None = None,
    chop: Chop | None = None,
    full_log: bool = False,
) -> list[SuiteRun]:
    """Every server of ``spec``, one :class:`SuiteRun` each, with the octets
    of ``reference`` (decoded once). ``cases`` given on the command line
    replace the spec's ``cases``; ``exclude`` adds to its exclusions."""
    refs = decode(reference)
    include = list(cases) or list(spec.cases)
    runs = []
    for server in spec.servers:
        skip = [*exclude, *spec.excluded_for(server.agent)]
        runs.append(
            run_suite(
                refs,
                server.url,
                cases=include,
                exclude=skip,
                agent=server.agent,
                timeout=timeout,
                on_case=on_case,
                chop=chop,
                full_log=full_log,
            )
        )
    return runs


__all__ = ["DEFAULT_OUTDIR", "Spec", "SpecServer", "is_spec", "read_spec", "run_spec"]
