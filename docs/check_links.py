"""Check the workshop book: every include resolves, every internal link lands.

``just docs`` runs it after ``mdbook build``. mdBook itself only warns about
a missing include file, and says nothing at all about an ``{{#include}}`` of
an anchor that is gone (a renamed function, a deleted ANCHOR comment): the
chapter then shows an empty code block. So this script checks two things.

The sources (``docs/src/**/*.md``):

- every ``{{#include path}}`` / ``{{#include path:anchor}}`` names a file that
  exists, and the anchor has both its ``ANCHOR:`` and ``ANCHOR_END:`` lines
  around at least one line of content;
- a whole-file include names a file without ANCHOR lines (mdBook would show
  them), and no include uses line numbers (they go stale silently).

The built book (``target/book/**/*.html``):

- every relative ``href``/``src`` points to a file of the book, and every
  ``#fragment`` to an ``id`` on the page it names;
- no code block is empty, no ``{{#include`` was left unexpanded, and no
  ANCHOR comment leaked into a code block.

External links (``https:``, ...) are not fetched. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
BOOK = HERE.parent / "target" / "book"

# {{#include path}} or {{#include path:anchor}}; a backslash before it escapes it.
INCLUDE = re.compile(r"(?<!\\)\{\{#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
ANCHOR_LINE = re.compile(r"ANCHOR(?:_END)?:\s*[\w-]+")
SKIP_PAGES = {"404.html"}  # mdBook's 404 page resolves links from the site root


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    def add(self, where: Path | str, text: str) -> None:
        self.problems.append(f"{where}: {text}")


def anchored_lines(text: str, anchor: str) -> list[str] | None:
    """The lines between ``ANCHOR: anchor`` and ``ANCHOR_END: anchor`` (None: no such pair)."""
    start = re.compile(rf"ANCHOR:\s*{re.escape(anchor)}\b(?![\w-])")
    end = re.compile(rf"ANCHOR_END:\s*{re.escape(anchor)}\b(?![\w-])")
    inside: list[str] | None = None
    for line in text.splitlines():
        if inside is None:
            if start.search(line):
                inside = []
        elif end.search(line):
            return [ln for ln in inside if not ANCHOR_LINE.search(ln)]
        else:
            inside.append(line)
    return None


def check_sources(src: Path, report: Report) -> int:
    """Check every include directive of the chapters; return how many there are."""
    count = 0
    for page in sorted(src.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            for match in INCLUDE.finditer(line):
                count += 1
                where = f"{page.relative_to(src.parent)}:{lineno}"
                target, _, selector = match.group(2).partition(":")
                path = (page.parent / target).resolve()
                if not path.is_file():
                    report.add(where, f"includes {target}, which does not exist")
                    continue
                content = path.read_text(encoding="utf-8")
                if not selector:
                    if ANCHOR_LINE.search(content):
                        report.add(where, f"includes all of {target}, ANCHOR lines and all: name an anchor")
                elif re.fullmatch(r"[\d:]*", selector):
                    report.add(where, f"includes {target} by line numbers ({selector}): use an anchor")
                else:
                    lines = anchored_lines(content, selector)
                    if lines is None:
                        report.add(where, f"anchor {selector!r} not found in {target} (ANCHOR/ANCHOR_END)")
                    elif not any(ln.strip() for ln in lines):
                        report.add(where, f"anchor {selector!r} of {target} is empty")
    return count


class Page(HTMLParser):
    """The ids, links and code blocks of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.code_blocks: list[str] = []
        self.text: list[str] = []
        self._in_pre = 0
        self._code: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        for attr in ("href", "src"):
            if attr in values and tag in ("a", "img", "link", "script", "iframe", "source"):
                self.links.append(values[attr])
        if tag == "pre":
            self._in_pre += 1
        elif tag == "code" and self._in_pre:
            self._code = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._code is not None:
            self.code_blocks.append("".join(self._code))
            self._code = None
        elif tag == "pre" and self._in_pre:
            self._in_pre -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._code is not None:
            self._code.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_book(book: Path, report: Report) -> tuple[int, int]:
    """Check every page of the built book; return (pages, internal links) checked."""
    pages = {p: parse(p) for p in sorted(book.rglob("*.html")) if p.name not in SKIP_PAGES}
    links = 0
    for path, page in pages.items():
        where = path.relative_to(book)
        if "{{#" in "".join(page.text):
            report.add(where, "an mdBook directive was left unexpanded ({{#...}} in the page)")
        for code in page.code_blocks:
            if not code.strip():
                report.add(where, "an empty code block (an include of a missing anchor?)")
            elif ANCHOR_LINE.search(code):
                report.add(where, "an ANCHOR comment shows in a code block (a whole-file include?)")
        for link in page.links:
            url = urlsplit(link)
            if url.scheme or url.netloc or link.startswith(("mailto:", "javascript:")):
                continue  # external: not fetched
            links += 1
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                report.add(where, f"dead link {link!r}")
                continue
            if url.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(url.fragment) not in ids:
                    report.add(where, f"link {link!r}: no id {url.fragment!r} on {target.relative_to(book)}")
    return len(pages), links


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the book's includes and internal links.")
    parser.add_argument("book", nargs="?", type=Path, default=BOOK, help="the built book (target/book)")
    parser.add_argument("--src", type=Path, default=SRC, help="the book's sources (docs/src)")
    args = parser.parse_args(argv)
    report = Report()
    book, src = args.book.resolve(), args.src.resolve()
    includes = check_sources(src, report)
    if not (book / "index.html").is_file():
        report.add(book, "no index.html: build the book first (`just docs`)")
        pages = links = 0
    else:
        pages, links = check_book(book, report)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"check_links: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_links: {includes} includes, {pages} pages, {links} internal links: all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
