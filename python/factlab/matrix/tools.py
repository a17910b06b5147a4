"""The pinned tools in a venv, so that one tool's refusal costs only the backends that need it.

``requirements-matrix.txt`` is installed in one pip call. When pip refuses it (cffi 2.x on a
free-threaded 3.13: "CFFI does not support the free-threaded build of CPython 3.13"), each pin is
installed on its own, and each refusal is kept in pip's own words. Which backends a tool serves is
the registry's and the projects' own: a backend needs its ``tool`` and what its project's
``pyproject.toml`` lists in ``build-system.requires``. A refused tool that no backend needs (pytest,
pyperf: the harness) fails the whole interpreter, since no cell can be measured without it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import factlab
from factlab.matrix.workspace import root

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, from PyPI: `tomli; python_version < "3.11"` (requirements.txt)
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


@dataclass
class Tools:
    """What the venv's pinned tools came to: the refused ones, in pip's words."""

    refused: dict[str, str] = field(default_factory=dict)
    """Canonical tool name (``cffi``) -> pip's error when it was installed alone."""

    def blocking(self, backend: factlab.BackendSpec) -> str:
        """Why ``backend`` cannot be built or loaded here ("" when every tool it needs installed)."""
        refused = [tool for tool in sorted(needs(backend)) if tool in self.refused]
        return " / ".join(f"pip install {tool}: {self.refused[tool]}" for tool in refused)

    def harness(self) -> list[str]:
        """The refused tools that no backend needs: without them no cell can be measured."""
        needed = set().union(*(needs(s) for s in factlab.specs()))
        return [tool for tool in self.refused if tool not in needed]


@cache
def build_requires(project: str) -> frozenset[str]:
    """The canonical names a project's ``pyproject.toml`` lists in ``build-system.requires``."""
    path = root() / project / "pyproject.toml"
    if not path.is_file():
        return frozenset()
    with path.open("rb") as f:
        listed = tomllib.load(f).get("build-system", {}).get("requires", [])
    names = set()
    for line in listed:
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    return frozenset(names)


def needs(backend: factlab.BackendSpec) -> set[str]:
    """The tools a backend needs: its own (``cffi`` at run time) and its project's build back-end."""
    built_with = build_requires(backend.project) if backend.project else frozenset()
    return {canonicalize_name(backend.tool), *built_with}
