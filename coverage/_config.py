"""Reading the project's TOML configuration files (speed profiles, planning standards).

A configuration is named by a shipped file's stem (``car``, ``kaijiang``) or given
as the path of a planner's own copy. These helpers resolve the name, read the file
as UTF-8 TOML, and word the errors the same way for every kind of file.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from coverage._errors import ConfigError


def _data_dir() -> Path:
    """The shipped data: ``coverage/data`` in an installed wheel, the repository's top-level ``data/`` otherwise.

    The repository keeps one copy, at its top; ``setup.py`` maps it into the wheel at
    build time. A source checkout and an editable install read it in place.
    """
    package = Path(__file__).resolve().parent
    installed = package / "data"
    return installed if installed.is_dir() else package.parent / "data"


#: The project's data folder, holding ``profiles/``, ``standards/``, ``regions/``, ``comoros/``
#: and ``road_classes.toml``.
DATA_DIR = _data_dir()


def list_configs(folder: Path) -> list[str]:
    """Names (file stems) of the TOML files shipped in ``folder``."""
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.toml"))


def resolve_config(name_or_path: str | os.PathLike[str], folder: Path, *, what: str) -> Path:
    """The file of a shipped configuration name, or a path given by the user.

    Anything that is not a plain ``str``, ends in ``.toml`` or holds a path
    separator is a path; otherwise it names a file in ``folder``.
    """
    text = os.fspath(name_or_path)
    available = ", ".join(list_configs(folder)) or "(none shipped)"
    looks_like_path = (
        not isinstance(name_or_path, str) or text.lower().endswith(".toml") or "/" in text or os.sep in text
    )
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.exists():
            msg = f"{what} file not found: {path}. Give the path of a .toml {what}, or one of: {available}."
            raise ConfigError(msg)
        if path.is_dir():
            msg = f"{path} is a folder; give the path of a .toml {what} file."
            raise ConfigError(msg)
        return path
    path = folder / f"{text}.toml"
    if not path.is_file():
        if not folder.is_dir():
            msg = (
                f"unknown {what} {text!r}: the shipped {what}s folder {folder} is missing "
                f"(is the package installed without the project's data folder?). Give the path of a .toml {what}."
            )
        else:
            hint = did_you_mean(text, list_configs(folder))
            msg = f"unknown {what} {text!r}{hint}. Available: {available}; or give the path of a .toml {what} file."
        raise ConfigError(msg)
    return path


def read_toml(path: Path, *, what: str, hint: str) -> tuple[dict[str, Any], str, str]:
    """Read a UTF-8 TOML file.

    Returns
    -------
    data : dict
        The parsed document.
    text : str
        The file's text (for line numbers in later messages).
    sha256 : str
        Hex digest of the file's bytes (a cache key).
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        msg = f"{path}: cannot read the {what} file ({error.strerror})."
        raise ConfigError(msg) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        msg = (
            f"{path}: not UTF-8 text (byte {error.start} cannot be decoded). "
            "Save the file as UTF-8 (editors often offer GBK or ANSI for Chinese text)."
        )
        raise ConfigError(msg) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: not valid TOML: {error}{quote_line(text, str(error))}. {hint}"
        raise ConfigError(msg) from error
    return data, text, hashlib.sha256(raw).hexdigest()


def quote_line(text: str, message: str) -> str:
    """The offending line of a TOML file, from the parser's "(at line N, column M)"."""
    match = re.search(r"line (\d+)", message)
    lines = text.splitlines()
    if not match or not 1 <= int(match[1]) <= len(lines):
        return ""
    return f": {lines[int(match[1]) - 1].strip()!r}"


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest allowed value, or an empty string."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def type_name(value: object) -> str:
    """How a TOML value's type reads in a message ("a number", "a list")."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
