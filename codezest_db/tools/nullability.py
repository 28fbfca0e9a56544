"""Who can be NULL, read from a query's generic plan (EXPLAIN VERBOSE, JSON).

PostgreSQL describes where a result column comes from, but not whether it can
be NULL: the plan shows the outer joins (a column on their outer side can be
NULL even when its table column cannot) and the expressions behind each
output, so common never-NULL ones (``count(...)``, literals, ``now()``, a
``coalesce`` ending in one of those) need no assertion. The same plan tells
whether the statement always returns a row (so its result is never None) and
which parameters an INSERT stores unchanged in a column that allows NULL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .catalog import Catalog, TableColumn

__all__ = ["Nullability"]


_QUALIFIED = re.compile(r'("(?:[^"]|"")+"|\w+)\.("(?:[^"]|"")+"|\w+)')
_IDENT = re.compile(r'"(?:[^"]|"")+"|\w+')
_CAST = re.compile(r'(.*)::[\w ."]+(?:\[\])*(?:\(\d+(?:,\s*\d+)?\))?')
_LITERAL = re.compile(r"'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false")
_NEVER_NULL = frozenset(
    {
        "now()",
        "CURRENT_TIMESTAMP",
        "CURRENT_DATE",
        "statement_timestamp()",
        "transaction_timestamp()",
        "clock_timestamp()",
        "gen_random_uuid()",
    }
)
_OUTER_SIDE = {"Left": ("Inner",), "Right": ("Outer",), "Full": ("Inner", "Outer")}


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def _enclosed(text: str) -> bool:
    """Whether the parentheses around *text* enclose all of it."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    quoted = False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0 and i < len(text) - 1:
                return False
    return True


def _strip(text: str) -> str:
    text = text.strip()
    while _enclosed(text):
        text = text[1:-1].strip()
    return text


def _output_name(entry: str) -> str | None:
    """The column name of a plan output that is a plain column reference."""
    text = _strip(entry)
    qualified = _QUALIFIED.fullmatch(text)
    if qualified:
        return _unquote(qualified[2])
    return _unquote(text) if _IDENT.fullmatch(text) else None


def _drop_filter(text: str) -> str:
    """An aggregate call without its trailing ``FILTER (WHERE ...)``."""
    head, found, tail = text.rpartition(" FILTER ")
    return head if found and _enclosed(tail) else text


def _arguments(text: str) -> list[str]:
    """Split the top-level comma-separated arguments of *text*."""
    args, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
    args.append(text[start:])
    return [a.strip() for a in args]


