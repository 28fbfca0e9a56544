"""Form fields that round-trip a value exactly, and what an edit changed.

sqladmin's own fields lose data on the way back: its datetime field shows
whole seconds without a time zone, its JSON field shows ``{}`` for NULL and
for an empty list. These show the value as it is stored and read it back to
the same value, so an untouched field compares equal to the row's value and
`changed` leaves it out of the UPDATE.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

# WTForms (sqladmin's form library) ships no type information.
from wtforms import Form, HiddenField, StringField, TextAreaField  # type: ignore[import-untyped]

from .guard import FORM_FIELD, form_token

__all__ = ["ExactDateTimeField", "ExactJSONField", "StudioForm", "changed", "json_text"]


class StudioForm(Form):  # type: ignore[misc]
    """Every form of the studio: carries the session's form token (checked by the guard)."""

    csrf_token = HiddenField(default=form_token)


assert FORM_FIELD == "csrf_token"  # the field's name is what the guard reads


class ExactDateTimeField(StringField):  # type: ignore[misc]
    """A timestamp as ISO 8601 to the microsecond with its UTC offset, read back as such.

    A value typed without an offset is read as UTC in a ``timestamptz``
    column (the description says so) and as is in a ``timestamp`` one.
    """

    def __init__(self, *args: Any, aware: bool = True, **kwargs: Any) -> None:
        if aware and not kwargs.get("description"):
            kwargs["description"] = (
                "ISO 8601 with its UTC offset, e.g. 2026-12-01 21:32:52.097675+00:00"
                " (without an offset: UTC)"
            )
        super().__init__(*args, **kwargs)
        self.aware = aware

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.data = None
            raise ValueError(
                f"not an ISO 8601 timestamp: {text!r} (e.g. 2026-12-01 21:32:52.097675+00:00)"
            ) from None
        if self.aware and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        self.data = value


class ExactJSONField(TextAreaField):  # type: ignore[misc]
    """A JSON value as JSON; empty means NULL (``null``, ``{}`` and ``[]`` are values)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0])
        if not text.strip():
            self.data = None
            return
        try:
            self.data = json.loads(text)
        except ValueError as error:
            self.data = None
            raise ValueError(f"not valid JSON: {error}") from None

    def _value(self) -> str:
        # The text the widget shows: WTForms' documented hook for custom fields.
        if self.raw_data:
            return str(self.raw_data[0])
        return json_text(self.data)


def json_text(value: Any) -> str:
    """How a JSON value is shown in a form and on a row's page."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def _same(original: Any, submitted: Any) -> bool:
    """Whether a submitted form value leaves a column's value as it is."""
    if original is None:
        return submitted is None or submitted == ""
    if submitted is None:
        return False
    if isinstance(original, str) and isinstance(submitted, str):
        # A browser sends a textarea's line breaks as CRLF.
        return original.replace("\r\n", "\n") == submitted.replace("\r\n", "\n")
    if isinstance(original, bool) or isinstance(submitted, bool):
        return original is submitted
    if isinstance(original, dict | list) or isinstance(submitted, dict | list):
        return bool(json.dumps(original, sort_keys=True) == json.dumps(submitted, sort_keys=True))
    try:
        if bool(original == submitted):
            return True
    except TypeError:
        pass
    return str(original) == str(submitted)  # inet and such: shown and read as text


def changed(row: dict[str, Any], submitted: dict[str, Any]) -> dict[str, Any]:
    """The submitted values that differ from the row's: what an UPDATE should set.

    *row* maps column names to the stored values; a submitted name that is
    not one of them (the form token, the submit button) is left out.
    """
    out = {}
    for name, value in submitted.items():
        if name not in row or _same(row[name], value):
            continue
        original = row[name]
        if isinstance(value, str) and isinstance(original, str) and "\r\n" not in original:
            value = value.replace("\r\n", "\n")
        out[name] = value
    return out
