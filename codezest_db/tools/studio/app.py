"""The studio's ASGI app: sqladmin under a secret path prefix, on a guarded engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from markupsafe import Markup
from sqladmin import Admin
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response

from .guard import Guard, form_token
from .schema import engine, in_order, reflect, row_estimates, visible_schemas
from .views import identity, view_for

__all__ = ["StudioAdmin", "TableEntry", "build_app"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATICS = HERE / "statics"


@dataclass(frozen=True)
class TableEntry:
    """A table on the index page: its name, its list's URL name and its row estimate."""

    name: str
    identity: str
    estimate: int | None


class StudioAdmin(Admin):
    """sqladmin's Admin whose index lists the five schemas' tables with their row estimates."""

    def __init__(self, app: Starlette, bound: Engine, schemas: list[str], **kwargs: Any) -> None:
        super().__init__(app, bound, **kwargs)
        self.studio_engine = bound
        self.studio_schemas = schemas
        self.studio_tables: dict[str, list[tuple[str, str]]] = {s: [] for s in schemas}
        self.templates.env.globals["studio_form_token"] = form_token
        self.templates.env.globals["studio_gettext"] = studio_gettext

    async def index(self, request: Request) -> Response:
        estimates = await anyio.to_thread.run_sync(
            row_estimates, self.studio_engine, self.studio_schemas
        )
        groups = [
            (
                schema,
                [
                    TableEntry(name, ident, estimates.get(f"{schema}.{name}"))
                    for name, ident in self.studio_tables[schema]
                ],
            )
            for schema in self.studio_schemas
        ]
        context = {"groups": groups, "title": "Schemas", "subtitle": "row counts are estimates"}
        return await self.templates.TemplateResponse(request, "studio/index.html", context)


SHOWING = "Showing %(start)s to %(end)s of %(count)s items"


def studio_gettext(message: str, **values: Any) -> Markup:
    """sqladmin's messages as they are, but an empty page's count says "No rows"."""
    if message == SHOWING and values.get("count") == 0:
        return Markup("No rows")
    text = Markup(message)
    return text % values if values else text


def build_app(url: str, *, token: str, write: bool = False, role: str | None = None) -> Guard:
    """The data browser of *url*, served under ``/<token>/``; every other path is a 404.

    Wrapped in `Guard`: security headers on every response; writes only in
    *write* mode and only from the studio's own pages. Raises
    psycopg.OperationalError if the database does not answer.
    """
    bound = engine(url, write=write, role=role)
    schemas = visible_schemas(bound)
    base = reflect(bound, schemas)
    # A page fetched through a DNS name that points at 127.0.0.1 is refused.
    app = Starlette(
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])]
    )
    prefix = f"/{token}"
    mode = "read-write" if write else "read-only"
    admin = StudioAdmin(
        app,
        bound,
        schemas,
        base_url=prefix,
        title=f"codezest-db studio ({mode}{', ' + role if role else ''})",
        templates_dir=str(TEMPLATES),
        # The studio's own CSS and script, served beside sqladmin's (same origin, CSP 'self').
        static_files_kwargs={"directory": str(STATICS)},
    )
    by_schema = in_order(base.classes)
    shown = {model.__table__.fullname for model in by_schema}
    for model in by_schema:
        table = model.__table__
        admin.studio_tables[table.schema].append((table.name, identity(table)))
        admin.add_view(view_for(model, write=write, base_url=prefix, shown=shown))
    return Guard(app, prefix=prefix, write=write)