class Nullability:
    """Who can be NULL in a query, by its generic plan: result columns, the row, parameters."""

    def __init__(self, root: dict[str, Any], catalog: Catalog) -> None:
        self.root = root
        self.catalog = catalog
        self.scans: dict[str, tuple[dict[str, Any], bool]] = {}  # alias -> (node, outer side)
        self.ctes: dict[str, dict[str, Any]] = {}
        self.outer_tables: set[tuple[str, str]] = set()
        self._walk(root, outer=False)

    def _walk(self, node: dict[str, Any], outer: bool) -> None:
        subplan = node.get("Subplan Name", "")
        if subplan.startswith("CTE "):
            self.ctes[subplan[4:]] = node
        if "Alias" in node:
            self.scans[node["Alias"]] = (node, outer)
            if outer and "Relation Name" in node:
                self.outer_tables.add((node["Schema"], node["Relation Name"]))
        nullable_sides = _OUTER_SIDE.get(node.get("Join Type", ""), ())
        for child in node.get("Plans", ()):
            relationship = child.get("Parent Relationship")
            if relationship in ("InitPlan", "SubPlan"):
                self._walk(child, outer=False)
            else:
                self._walk(child, outer=outer or relationship in nullable_sides)

    def output_nullable(self, k: int) -> bool | None:
        """Whether result column *k* can be NULL: True, False, or None when unknown."""
        outputs = self.root.get("Output")
        if outputs is not None:
            return self.nullable(outputs[k]) if k < len(outputs) else None
        return self._members(k)

    def on_outer_side(self, schema: str, table: str) -> bool:
        """Whether some scan of the table is on the outer side of an outer join."""
        return (schema, table) in self.outer_tables

    def _members(self, k: int) -> bool | None:
        """Nullability of column *k* of a UNION ALL (an Append of members)."""
        if self.root.get("Node Type") not in ("Append", "Merge Append"):
            return None
        results = []
        for child in self.root.get("Plans", ()):
            if child.get("Parent Relationship") != "Member":
                continue
            outputs = child.get("Output") or ()
            results.append(self.nullable(outputs[k]) if k < len(outputs) else None)
        if not results or None in results:
            return None
        return any(results)

    def nullable(self, expression: str, depth: int = 0) -> bool | None:
        """True if *expression* can be NULL, False if never, None if unknown."""
        text = _strip(expression)
        if depth > 20:
            return None
        qualified = _QUALIFIED.fullmatch(text)
        if qualified:
            return self._column(_unquote(qualified[1]), _unquote(qualified[2]), depth)
        if _IDENT.fullmatch(text) and text not in ("true", "false", "NULL"):
            return self._unqualified(_unquote(text), depth)
        return self._expression(text, depth)

    def _expression(self, text: str, depth: int) -> bool | None:
        if text in _NEVER_NULL or _LITERAL.fullmatch(text):
            return False
        if text.startswith("NULL::") or text == "NULL":
            return True
        cast = _CAST.fullmatch(text)
        if cast:
            inner = _strip(cast[1])
            if _LITERAL.fullmatch(inner):
                return False
            return self.nullable(inner, depth + 1)
        if text.startswith("count(") and _enclosed(_drop_filter(text)[5:]):
            return False  # also with FILTER (WHERE ...)
        if text.startswith("COALESCE(") and _enclosed(text[8:]):
            results = [self.nullable(arg, depth + 1) for arg in _arguments(text[9:-1])]
            return False if False in results else (True if all(results) else None)
        return None

    def _column(self, alias: str, column: str, depth: int) -> bool | None:
        found = self.scans.get(alias)
        if found is None:
            return None
        node, outer = found
        if outer:
            return True
        if "Relation Name" in node:
            known = self.catalog.by_name.get((node["Schema"], node["Relation Name"], column))
            return None if known is None else not known.not_null
        source: dict[str, Any] | None = None
        if node.get("Node Type") == "CTE Scan":
            source = self.ctes.get(node.get("CTE Name", ""))
        elif node.get("Node Type") == "Subquery Scan":
            source = next(
                (c for c in node.get("Plans", ()) if c.get("Parent Relationship") == "Subquery"),
                None,
            )
        if source is None:
            return None
        matches = [e for e in source.get("Output", ()) if _output_name(e) == column]
        return self.nullable(matches[0], depth + 1) if len(matches) == 1 else None

    def _unqualified(self, column: str, depth: int) -> bool | None:
        tables = [alias for alias, (node, _) in self.scans.items() if "Relation Name" in node]
        return self._column(tables[0], column, depth) if len(tables) == 1 else None

    def insert_targets(self) -> dict[int, list[TableColumn | None]]:
        """Parameter number -> the columns an INSERT stores it in unchanged."""
        targets: dict[int, list[TableColumn | None]] = {}
        internal: set[int] = set()  # PostgreSQL 15 shows an InitPlan's result as $n too
        for node in self._nodes(self.root):
            internal.update(int(n) for n in re.findall(r"\$(\d+)", node.get("Subplan Name", "")))
        for node in self._nodes(self.root):
            if node.get("Node Type") != "ModifyTable" or node.get("Operation") != "Insert":
                continue
            relid = self.catalog.tables.get((node["Schema"], node["Relation Name"]))
            source: dict[str, Any] = next(
                (c for c in node.get("Plans", ()) if c.get("Parent Relationship") == "Outer"), {}
            )
            for attnum, entry in enumerate(source.get("Output", ()), start=1):
                param = re.fullmatch(r"\$(\d+)", entry.strip())
                if param and relid is not None and int(param[1]) not in internal:
                    column = self.catalog.columns.get((relid, attnum))
                    targets.setdefault(int(param[1]), []).append(column)
        return targets

    def _nodes(self, node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", ()):
            yield from self._nodes(child)

    def one_row(self) -> bool:
        """Whether the statement always produces exactly one row."""
        return _one_row(self.root)


def _one_row(node: dict[str, Any]) -> bool:
    kind = node.get("Node Type")
    children = [c for c in node.get("Plans", ()) if c.get("Parent Relationship") == "Outer"]
    if "Filter" in node or "One-Time Filter" in node:
        return False
    if kind == "Aggregate":
        return node.get("Strategy") == "Plain"
    if kind == "Result":
        return not children
    if kind == "ModifyTable" and node.get("Operation") == "Insert":
        single = len(children) == 1 and children[0].get("Node Type") == "Result"
        conflict = node.get("Conflict Resolution")
        safe = conflict is None or (conflict == "UPDATE" and "Conflict Filter" not in node)
        return single and safe and _one_row(children[0])
    return False
