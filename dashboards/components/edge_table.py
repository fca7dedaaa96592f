"""The edge table: a real HTML table with column headers, sortable by header buttons (aria-sort says how),
paged, and a button per row that opens the edge's side panel — the graph's content without the canvas.

Rows are kept light (one component per cell; the status colour is CSS on the cell, not an element):
Dash's renderer pays for every component on the page.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboards.components.a11y import aria
from dashboards.figures.table import COLUMNS, PAGE_ROWS, EdgeRow, page_rows
from dashboards.state import edge_key

SORT_BUTTON = "sort-column"
ROW_BUTTON = "edge-row"
PAGE_BUTTON = "table-page"


def _header(key: str, title: str, numeric: bool, sort_key: str, descending: bool) -> html.Th:
    active = key == sort_key
    direction = ("descending" if descending else "ascending") if active else "none"
    arrow = (" ▼" if descending else " ▲") if active else ""
    button = html.Button(title + arrow, id={"type": SORT_BUTTON, "key": key}, className="sort",
                         title=f"sort by {title.lower()}")  # fmt: skip
    return html.Th(button, scope="col", className="num" if numeric else None, **aria(sort=direction))


def _cell(column: str, numeric: bool, text: str, row: EdgeRow) -> html.Td:
    if column == "health":
        return html.Td(text, className=f"status st-{row.health.value}")
    if column == "source":
        key = edge_key(row.source, row.target)
        return html.Td(html.Button(text, id={"type": ROW_BUTTON, "edge": key}, className="link",
                                   title="show this edge's charts"))  # fmt: skip
    if column == "flags" and row.circuit_breaker:
        return html.Td(text, className="circuit-breaker", title="UO: circuit-breaker rejections")
    return html.Td(text, className="num" if numeric else None)


def _row(row: EdgeRow) -> html.Tr:
    cells = [_cell(column, numeric, text, row) for (column, _, numeric), text in zip(COLUMNS, row.cells(), strict=True)]
    return html.Tr(cells, className=row.health.value)


def _pager(page: int, pages: int) -> html.Nav:
    def button(label: str, to: int, enabled: bool) -> html.Button:
        return html.Button(label, id={"type": PAGE_BUTTON, "to": to}, disabled=not enabled, className="pager")

    return html.Nav([button("◀ previous", page - 1, page > 1), html.Span(f"page {page} of {pages}"),
                     button("next ▶", page + 1, page < pages)], className="pager", **aria(label="table pages"))


def edge_table(rows: list[EdgeRow], *, sort_key: str, descending: bool, total: int, page: int = 1) -> list[Any]:
    """One page of the table, with a caption that says what is shown (and what is not)."""
    shown, page, pages = page_rows(rows, page)
    caption = f"{len(rows)} of {total} edges" if len(rows) != total else f"{total} edges"
    if pages > 1:
        first = (page - 1) * PAGE_ROWS + 1
        caption += f"; rows {first}–{first + len(shown) - 1}"
    head = html.Thead(html.Tr([_header(k, t, n, sort_key, descending) for k, t, n in COLUMNS]))
    table = html.Table([html.Caption(caption), head, html.Tbody([_row(r) for r in shown])], className="edge-table")
    return [table, _pager(page, pages)] if pages > 1 else [table]
