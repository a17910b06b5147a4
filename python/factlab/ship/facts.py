"""What ship measures about one backend besides its builds: what ships, what it needs, imports, lines.

- **what ships**: the installed artifact ``just setup`` built, in bytes as built
  and stripped (``strip`` into a temporary file);
- **what the machine needs**: to build (the project's ``build-system.requires``,
  read with ``tomllib`` and ``packaging``, a Rust toolchain, a C compiler) and
  to run (``ldd``, and the Python distributions that importing it loads);
- **import**: a fresh interpreter per run, the median of the runs, of the
  module alone and of ``factlab.load(name)``, and the first call;
- **binding lines**: the registry's ``sources`` of the backend, each line
  classified by pygments' lexer for its language: code, comment (docstrings
  included) or blank.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from factlab import CLIB, BackendSpec
from factlab._common import CommandError, run

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, from PyPI: `tomli; python_version < "3.11"`
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


def is_elf(path: Path) -> bool:
    """A shared object or a static archive (of ELF objects), which ``strip`` can reduce."""
    with path.open("rb") as f:
        head = f.read(8)
    return head.startswith(b"\x7fELF") or head == b"!<arch>\n"


def stripped_bytes(path: Path, *flags: str) -> int | None:
    """The size ``strip`` leaves (into a temporary file); None for a file that is not ELF."""
    if not is_elf(path) or shutil.which("strip") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        run(["strip", *flags, "-o", out, path]).check(f"strip {path.name}")
        return out.stat().st_size


def ldd(path: Path) -> list[str]:
    """The shared libraries the dynamic loader maps for ``path`` (the loader and the vDSO left out)."""
    if not is_elf(path) or path.suffix == ".a" or shutil.which("ldd") is None:
        return []
    names = [line.split()[0] for line in run(["ldd", path]).out.splitlines() if line.strip()]
    return [n for n in names if not n.startswith(("linux-vdso", "/")) and "ld-linux" not in n]


def clib_paths() -> tuple[Path, Path]:
    """The installed C ABI library: (the shared library, the static archive)."""
    package = importlib.import_module(CLIB.module)
    return CLIB.library_path(), Path(package.static_library())


def artifact(s: BackendSpec) -> Path | None:
    """The installed file a backend's calls go through: its compiled module, else the library it opens."""
    if s.extension:
        found = importlib.util.find_spec(s.extension)
        origin = Path(found.origin) if found and found.origin else None
        if origin is not None and origin.name == "__init__.py":  # a package around the compiled module
            native = sorted(p for p in origin.parent.iterdir() if p.suffix in (".so", ".pyd", ".dylib"))
            origin = native[0] if native else origin
        return origin
    if s.clib == "dlopen":
        return CLIB.library_path()
    found = importlib.util.find_spec(s.module)
    return Path(found.origin) if found and found.origin else None


def pyproject(root: Path, project: str) -> dict[str, Any]:
    with (root / project / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def needs_build(root: Path, s: BackendSpec, art: Path | None) -> list[str]:
    """What building it from source takes: its projects' build requirements, Rust, a C compiler."""
    projects = [p for p in (s.project, CLIB.project if s.clib != "none" else None) if p]
    needs = [
        Requirement(r).name
        for p in projects
        for r in pyproject(root, p).get("build-system", {}).get("requires", [])
    ]
    if any((root / p / "Cargo.toml").is_file() for p in projects):
        needs.append("Rust (cargo)")
    if s.project and not (root / s.project / "Cargo.toml").is_file() and art and is_elf(art):
        needs.append("a C compiler")
    return list(dict.fromkeys(needs))


_PROBE = r"""
import importlib, json, sys, time
name, module = sys.argv[1], sys.argv[2]
before = set(sys.modules)
t0 = time.perf_counter()
if name:
    import factlab
    f = factlab.load(name).factorial
else:
    importlib.import_module(module)
t1 = time.perf_counter()
first = None
if name:
    t2 = time.perf_counter()
    f(25)
    first = time.perf_counter() - t2
new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(json.dumps({"import": t1 - t0, "first": first, "modules": new}))
"""


def _probe(name: str, module: str) -> dict[str, Any]:
    done = run([sys.executable, "-c", _PROBE, name, module])
    if not done.ok:
        raise CommandError(f"importing {name or module} failed: {done.error()}")
    last = [line for line in done.out.splitlines() if line.startswith("{")][-1]  # stderr comes along
    return json.loads(last)  # type: ignore[no-any-return]


def imports(s: BackendSpec, runs: int) -> dict[str, Any]:
    """Median import times (fresh interpreters, ``runs`` each), the first call, what the import loads."""
    module = s.extension or s.module
    alone = [_probe("", module)["import"] for _ in range(runs)]
    loads = [_probe(s.name, s.module) for _ in range(runs)]
    return {
        "import_module": module,
        "import_module_ms": statistics.median(alone) * 1e3,
        "import_ms": statistics.median(x["import"] for x in loads) * 1e3,
        "first_call_us": statistics.median(x["first"] for x in loads) * 1e6,
        "import_runs": runs,
        "modules": loads[0]["modules"],
    }


def needs_run(root: Path, s: BackendSpec, art: Path | None, modules: list[str]) -> list[str]:
    """The Python distributions importing it loads (not factlab and not its own), then ``ldd``'s libraries."""
    from importlib import metadata

    owners = metadata.packages_distributions()
    own = {"factlab"} | (
        {canonicalize_name(pyproject(root, s.project)["project"]["name"])} if s.project else set()
    )
    dists = {d for m in modules if m not in sys.stdlib_module_names for d in owners.get(m, [])}
    python = sorted(d for d in dists if canonicalize_name(d) not in own)
    return python + (ldd(art) if art else [])


def count_lines(path: Path) -> dict[str, int]:
    """Code, comment and blank lines of one file, by pygments' lexer for it (docstrings are comments)."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.token import Comment, String, Text, Whitespace

    text = path.read_text(encoding="utf-8")
    lexer = get_lexer_for_filename(path.name, stripnl=False, ensurenl=False)
    kinds: dict[int, set[str]] = {}
    line = 1
    for token, value in lexer.get_tokens(text):
        for i, part in enumerate(value.split("\n")):
            if part.strip():
                quiet = token in Comment or token in String.Doc
                kinds.setdefault(line + i, set()).add(
                    "comment" if quiet else "space" if token in Text or token in Whitespace else "code"
                )
        line += value.count("\n")
    counts = {"code": 0, "comment": 0, "blank": 0}
    for n in range(1, len(text.splitlines()) + 1):
        seen = kinds.get(n, set()) - {"space"}
        counts["code" if "code" in seen else "comment" if seen else "blank"] += 1
    return counts


def binding_lines(root: Path, s: BackendSpec) -> dict[str, int]:
    total = {"code": 0, "comment": 0, "blank": 0, "files": len(s.sources)}
    for source in s.sources:
        for k, v in count_lines(root / source).items():
            total[k] += v
    return total
