"""docs/check_links.py: every repository path written in backticks names a real file.

The book's includes and links are checked by ``just docs`` on the built book;
here, the part that needs no build: the paths the prose and the code's
comments write, over the whole repository, and the rules that decide what
counts as one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))  # docs/check_links.py: a script, imported as a module here
import check_links  # noqa: E402


def test_every_path_in_backticks_exists() -> None:
    report = check_links.Report()
    count = check_links.check_paths(ROOT, report)
    assert count > 100, count  # not vacuous
    assert report.problems == []


def test_what_counts_as_a_path(tmp_path: Path) -> None:
    (tmp_path / "crates" / "x" / "src").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_here():\n    pass\n")
    (tmp_path / "crates" / "x" / "README.md").write_text(
        "Checked: `crates/x/src/lib.rs`, ``crates/x/src/lib.rs:anchor``, `src/lib.rs` (from here),\n"
        "`tests/test_a.py::test_here`, `crates/x/`.\n"
        "Broken: `crates/y/lib.rs`, `tests/test_a.py::test_gone`.\n"
        "Not paths of this repository: `target/release/x`, `.venv/bin/python`, `crates/<name>/x.rs`,\n"
        "`crates/NAME/`, `docs/*.md`, `Modules/mathmodule.c`, `pyo3/abi3-py310`, `https://a.b/c`,\n"
        "`just test-backend cffi-api`, `n/2`.\n"
    )
    # In code, the comments and docstrings are read, not the strings.
    (tmp_path / "tool.py").write_text(
        '"""Its docstring: `crates/x/gone.rs`."""\n\n'
        "# A comment: `crates/x/lost.rs`.\n"
        'MESSAGE = "a string: `crates/x/fine.rs`"\n'
    )
    (tmp_path / "crates" / "x" / "src" / "lib.rs").write_text("//! `crates/x/src/main.rs`\nfn f() {}\n")
    report = check_links.Report()
    count = check_links.check_paths(tmp_path, report)
    assert report.problems == [
        "crates/x/README.md:3: `crates/y/lib.rs` names no file or folder of the repository",
        "crates/x/README.md:3: `tests/test_a.py::test_gone`: tests/test_a.py has no test test_gone",
        "crates/x/src/lib.rs:1: `crates/x/src/main.rs` names no file or folder of the repository",
        "tool.py:1: `crates/x/gone.rs` names no file or folder of the repository",
        "tool.py:3: `crates/x/lost.rs` names no file or folder of the repository",
    ]
    assert count == 10
