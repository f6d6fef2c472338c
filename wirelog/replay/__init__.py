"""Replay a recording against a live peer, and compare recordings.

* :mod:`~wirelog.replay.plan` (pure): one side's chunks become timed writes.
* :mod:`~wirelog.replay.client` / :mod:`~wirelog.replay.server` (the only
  asyncio users): play a plan over TCP and record what comes back.
* :mod:`~wirelog.replay.verdict` / :mod:`~wirelog.replay.diff`: compare two
  decoded connections and print the result Autobahn-style.
* :mod:`~wirelog.replay.record`: write a replay as an Autobahn JSON report.
* :mod:`~wirelog.replay.run`: the library calls behind ``wirelog replay``
  (``replay``, ``listen``, ``load``).
"""
