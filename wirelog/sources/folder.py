"""A folder of recordings (captures, HARs, mitmproxy flows) as one input.

A folder of Autobahn reports is read by the report reader (its index.json
or its ``*_case_*`` files); any other folder is a set of inputs of their
own kinds, read one after the other in name order, each connection's
``source`` naming its file. Files of no known kind (a README beside the
captures) are passed over; hidden files and subfolders are not looked at.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from wirelog.errors import InputError, UnknownFormatError
from wirelog.model import Recording
from wirelog.sources.detect import detect
from wirelog.sources.options import Options


def members(path: str) -> list[tuple[str, str | InputError]]:
    """``(file, kind)`` of the folder's inputs, by name; the kind is the
    error when even the kind cannot be told (a corrupt gzip stream)."""
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    out: list[tuple[str, str | InputError]] = []
    for name in names:
        file = os.path.join(path, name)
        if name.startswith(".") or not os.path.isfile(file):
            continue
        try:
            out.append((file, detect(file)))
        except UnknownFormatError:
            continue
        except InputError as exc:
            out.append((file, exc))
    if not out:
        raise UnknownFormatError(
            path, "a folder with no capture, HAR, mitmproxy flow or Autobahn report in it"
        )
    return out


def first_error(path: str, errors: list[InputError]) -> InputError:
    """The error a folder ends with when some of its files failed: the
    first, saying how many more did (their connections are all delivered)."""
    first = errors[0]
    if len(errors) == 1:
        return first
    return InputError(
        first.source,
        f"{first.message} (and {len(errors) - 1} more files of {path})",
        first.location,
    )


def read_folder(path: str, opts: Options, read: Callable[[str, Options], Recording]) -> Recording:
    """Each input of a folder read in turn (by ``read``: the pipeline's, which
    this layer may not import) into one recording; the first error is raised
    after the others were read, carrying what they gave."""

    out = Recording(source=path, kind="folder")
    errors: list[InputError] = []
    for file, sub in members(path):
        if isinstance(sub, InputError):
            errors.append(sub)
            continue
        try:
            rec = read(file, opts)
        except InputError as exc:
            errors.append(exc)
            if not isinstance(exc.partial, Recording):
                continue
            rec = exc.partial
        out.connections.extend(rec.connections)
        out.findings.extend(rec.findings)
    if errors:
        error = first_error(path, errors)
        error.partial = out
        raise error
    return out
