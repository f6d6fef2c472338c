"""Replay a recording against a live peer, and compare recordings.

The data flows one way: a recording becomes a plan (pure), the plan is
played over TCP, what came back is a new recording, and the verdict
compares the two.

* Planning (pure, no I/O): :mod:`~wirelog.replay.rebuild` (the octets of
  one side the recording determines), :mod:`~wirelog.replay.progress`
  (peer progress in protocol units, the causal-order model),
  :mod:`~wirelog.replay.plan` (``build_plan``: chunks become timed writes,
  held in the :mod:`~wirelog.replay.steps` dataclasses) and
  :mod:`~wirelog.replay.head` (the handshake edits a replay makes).
* Playing (the only asyncio users): :mod:`~wirelog.replay.session` (the
  session state machine), :mod:`~wirelog.replay.transport` (the protocol
  object, drains, pauses), :mod:`~wirelog.replay.client` and
  :mod:`~wirelog.replay.server` (connect or listen), with
  :mod:`~wirelog.replay.target` (where to) and
  :mod:`~wirelog.replay.outcome` (what happened).
* Judging: :mod:`~wirelog.replay.verdict` and :mod:`~wirelog.replay.diff`
  compare two decoded connections, :mod:`~wirelog.replay.render` prints
  the results, :mod:`~wirelog.replay.record` writes a replay as an Autobahn
  JSON report (with :mod:`~wirelog.replay.quiet`: the log off for a data
  phase, as Autobahn's 9.x/12.x/13.x keep it).
* :mod:`~wirelog.replay.run`: the library calls behind ``wirelog replay``
  (``replay``, ``listen``, ``load``), with :mod:`~wirelog.replay.options`.
"""
