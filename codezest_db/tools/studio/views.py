"""One sqladmin view per table: enum labels, filters, keyset pages, related rows, user links."""

from __future__ import annotations

import base64
import builtins
import json
import types
import typing
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import anyio
from markupsafe import Markup, escape
from sqladmin import ModelView
from sqladmin.filters import BooleanFilter, StaticValuesFilter
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.helpers import slugify_class_name
from sqladmin.pagination import PageControl, Pagination
from sqlalchemy import JSON, Boolean, Column, Enum, String, and_, cast, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request

from .schema import class_name, in_order

__all__ = ["Related", "StudioView", "identity", "view_for"]

# Never shown: a secret's hash is no data to browse.
HIDDEN = frozenset({"password_hash"})
# Columns holding an auth.users id, in any schema (no cross-schema foreign keys).
USER_COLUMNS = frozenset({"user_id", "reviewer_id"})
RELATED_SHOWN = 5


def _cursor(order: str, values: list[Any]) -> str:
    raw = json.dumps([order, *(None if v is None else str(v) for v in values)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _uncursor(order: str, text: str) -> list[str | None]:
    """(sort value, id) of a page key; nothing when it was made for another order."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text.encode()))
    except ValueError:
        return []
    if not isinstance(values, list) or len(values) != 3 or values[0] != order:
        return []  # e.g. a sort header clicked on page 2: start over at page 1
    return values[1:]


@dataclass
class KeysetPagination(Pagination):
    """A page reached by a key, not an offset: previous and next carry the edge rows' keys."""

    more_before: bool = False
    more_after: bool = False
    first_key: str = ""
    last_key: str = ""

    @property
    def has_previous(self) -> bool:
        return self.more_before

    @property
    def has_next(self) -> bool:
        return self.more_after

    def add_pagination_urls(self, base_url: URL) -> None:
        plain = base_url.remove_query_params(["after", "before", "page"])
        if self.more_before:
            url = plain.include_query_params(before=self.first_key, page=self.page - 1)
            self.page_controls.append(PageControl(self.page - 1, str(url)))
        here = base_url.include_query_params(page=self.page)
        self.page_controls.append(PageControl(self.page, str(here)))
        if self.more_after:
            url = plain.include_query_params(after=self.last_key, page=self.page + 1)
            self.page_controls.append(PageControl(self.page + 1, str(url)))


@dataclass
class Related:
    """Rows of another table that point at the row shown: a few links and the total."""

    title: str
    count: int
    all_url: str
    rows: list[tuple[str, str]]


def _table(model: Any) -> Any:
    return model.__table__


class StudioView(ModelView):
    """Base of the generated views; `view_for` fills in one table.

    It overrides only sqladmin's public hooks; the work is done by this
    module's functions, on the session maker Admin gives every view.
    """

    page_size = 25
    page_size_options: ClassVar[list[int]] = [25, 50, 100]
    can_export = False
    details_template = "studio/details.html"

    async def list(self, request: Request) -> Pagination:
        """One page after (or before) a key: cost independent of how deep the page is.

        Raises HTTPException 400 when a filter value or page key does not fit its column.
        """
        try:
            return await _page(self, request)
        except DataError as error:
            detail = f"bad filter or page key: {error.orig}"
            raise HTTPException(status_code=400, detail=detail) from None

    async def get_object_for_details(self, request: Request) -> Any:
        obj = await super().get_object_for_details(request)
        if obj is not None:
            related = await anyio.to_thread.run_sync(_related, self, obj, request)
            request.state.related = related
        return obj


# -- keyset pages -------------------------------------------------------------


def _sessions(view: ModelView) -> sessionmaker[Session]:
    # The studio's engine is synchronous, so is the session maker Admin gave each view.
    return typing.cast("sessionmaker[Session]", view.session_maker)


def _order(view: ModelView, request: Request) -> tuple[Any, bool]:
    """(column, descending) of ``?sortBy=&sort=``; a column not sortable is ignored."""
    table = _table(view.model)
    sort_by = request.query_params.get("sortBy", "")
    if sort_by in table.c and sort_by in view.column_sortable_list:
        return table.c[sort_by], request.query_params.get("sort", "asc") == "desc"
    return table.c.get("created_at", table.c.id), True  # newest first


def _filtered(view: ModelView, request: Request) -> Any:
    stmt = view.list_query(request)
    table = _table(view.model)
    for name, value in request.query_params.items():
        if name.startswith("eq_") and name[3:] in table.c:
            column = table.c[name[3:]]
            stmt = stmt.where(column == cast(literal(value), column.type))
    search = request.query_params.get("search")
    if search:
        stmt = view.search_query(stmt=stmt, term=search)
    return stmt


def _fetch(view: ModelView, counting: Any, rows: Any) -> tuple[int, builtins.list[Any]]:
    """The total and the page's rows, in one session."""
    with _sessions(view)(expire_on_commit=False) as session:
        count = session.scalar(counting) or 0
        return count, builtins.list(session.scalars(rows).unique())


async def _page(view: ModelView, request: Request) -> Pagination:
    asked = view.validate_page_number(request.query_params.get("pageSize"), view.page_size)
    size = min(max(asked, 1), max(view.page_size_options))
    page = view.validate_page_number(request.query_params.get("page"), 1)
    stmt = _filtered(view, request)
    for filter_ in view.get_filters():
        filter_ = typing.cast(Any, filter_)  # only the two simple filter kinds are used
        value = request.query_params.get(filter_.parameter_name)
        if value:
            stmt = await filter_.get_filtered_query(stmt, value, view.model)
    counting = sa_select(func.count()).select_from(stmt.subquery())
    column, desc = _order(view, request)
    key = _table(view.model).c.id
    after, before = request.query_params.get("after"), request.query_params.get("before")
    order_name = f"{column.name} {'desc' if desc else 'asc'}"
    edge = _uncursor(order_name, after or before or "")
    backwards = bool(before and edge)
    forward_desc = desc != backwards
    if edge:
        stmt = stmt.where(_beyond(column, key, forward_desc, edge))
    else:
        page = 1
    order = [column.desc().nulls_first(), key.desc()] if forward_desc else [
        column.asc().nulls_last(), key.asc()]  # fmt: skip
    stmt = stmt.order_by(*order).limit(size + 1)
    count, rows = await anyio.to_thread.run_sync(_fetch, view, counting, stmt)
    extra = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    first = last = ""
    if rows:
        name = column.name
        first = _cursor(order_name, [getattr(rows[0], name), rows[0].id])
        last = _cursor(order_name, [getattr(rows[-1], name), rows[-1].id])
    return KeysetPagination(
        rows=rows,
        page=page,
        page_size=size,
        count=count,
        more_before=page > 1 and bool(rows),
        more_after=extra or backwards,
        first_key=first,
        last_key=last,
    )


# -- a row and its related rows ----------------------------------------------


def _related(view: ModelView, obj: Any, request: Request) -> builtins.list[Related]:
    with _sessions(view)() as session:
        return [
            _children_of(session, model, column, obj.id, request)
            for model, column in _children(view.model)
        ]


def _children(model: Any) -> builtins.list[tuple[Any, Column[Any]]]:
    """(class, column) of every table pointing at *model*'s: foreign keys in the
    schema, and ``user_id`` columns in every schema when that is auth.users.

    In the sidebar's order; the classes are those automapped with *model*,
    each of which has a view.
    """
    me = _table(model)
    pairs = []
    for other in in_order(mapper.class_ for mapper in model.registry.mappers):
        for column in _table(other).c:
            points_here = any(fk.column.table is me for fk in column.foreign_keys)
            names_user = me.fullname == "auth.users" and column.name in USER_COLUMNS
            if points_here or (names_user and not column.foreign_keys):
                pairs.append((other, column))
    return pairs


def _children_of(
    session: Session, model: Any, column: Column[Any], key: Any, request: Request
) -> Related:
    table = _table(model)
    count = session.scalar(sa_select(func.count()).select_from(table).where(column == key))
    ids = session.scalars(sa_select(table.c.id).where(column == key).limit(RELATED_SHOWN)).all()
    name = identity(table)
    prefix = str(request.url_for("admin:details", identity=name, pk="0"))[:-1]
    listing = request.url_for("admin:list", identity=name)
    return Related(
        title=f"{table.fullname}.{column.name}",
        count=count or 0,
        all_url=str(listing.include_query_params(**{f"eq_{column.name}": str(key)})),
        rows=[(str(i), f"{prefix}{i}") for i in ids],
    )


def _beyond(column: Any, key: Any, desc: bool, edge: list[str | None]) -> ColumnElement[bool]:
    """Rows after *edge* in the order (column, key), descending or ascending.

    PostgreSQL puts nulls last ascending and first descending; the order used
    here does the same, so a null edge value is handled on its own.
    """
    value, last = edge
    last_key = cast(literal(last), key.type)
    if column is key:
        found: ColumnElement[bool] = key < last_key if desc else key > last_key
        return found
    if value is None:
        if desc:
            return or_(and_(column.is_(None), key < last_key), column.is_not(None))
        return and_(column.is_(None), key > last_key)
    typed = cast(literal(value), column.type)
    if desc:
        return or_(column < typed, and_(column == typed, key < last_key))
    return or_(column > typed, and_(column == typed, key > last_key), column.is_(None))


def _badge(model: Any, name: str) -> Any:
    value = getattr(model, name)
    return Markup('<span class="badge bg-azure-lt">{}</span>').format(value) if value else value


def _short_id(value: uuid.UUID) -> str:
    # The tail: time-ordered (v7) ids share their head. A row's page shows it whole.
    return f"…{str(value)[-8:]}"


def _short_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _id_link(prefix: str, short: bool) -> Any:
    def link(model: Any, name: str) -> Any:
        value = getattr(model, name)
        if value is None:
            return value
        label = _short_id(value) if short else str(value)
        return Markup('<a href="{}{}">{}</a>').format(prefix, value, escape(label))

    return link


def identity(table: Any) -> str:
    """The URL name of a table's view: auth.users -> auth-users.

    sqladmin names a view after its model class with ``slugify_class_name``
    (AuthUsers -> auth-users, ActivityAnalyticsEventsP202612 ->
    activity-analytics-events-p202612); `class_name` names the automap
    classes, so this is the view's name by construction.
    """
    return slugify_class_name(class_name(table))


def _target(column: Any, shown: set[str]) -> str | None:
    """The table a column's id points at: its foreign key's, or auth.users for a user id."""
    for fk in column.foreign_keys:
        if fk.column.name == "id" and fk.column.table.fullname in shown:
            return identity(fk.column.table)
    if column.name in USER_COLUMNS and "auth.users" in shown:
        return "auth-users"
    return None


def view_for(model: Any, *, write: bool, base_url: str, shown: set[str]) -> type[StudioView]:
    """A view class for one automapped table.

    *base_url* is the admin's path, *shown* the tables the app has views for.
    """
    table = model.__table__
    columns = [c for c in table.c if c.name not in HIDDEN]
    scalar_relations = [
        r.key for r in model.__mapper__.relationships if r.direction.name == "MANYTOONE"
    ]
    formatters: dict[str, Any] = {}
    detail_formatters: dict[str, Any] = {}
    filters: list[Any] = []
    for column in columns:
        if isinstance(column.type, Enum):
            formatters[column.name] = detail_formatters[column.name] = _badge
            values = [(v, v) for v in column.type.enums]
            filters.append(StaticValuesFilter(getattr(model, column.name), values))
        elif isinstance(column.type, Boolean):
            filters.append(BooleanFilter(getattr(model, column.name)))
        target = _target(column, shown) if column.name != "id" else None
        if target:
            prefix = f"{base_url}/{target}/details/"
            formatters[column.name] = _id_link(prefix, short=True)
            detail_formatters[column.name] = _id_link(prefix, short=False)
    attrs: dict[str, Any] = {
        "name": table.name,
        "name_plural": table.name,
        "category": table.schema,
        "can_create": write,
        "can_edit": write,
        "can_delete": write,
        "column_list": [c.name for c in columns],
        "column_details_list": [c.name for c in columns] + scalar_relations,
        "column_sortable_list": [c.name for c in columns if not isinstance(c.type, JSON)],
        "column_searchable_list": [
            c.name
            for c in columns
            if isinstance(c.type, String) and not isinstance(c.type, Enum) and not c.foreign_keys
        ],
        "column_filters": filters,
        "column_formatters": formatters,
        "column_formatters_detail": detail_formatters,
        "column_type_formatters": {
            **BASE_FORMATTERS,
            uuid.UUID: _short_id,
            datetime: _short_time,
        },
        # Whole values on a row's page (it must differ from BASE_FORMATTERS, else
        # sqladmin reuses the list's formatters).
        "column_type_formatters_detail": {**BASE_FORMATTERS, uuid.UUID: str, datetime: str},
        "form_excluded_columns": [r.key for r in model.__mapper__.relationships]
        + [c.name for c in table.c if c.name in HIDDEN],
    }
    return types.new_class(
        f"{model.__name__}View", (StudioView,), {"model": model}, lambda ns: ns.update(attrs)
    )
