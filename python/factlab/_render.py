"""How every factlab table and figure is written: one Table, rich in a terminal, Markdown in a file.

The bench, the matrix, ship and the book's figures all build :class:`Table`
rows with these number formatters, so a nanosecond reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

X = "\N{MULTIPLICATION SIGN}"
FAILED_CELLS = ("WRONG VALUE", "FAILED", "NOT MET")  # a row holding one is shown in red


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left: int = 1  # leading columns of names (left-aligned); figures are right-aligned

    def problem(self, label: str, row: dict[str, Any] | None) -> None:
        """A row without figures: why, then blanks."""
        self.rows.append([label, why(row), *[""] * (len(self.headers) - 2)])


def why(row: dict[str, Any] | None) -> str:
    """Why a row has no figure: skipped (and its note), failed or a wrong value."""
    if row is None:
        return "—"
    return {"wrong": "WRONG VALUE", "failed": "FAILED"}.get(row["status"], row.get("note", row["status"]))


def seconds(value: float | None) -> str:
    """A duration in the unit a reader takes in at once: 53.2 ns, 1.07 µs, 4.10 ms, 6.6 s."""
    if value is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def ns(mean: float, stdev: float | None = None) -> str:
    text = f"{mean * 1e9:,.0f}" if mean >= 1e-7 else f"{mean * 1e9:.3g}"
    return text + (f" ± {stdev * 1e9:.2g}" if stdev is not None else "")


def count(value: float | None) -> str:
    """Instructions per call, to the instruction: the figure is exact for a given build."""
    return "—" if value is None else f"{value:,.0f}"


def times(value: float | None) -> str:
    return "—" if value is None else (f"{value:,.0f}{X}" if value >= 100 else f"{value:.3g}{X}")


def to_rich(table: Table) -> Any:
    from rich.markup import escape
    from rich.table import Table as RichTable

    notes = escape("\n".join(table.notes))
    rt = RichTable(title=escape(table.title), title_justify="left", caption_justify="left", caption=notes)
    for i, header in enumerate(table.headers):
        rt.add_column(escape(header), justify="left" if i < table.left else "right", overflow="fold")
    for cells in table.rows:
        style = "bold red" if any(c in FAILED_CELLS for c in cells) else None
        rt.add_row(*map(escape, cells), style=style)
    return rt


def to_markdown(table: Table) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    aligns = [":---"] * table.left + ["---:"] * (len(table.headers) - table.left)
    out = [
        f"### {table.title}",
        "",
        line(table.headers),
        "|" + "|".join(aligns) + "|",
        *map(line, table.rows),
        "",
    ]
    return "\n".join(out + [f"- {note}" for note in table.notes] + [""])


def anchored(name: str, lines: list[str]) -> list[str]:
    """An mdBook anchor around ``lines``, for ``{{#include file.md:name}}``.

    mdBook's anchor names are letters, digits, ``_`` and ``-``: a dot goes
    (``pypy-3.9-cffi-api-f25`` is ``pypy-39-cffi-api-f25``).
    """
    name = name.replace(".", "")
    return [f"<!-- ANCHOR: {name} -->", *lines, f"<!-- ANCHOR_END: {name} -->", ""]


def code(text: str) -> str:
    """``text`` as inline code that a Markdown table cell can hold."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"
