"""Where outputs go: checked before any work, and created only for as long as a run succeeds.

A run that computes for minutes and then finds it cannot write its folder wastes
the planner's time; one that fails and leaves an empty folder behind looks like a
run that wrote nothing. :func:`check_out_folder` and :func:`check_out_file` try
the location at once (by creating and removing a temporary file there, which is
what the operating system answers truthfully, for any user and file system), and
:func:`created_folders` removes the folders a failed run created.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from coverage._errors import InputError


def _nearest_existing(path: Path) -> Path:
    """The path itself, or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _another(option: str) -> str:
    return f"another {option}" if option.startswith("--") else "another path"


def _why_not_writable(folder: Path) -> str | None:
    """None when a file can be created in ``folder``, else what the system says."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.EROFS:
            reason = "the file system is read-only"
        return reason[:1].lower() + reason[1:]
    return None


def check_out_folder(path: str | os.PathLike[str], *, option: str = "--out") -> Path:
    """Check that an output folder can be made or written into; nothing is created.

    Raises
    ------
    InputError
        When ``path`` is a file, lies under a file, or its folder (or the nearest
        existing one above it) cannot be written; the message names the option
        and the path.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        msg = f"{option} {path}: a file of that name exists; the outputs are several files in a folder, so give a folder name (or remove the file)."
        raise InputError(msg)
    existing = _nearest_existing(path)
    if not existing.is_dir():
        msg = f"{option} {path}: {existing} is a file, so no folder can be made there; give {_another(option)}."
        raise InputError(msg)
    reason = _why_not_writable(existing)
    if reason is not None:
        where = "into it" if existing == Path(os.path.abspath(path)) else f"in {existing}"
        msg = f"{option} {path}: cannot write {where} ({reason}); choose a folder you can write to."
        raise InputError(msg)
    return path


def check_out_file(
    path: str | os.PathLike[str], *, option: str = "--out", suffixes: Sequence[str] | None = None, what: str = "file"
) -> Path:
    """Check that an output file can be written (an earlier one replaced); nothing is created.

    Parameters
    ----------
    path : path
    option : str
        The option that gave the path, for messages.
    suffixes : sequence of str, optional
        Endings the file name must have (``.html``), any case.
    what : str
        What the file is, for messages (``"the map"``).

    Raises
    ------
    InputError
        When the name has the wrong ending, a folder stands at the path, or the
        folder it goes in cannot be written.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        msg = f"{option} {path}: {what} is written as {suffixes[0].lstrip('.').upper()}; give a file name ending in {suffixes[0]}."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{option} {path} is a folder; give the name of a file{f' ending in {suffixes[0]}' if suffixes else ''}."
        raise InputError(msg)
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        msg = f"{option} {path}: {existing} is a file, so the folder for {path.name} cannot be made; give {_another(option)}."
        raise InputError(msg)
    reason = _why_not_writable(existing)
    if reason is not None:
        msg = f"{option} {path}: cannot write in {existing} ({reason}); choose a location you can write to."
        raise InputError(msg)
    return path


@contextmanager
def created_folders(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Make ``path`` and its missing parents; remove the ones made here, when empty, if the block fails."""
    path = Path(path)
    missing = []
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for folder in missing:  # deepest first
            try:
                folder.rmdir()
            except OSError:  # not empty (something else wrote there), or already gone
                break
        raise
