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

The repository's paths (``just docs``, ``tests/test_check_links.py``): every path
written in backticks in the book, the READMEs, DEVELOPERS.md and the code's
comments and docstrings names a file or folder of the repository. A token
counts as a path when it holds a ``/`` and its first part names something
that exists: at the repository's root, in the folder of the file that writes
it or one above (src/lib.rs in crates/cpython/README.md), or in ``docs/src``
for the book. So a command, a URL, a crate feature (pyo3/abi3-py310) or
another project's file (Modules/mathmodule.c) is never taken for one.
Skipped: what builds and runs write (target/..., .venv/..., build/..., and
whatever git ignores, such as the generated docs/src/bench/figures.md) and
placeholders (<name>, NAME, an asterisk, {a,b}, three dots).

External links (``https:``, ...) are not fetched. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = HERE / "src"
BOOK = ROOT / "target" / "book"

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


# --- the repository's paths, written in backticks --------------------------------------

# Where paths are written: the prose (book, READMEs, DEVELOPERS.md, exercises) and the code's
# comments and docstrings: `#` in Python, Cython, TOML and the justfile, `//` and `/* */` in
# Rust and C, docstrings in Python and Cython.
PROSE = {".md"}
HASH = {".py", ".pyi", ".pyx", ".pxd", ".toml", "justfile"}
SLASH = {".rs", ".c", ".h"}
HASH_COMMENT = re.compile(r"#[^\n]*")
SLASH_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
TRIPLE_QUOTED = re.compile(r'"""(.*?)"""', re.DOTALL)
# `a/path` or ``a/path``: a backticked token without spaces.
TICKED = re.compile(r"(?<!`)(`{1,2})([^`\s]+)\1(?!`)")
PATHLIKE = re.compile(r"[\w.@+-]+(/[\w.@+-]+)*/?")
# Made by a build or a run, never committed: not checked.
BUILT = ("target/", ".venv/", "build/")
# Written placeholders: <name>, *, {a,b}, ..., and names in capitals (NAME, DIR, NAME.md).
PLACEHOLDER = re.compile(r"[<>*{}$]|\.\.\.|(^|/)[A-Z][A-Z0-9_]*(\.md)?(/|$)")


def repository_files(root: Path) -> list[Path]:
    """The files git tracks (untracked ones too, ignored ones not); every file without git."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, text=True, check=True,
        )  # fmt: skip
        names = done.stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", "target", ".venv", "build", "node_modules", "__pycache__"}
        names = [str(p.relative_to(root)) for p in root.rglob("*") if not skip & set(p.parts)]
    return sorted(root / name for name in names if (root / name).is_file())


def kind(page: Path) -> str:
    """How ``page`` writes words: "prose" (all of it), "hash" or "slash" comments, or "" (not read)."""
    key = page.suffix or page.name
    return "prose" if key in PROSE else "hash" if key in HASH else "slash" if key in SLASH else ""


def written(page: Path, text: str) -> list[tuple[int, str]]:
    """(line number, line) of what ``page`` says in words: a page of prose, or a code file's comments."""
    if kind(page) == "prose":
        return list(enumerate(text.splitlines(), 1))
    if page.suffix in (".py", ".pyi"):
        try:
            return python_words(text)
        except (SyntaxError, tokenize.TokenError):
            pass  # newer syntax than this interpreter's: its comments as any `#` file's
    patterns = [SLASH_COMMENT] if kind(page) == "slash" else [HASH_COMMENT, TRIPLE_QUOTED]
    lines = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            first = text.count("\n", 0, match.start()) + 1
            lines += [(first + i, line) for i, line in enumerate(match.group().splitlines())]
    return sorted(lines)


def python_words(text: str) -> list[tuple[int, str]]:
    """A Python file's comments (its tokens) and docstrings (its syntax tree), by line."""
    lines = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]
    source = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, documented) and ast.get_docstring(node, clean=False) is not None:
            doc = node.body[0]
            lines += [(n, source[n - 1]) for n in range(doc.lineno, (doc.end_lineno or doc.lineno) + 1)]
    return sorted(lines)


