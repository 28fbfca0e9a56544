"""Settings from the environment or a ``.env`` file, read as dbmate and pydantic-settings do.

A variable set in the process environment always wins. Otherwise its value
comes from the ``.env`` file of the working directory (``$CODEZEST_ENV_FILE``
names another file; set it to an empty string to read none). The file is
read as python-dotenv (the parser of pydantic-settings) reads it: ``KEY=value``
lines, ``export``, single and double quotes (also over several lines),
``#`` comments and ``${VAR}`` / ``${VAR:-default}`` expansion (inside single
quotes too, as python-dotenv does). The parser is a few lines here, so the
runtime needs no package for it; a test compares it with python-dotenv.

Pool options are ``CODEZEST_DB_<OPTION>`` (``CODEZEST_DB_MAX_SIZE=20``);
arguments given to ``configure`` win over them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["ENV_FILE_VARIABLE", "POOL_PREFIX", "env_file", "getenv", "parse", "pool_settings"]

ENV_FILE_VARIABLE = "CODEZEST_ENV_FILE"
POOL_PREFIX = "CODEZEST_DB_"

# option -> how its text becomes a value
_INTS = ("min_size", "max_size", "max_waiting", "num_workers", "connect_timeout")
_FLOATS = ("timeout", "max_lifetime", "max_idle", "reconnect_timeout", "max_replica_lag")
_WATCHDOG = ("suspect_after",)  # seconds, or none/off: the watchdog never checks


def env_file() -> Path | None:
    """The ``.env`` file to read, or None when there is none."""
    named = os.environ.get(ENV_FILE_VARIABLE)
    if named == "":
        return None
    path = Path(named) if named else Path(".env")
    if named and not path.is_file():
        raise ConfigurationError(f"{ENV_FILE_VARIABLE} names {path}, which is not a file")
    return path if path.is_file() else None


def getenv(name: str) -> str | None:
    """*name* from the environment, else from the ``.env`` file, else None."""
    value = os.environ.get(name)
    if value is not None:
        return value
    return _file_values().get(name)


def pool_settings() -> dict[str, Any]:
    """The pool options set as ``CODEZEST_DB_*`` variables, converted to their types.

    Raises ConfigurationError naming the variable when a value does not parse.
    """
    settings: dict[str, Any] = {}
    for option in (*_INTS, *_FLOATS, "prepare_threshold", "multiplex", *_WATCHDOG):
        name = POOL_PREFIX + option.upper()
        text = getenv(name)
        if text is None or not text.strip():
            continue
        settings[option] = _convert(name, option, text.strip())
    return settings


def _convert(name: str, option: str, text: str) -> Any:
    if option == "multiplex":
        if text.lower() in ("1", "true", "on", "yes"):
            return True
        if text.lower() in ("0", "false", "off", "no"):
            return False
        raise ConfigurationError(f"{name} must be true or false, got {text!r}")
    if option == "prepare_threshold" and text.lower() in ("none", "null", "off"):
        return None  # psycopg: never prepare (PgBouncer in transaction mode)
    if option in _WATCHDOG and text.lower() in ("none", "null", "off"):
        return None
    kind = float if option in (*_FLOATS, *_WATCHDOG) else int
    try:
        return kind(text)
    except ValueError:
        expected = "a number of seconds" if kind is float else "a whole number"
        raise ConfigurationError(f"{name} must be {expected}, got {text!r}") from None


def _file_values() -> dict[str, str]:
    path = env_file()
    return {} if path is None else parse(path.read_text(encoding="utf-8"))


_ENTRY = re.compile(
    r"""[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*
    (?:'(?P<single>(?:\\'|[^'])*)'|"(?P<double>(?:\\"|[^"])*)"|(?P<bare>[^\r\n]*))
    [^\r\n]*""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_VARIABLE = re.compile(r"\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}")


def parse(text: str) -> dict[str, str]:
    """The variables of a .env file's *text*, as python-dotenv's ``dotenv_values`` reads them."""
    values: dict[str, str] = {}
    position = 0
    while position < len(text):
        entry = _ENTRY.match(text, position)
        end = text.find("\n", entry.end() if entry else position)
        position = len(text) if end < 0 else end + 1
        if entry is None:
            continue  # a comment, a blank line, or something that is not KEY=value
        if entry["single"] is not None:
            value = _expand(re.sub(r"\\([\\'])", r"\1", entry["single"]), values)
        elif entry["double"] is not None:
            value = _expand(re.sub(r"\\([\\'\"abfnrtv])", _unescape, entry["double"]), values)
        else:
            value = _expand(re.sub(r"\s+#.*", "", entry["bare"]).rstrip(), values)
        values[entry["key"]] = value
    return values


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match[1], match[1])


def _expand(value: str, earlier: dict[str, str]) -> str:
    # As python-dotenv: the file's earlier values first, then the environment.
    def lookup(match: re.Match[str]) -> str:
        name = match["name"]
        if name in earlier:
            return earlier[name]
        return os.environ.get(name, match["default"] or "")

    return _VARIABLE.sub(lookup, value)
