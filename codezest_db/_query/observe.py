"""Every query call is observed: a DEBUG record of its time, and a span when tracing is on.

Each call is logged at DEBUG on ``codezest_db.queries`` with its name and
duration (never its parameter values) and, when OpenTelemetry is installed
and a real tracer provider is set, is a span named after the query
(``auth.get_user_by_email``).
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager
from typing import Any

from .parse import QuerySpec

__all__ = ["load_tracer", "observed", "observing"]

_log = logging.getLogger("codezest_db.queries")
_trace: Any = None  # the opentelemetry.trace module, when installed
_tracer: Any = None  # set by tests; otherwise taken from the global provider
_tracer_loaded = False


def observing() -> bool:
    """Whether calls are traced or logged now (checked before a call, cheaply)."""
    # `_active_tracer`'s answer, asking it only when its lookup is due (a call less
    # on every query call).
    tracer = _tracer
    if tracer is None and _trace is not None:
        checked, tracer = _provider
        if time.monotonic() - checked >= _LOOKUP_EVERY:
            tracer = _active_tracer()
    return tracer is not None or _log.isEnabledFor(logging.DEBUG)


_provider = (-1.0, None)  # when the tracer provider was last looked up, and its tracer
_LOOKUP_EVERY = 1.0  # seconds between lookups of the provider


def _active_tracer() -> Any:
    """The tracer, while a real tracer provider is set: the no-op one costs 25 µs a call.

    Looking the provider up reads the environment, so it is done at most once a
    second: a provider set at start-up is in use from the first calls on.
    """
    global _provider
    if _tracer is not None or _trace is None:
        return _tracer
    checked, tracer = _provider
    now = time.monotonic()
    if now - checked < _LOOKUP_EVERY:
        return tracer
    provider = _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        tracer = None
    else:
        tracer = provider.get_tracer("codezest_db")
    _provider = (now, tracer)
    return tracer


class observed(AbstractContextManager[None]):  # noqa: N801 - used like a function
    """A span named after the query (OpenTelemetry installed) and a DEBUG record of its time."""

    __slots__ = ("_span", "_spec", "_start")

    def __init__(self, spec: QuerySpec) -> None:
        self._spec = spec
        self._span: Any = None
        self._start = 0.0

    def __enter__(self) -> None:
        tracer = _active_tracer()
        if tracer is not None:
            self._span = tracer.start_as_current_span(
                self._spec.qualname,
                kind=_trace.SpanKind.CLIENT,
                attributes={
                    "db.system": "postgresql",
                    "db.statement": self._spec.sql,
                    "db.operation": self._spec.name,
                    "code.namespace": f"codezest_db.queries.{self._spec.domain}",
                    "code.function": self._spec.name,
                },
            )
            self._span.__enter__()
        self._start = time.perf_counter()

    def __exit__(self, *exc: Any) -> None:
        elapsed = (time.perf_counter() - self._start) * 1000
        if _log.isEnabledFor(logging.DEBUG):
            outcome = "failed" if exc[0] is not None else "ok"
            _log.debug(
                "%s %s in %.3f ms",
                self._spec.qualname,
                outcome,
                elapsed,
                extra={"query": self._spec.qualname, "duration_ms": elapsed},
            )
        if self._span is not None:
            self._span.__exit__(*exc)


def load_tracer() -> None:
    """Find OpenTelemetry once, when the first domain loads (an optional dependency)."""
    global _trace, _tracer_loaded
    if _tracer_loaded:
        return
    _tracer_loaded = True
    try:
        from opentelemetry import trace
    except ImportError:
        return
    _trace = trace
