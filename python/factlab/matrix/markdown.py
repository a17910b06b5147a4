"""The pieces every matrix table is written with: its anchors, its numbered notes, its figures."""

from __future__ import annotations

from factlab._render import Table, anchored, ns, to_markdown

F25, X25 = "factorial(25)", "crossing(25)"
NOT_MEASURED = "not measured"
MARKS = {"ok": "ok", "unsupported": "unsupported", "failed": "**failed**"}


def section(anchor: str, table: Table) -> list[str]:
    """A table under its heading; the table and its notes between anchors (the chapter has its heading)."""
    heading, _blank, *body = to_markdown(table).splitlines()
    while body and not body[-1]:
        body.pop()
    return [heading, "", *anchored(anchor, body)]


def nanoseconds(value: float | None) -> str:
    return "" if value is None else ns(value * 1e-9)


def count(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:,.0f}"


def refer(notes: list[str], text: str) -> str:
    """`` [k]``: the number of ``text`` among the table's numbered notes (added to them if new)."""
    numbered = [n.split("] ", 1)[1] for n in notes if n.startswith("[")]
    if text not in numbered:
        numbered.append(text)
        notes.append(f"[{len(numbered)}] {text}")
    return f" [{numbered.index(text) + 1}]"


def figure(name: str, text: str) -> list[str]:
    """One figure for the book's sentences, between its anchors: ``{{#include figures.md:name}}``."""
    return anchored(name, [text])[:-1]
