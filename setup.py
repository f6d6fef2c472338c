"""Optional compiled build of wirelog's hot modules (mypyc).

The package is pure Python and installs without a compiler: a plain
``pip install .`` builds nothing here. With ``WIRELOG_MYPYC=1`` in the
environment the modules in :data:`HOT` are compiled with mypyc (which ships
with mypy: the build fetches it; it needs a C compiler and the Python
headers). Each compiled module sits beside its ``.py`` source and Python
imports the compiled one; both behave alike, and the test suite runs
against either (see ``.ci/speedups``)::

    pip install .                        # pure Python
    WIRELOG_MYPYC=1 pip install .        # compiled
    .ci/speedups [DIR]                   # compiled copy in DIR, for tests and benchmarks
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

#: The path every frame takes from octets to a Frame or Message. Measured and
#: left out: the capture reader's ``sources/pcap/{tcp,linklayer}.py`` (its
#: packet loop stays interpreted, and calls across the boundary ate the
#: gain) and ``handshake.py`` (once per connection). Also measured
#: (2026-12-01, callgrind, ``decode -f jsonl`` of 20,000 frames; this list:
#: 3,187 M instructions): the whole JSON-lines lane in one group (this list,
#: ``sources/sink``, ``sources/pcap/{linklayer,tcp,flow,flows,streams,pcapng,
#: files,capture}`` and ``outputs/{formats,times,export}``) 3,098 M, 3% less,
#: for a build of 6 minutes instead of 2.5; ``outputs/{formats,times}`` added
#: alone 3,247 M, more. (These three ran without .pyc files, as
#: ``.ci/speedups`` then left its build: each run compiled the interpreted
#: modules from source, about 400 M; the whole-lane build had fewer of them,
#: so its 3% is an upper bound.) What is left is C work (hex, copies, float repr,
#: allocation) and attribute access on the model's dataclasses, which stay
#: interpreted. ``pipeline`` does not build: for ``Stream.__next__`` mypyc
#: 1.x emits C that gcc rejects (a mistyped ``tp_iternext``).
#: Then (2026-12-01, same capture, byte code cached) the model too:
#: ``model``, ``builders``, this list and the whole lane above in one group,
#: so Frames and Chunks are native classes (``builders.py`` takes their path
#: when the model is compiled): 2,752 M instructions against 2,786 M pure
#: and 2,294 M for 85f8834; CPU, best of 4 interleaved, 0.73 s, pure 0.76 s,
#: 85f8834 0.62 s. Not kept: a gain within the noise, a build of 5 to 6
#: minutes, and native classes check field types at run time, which 11
#: tests trip (floats given as ``ts_ns`` in ``tests/sources/pcap/test_tcp.py``
#: and ``tests/fuzz/test_fuzz_replay.py``, a str ``Marker.value`` in
#: ``tests/sources/autobahn/test_autobahn_grammar.py``, a monkeypatch of
#: ``outputs/export``). Compiling the lane needs ``outputs/times`` and
#: ``formats`` to divide epoch nanoseconds as ``Any``, already so: mypyc's
#: int/int rounds both to doubles first and changes the ``ts`` cells.
HOT = [
    "wirelog/protocol/masking.py",
    "wirelog/protocol/frames.py",
    "wirelog/protocol/deflate.py",
    "wirelog/protocol/messages.py",
    "wirelog/protocol/connection.py",
]


def _compiled() -> dict[str, object]:
    if os.environ.get("WIRELOG_MYPYC", "") in ("", "0"):
        return {}
    try:
        from mypyc.build import mypycify
    except ImportError:
        # PEP 517 asks for the build's requirements first: naming mypy here
        # makes the front end install it into the build environment.
        return {"setup_requires": ["mypy>=1.10"]}
    if {"egg_info", "dist_info"} & set(sys.argv):
        return {}  # metadata only, which the extensions do not change
    return {"ext_modules": mypycify(HOT, opt_level="3", debug_level="0", group_name="wirelog")}


setup(**_compiled())  # type: ignore[arg-type]
