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
from sqladmin.helpers import get_primary_keys, object_identifier_values, slugify_class_name
from sqladmin.pagination import PageControl, Pagination
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    String,
    and_,
    cast,
    func,
    insert,
    literal,
    or_,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request

from .forms import ExactDateTimeField, ExactJSONField, StudioForm, changed, json_text
from .schema import class_name, in_order

__all__ = ["Related", "StudioView", "identity", "view_for"]

# Never shown, filtered, searched or sorted on: a secret's hash is no data to
# browse, and a filter on it would let anyone with the link test a guess.
HIDDEN = frozenset({"password_hash", "token_hash"})


def hidden(column: Any) -> bool:
    """Whether the studio hides *column*: a password or token hash (any ``*_hash``)."""
    return bool(column.name in HIDDEN or column.name.endswith("_hash"))


NULL = Markup('<span class="text-muted studio-null">NULL</span>')
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
    list_template = "studio/list.html"

    async def list(self, request: Request) -> Pagination:
        """One page after (or before) a key: cost independent of how deep the page is.

        Raises HTTPException 400 when a filter value or page key does not fit its column.
        """
        try:
            return await _page(self, request)
        except DataError as error:
            detail = f"bad filter or page key: {error.orig}"
            raise HTTPException(status_code=400, detail=detail) from None

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        """INSERT the form's columns; a column left empty that has a default gets its default."""
        return await anyio.to_thread.run_sync(_insert, self, data)

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        """UPDATE only the columns whose submitted value differs from the row's.

        Nothing at all is written when nothing differs. Raises HTTPException
        404 when the row is gone.
        """
        return await anyio.to_thread.run_sync(_update, self, pk, data)

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
    """The list query with ``?eq_<column>=`` and ``?search=`` applied.

    Raises HTTPException 400 for a filter on a column the table lacks or hides.
    """
    stmt = view.list_query(request)
    table = _table(view.model)
    for name, value in request.query_params.items():
        if not name.startswith("eq_"):
            continue
        wanted = name[3:]
        if wanted not in table.c:
            detail = f"cannot filter on {wanted!r}: {table.fullname} has no such column"
            raise HTTPException(status_code=400, detail=detail)
        column = table.c[wanted]
        if hidden(column):
            detail = f"cannot filter on {wanted!r}: the studio hides {table.fullname}.{wanted}"
            raise HTTPException(status_code=400, detail=detail)
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


# -- writes ---------------------------------------------------------------------


def _where_pk(view: ModelView, pk: str) -> builtins.list[ColumnElement[bool]]:
    keys = get_primary_keys(view.model)
    values = object_identifier_values(pk, view.model)
    return [key == value for key, value in zip(keys, values, strict=True)]


def _columns_of(view: ModelView, data: dict[str, Any]) -> dict[str, Any]:
    """The form values that are plain visible columns (not the token, not a relationship)."""
    table = _table(view.model)
    return {k: v for k, v in data.items() if k in table.c and not hidden(table.c[k])}


def _insert(view: ModelView, data: dict[str, Any]) -> Any:
    table = _table(view.model)
    values = {}
    for name, value in _columns_of(view, data).items():
        column = table.c[name]
        empty = value is None or value == ""
        if empty and (column.server_default is not None or column.default is not None):
            continue  # the column's default, not a NULL
        values[name] = None if empty and column.nullable else value
    keys = get_primary_keys(view.model)
    with _sessions(view)(expire_on_commit=False) as session:
        created = session.execute(insert(table).values(**values).returning(*keys)).one()
        session.commit()
        return session.get(view.model, tuple(created))


def _update(view: ModelView, pk: str, data: dict[str, Any]) -> Any:
    table = _table(view.model)
    where = _where_pk(view, pk)
    submitted = _columns_of(view, data)
    with _sessions(view)(expire_on_commit=False) as session:
        names = builtins.list(submitted) or [c.name for c in get_primary_keys(view.model)]
        row = session.execute(
            sa_select(*(table.c[n] for n in names)).where(*where).with_for_update()
        ).one_or_none()
        if row is None:
            raise HTTPException(status_code=404, detail="the row is gone")
        differs = changed(dict(zip(names, row, strict=True)), submitted)
        if differs:
            session.execute(update(table).where(*where).values(**differs))
        session.commit()
        return session.get(view.model, tuple(object_identifier_values(pk, view.model)))


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
    if value is None:
        return NULL
    return Markup('<span class="badge bg-azure-lt">{}</span>').format(value)


def _null(value: None) -> Markup:
    return NULL


def _json_short(model: Any, name: str) -> Any:
    value = getattr(model, name)
    if value is None:
        return NULL
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else f"{text[:79]}…"


def _json_whole(model: Any, name: str) -> Any:
    value = getattr(model, name)
    if value is None:
        return NULL
    return Markup('<pre class="studio-json">{}</pre>').format(json_text(value))


def _short_id(value: uuid.UUID) -> str:
    # The tail: time-ordered (v7) ids share their head. A row's page shows it whole.
    return f"…{str(value)[-8:]}"


def _short_time(value: datetime) -> str:
    return _infinite(value) or value.strftime("%Y-%m-%d %H:%M")


def _whole_time(value: datetime) -> str:
    return _infinite(value) or str(value)


def _infinite(value: datetime) -> str | None:
    """What PostgreSQL says of the value the studio reads its infinities as (schema.py)."""
    if value.replace(tzinfo=None) == datetime.max:
        return "infinity"
    if value.replace(tzinfo=None) == datetime.min:
        return "-infinity"
    return None


def _id_link(prefix: str, short: bool) -> Any:
    def link(model: Any, name: str) -> Any:
        value = getattr(model, name)
        if value is None:
            return NULL
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
    columns = [c for c in table.c if not hidden(c)]
    scalar_relations = [
        r.key for r in model.__mapper__.relationships if r.direction.name == "MANYTOONE"
    ]
    formatters: dict[str, Any] = {}
    detail_formatters: dict[str, Any] = {}
    filters: list[Any] = []
    overrides: dict[str, Any] = {}
    field_args: dict[str, Any] = {}
    for column in columns:
        if isinstance(column.type, Enum):
            formatters[column.name] = detail_formatters[column.name] = _badge
            values = [(v, v) for v in column.type.enums]
            filters.append(StaticValuesFilter(getattr(model, column.name), values))
        elif isinstance(column.type, Boolean):
            filters.append(BooleanFilter(getattr(model, column.name)))
        if isinstance(column.type, JSON):
            formatters[column.name] = _json_short
            detail_formatters[column.name] = _json_whole
            overrides[column.name] = ExactJSONField
        elif isinstance(column.type, DateTime):
            overrides[column.name] = ExactDateTimeField
            if not column.type.timezone:
                field_args[column.name] = {"aware": False}
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
            type(None): _null,
            uuid.UUID: _short_id,
            datetime: _short_time,
        },
        # Whole values on a row's page: to the microsecond, with the UTC offset.
        "column_type_formatters_detail": {
            **BASE_FORMATTERS,
            type(None): _null,
            uuid.UUID: str,
            datetime: _whole_time,
        },
        "form_base_class": StudioForm,
        "form_overrides": overrides,
        "form_args": field_args,
        "form_excluded_columns": [r.key for r in model.__mapper__.relationships]
        + [c.name for c in table.c if hidden(c)],
    }
    return types.new_class(
        f"{model.__name__}View", (StudioView,), {"model": model}, lambda ns: ns.update(attrs)
    )