def ticked_paths(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(line number, token) for every backticked token that may be a path: it holds a ``/``."""
    for lineno, line in lines:
        for match in TICKED.finditer(line):
            token = match.group(2)
            if "/" in token and "://" not in token and not token.startswith(("/", "~", "-", "$")):
                yield lineno, token


def clean(token: str) -> tuple[str, str] | None:
    """(the path a token writes, the pytest test it names if any), or None: not a path.

    ``./`` is taken off, and so are an ``:anchor``, a ``#fragment`` and a pytest
    node id's ``::test_name`` (returned: the test must exist too).
    """
    token = token.removeprefix("./").rstrip(".,;)")
    token, _, test = token.partition("::")
    token = re.sub(r"(\.\w+)[:#][\w-]*$", r"\1", token)  # lib.rs:module, guide.md#part
    if not PATHLIKE.fullmatch(token) or token.startswith(BUILT) or PLACEHOLDER.search(token):
        return None
    return token, test


def bases(root: Path, page: Path) -> list[Path]:
    """Where a path written in ``page`` may start: the repository, ``page``'s folder and those above it."""
    folders = [root, *[p for p in page.parents if p == root or root in p.parents]]
    if SRC in page.parents:
        folders.append(SRC)
    return list(dict.fromkeys(folders))


def check_paths(root: Path, report: Report) -> int:
    """Check every repository path written in backticks; return how many there are."""
    count = 0
    for page in repository_files(root):
        if not kind(page):
            continue
        starts = bases(root, page)
        for lineno, token in ticked_paths(written(page, page.read_text(encoding="utf-8", errors="replace"))):
            path, test = clean(token) or ("", "")
            first = path.split("/", 1)[0]
            named = [base for base in starts if first and (base / first).exists()]
            if not named:
                continue  # not a path of this repository: a command, a URL, another project's file
            count += 1
            where = f"{page.relative_to(root)}:{lineno}"
            found = [base / path for base in named if (base / path).exists()]
            if not found and not any(ignored(base / path) for base in named):
                report.add(where, f"`{token}` names no file or folder of the repository")
            elif test and found and not any(defines(f, test) for f in found):
                report.add(where, f"`{token}`: {path} has no test {test}")
    return count


def defines(path: Path, test: str) -> bool:
    """Whether ``path`` defines the pytest node ``test`` (``test_x``, ``TestX::test_y``, ``test_x[id]``)."""
    name = re.split(r"::|\[", test)[0]
    text = path.read_text(encoding="utf-8")
    return re.search(rf"^\s*(def|class) {re.escape(name)}\b", text, re.MULTILINE) is not None


def ignored(path: Path) -> bool:
    """Whether git ignores ``path``: something a build or a run writes, never committed."""
    try:
        done = subprocess.run(["git", "check-ignore", "--quiet", str(path)], cwd=ROOT, capture_output=True)
    except OSError:
        return False
    return done.returncode == 0


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
    parser = argparse.ArgumentParser(
        description="Check the book's includes and internal links, and every repository path in backticks."
    )
    parser.add_argument(
        "book", nargs="?", type=Path, help="the built book (default: target/book, checked if it is built)"
    )
    parser.add_argument("--src", type=Path, default=SRC, help="the book's sources (docs/src)")
    args = parser.parse_args(argv)
    report = Report()
    book, src = (args.book or BOOK).resolve(), args.src.resolve()
    includes = check_sources(src, report)
    paths = check_paths(ROOT, report)
    pages = links = 0
    if (book / "index.html").is_file():
        pages, links = check_book(book, report)
    elif args.book is not None:
        report.add(book, "no index.html: build the book first (`just docs`)")
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"check_links: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    built = (
        f"{pages} pages, {links} internal links" if pages else "the book not built (`just docs` checks it)"
    )
    print(f"check_links: {includes} includes, {paths} repository paths, {built}: all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
