"""The studio's ASGI app: sqladmin under a secret path prefix, on a guarded engine."""

from __future__ import annotations

from pathlib import Path

from sqladmin import Admin
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .schema import engine, in_order, reflect, visible_schemas
from .views import view_for

__all__ = ["build_app"]

TEMPLATES = Path(__file__).parent / "templates"


def build_app(url: str, *, token: str, write: bool = False, role: str | None = None) -> Starlette:
    """The data browser of *url*, served under ``/<token>/``; every other path is a 404.

    Raises psycopg.OperationalError if the database does not answer.
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
    admin = Admin(
        app,
        bound,
        base_url=prefix,
        title=f"codezest-db studio ({mode}{', ' + role if role else ''})",
        templates_dir=str(TEMPLATES),
    )
    by_schema = in_order(base.classes)
    shown = {model.__table__.fullname for model in by_schema}
    for model in by_schema:
        admin.add_view(view_for(model, write=write, base_url=prefix, shown=shown))
    return app
