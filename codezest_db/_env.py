"""Settings from the environment or a ``.env`` file, read as dbmate and pydantic-settings do.

A variable set in the process environment always wins. Otherwise its value
comes from the ``.env`` file of the working directory (``$CODEZEST_ENV_FILE``
names another file; set it to an empty string to read none). The file is
parsed by python-dotenv, the parser pydantic-settings uses: ``KEY=value``
lines, ``export``, quotes, ``#`` comments and ``${VAR}`` expansion.

Pool options are ``CODEZEST_DB_<OPTION>`` (``CODEZEST_DB_MAX_SIZE=20``);
arguments given to ``configure`` win over them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["ENV_FILE_VARIABLE", "POOL_PREFIX", "env_file", "getenv", "pool_settings"]

ENV_FILE_VARIABLE = "CODEZEST_ENV_FILE"
POOL_PREFIX = "CODEZEST_DB_"

# option -> how its text becomes a value
_INTS = ("min_size", "max_size", "max_waiting", "num_workers", "connect_timeout")
_FLOATS = ("timeout", "max_lifetime", "max_idle", "reconnect_timeout")


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
    for option in (*_INTS, *_FLOATS, "prepare_threshold"):
        name = POOL_PREFIX + option.upper()
        text = getenv(name)
        if text is None or not text.strip():
            continue
        settings[option] = _convert(name, option, text.strip())
    return settings


def _convert(name: str, option: str, text: str) -> Any:
    if option == "prepare_threshold" and text.lower() in ("none", "null", "off"):
        return None  # psycopg: never prepare (PgBouncer in transaction mode)
    kind = float if option in _FLOATS else int
    try:
        return kind(text)
    except ValueError:
        expected = "a number of seconds" if kind is float else "a whole number"
        raise ConfigurationError(f"{name} must be {expected}, got {text!r}") from None


def _file_values() -> dict[str, str]:
    path = env_file()
    if path is None:
        return {}
    from dotenv import dotenv_values  # only when there is a file to read

    return {k: v for k, v in dotenv_values(path).items() if v is not None}
