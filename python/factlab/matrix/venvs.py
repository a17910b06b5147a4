"""One venv per interpreter, the pinned tools in it, every backend's project built there with pip,
and running Python code there for the JSON it prints.

Wheel and requirement names are read with ``packaging`` (what pip itself uses), never by hand: a
wheel's tags say whether it is the abi3 one, and ``requirements-matrix.txt``'s markers say which
pin of each tool an interpreter gets (the results record them).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

import factlab
from factlab._common import Ran, run, scrub
from factlab.matrix.discovery import ASK, Interpreter
from factlab.matrix.tools import Tools
from factlab.matrix.workspace import Progress, logs, out, root

REQUIREMENTS = "requirements-matrix.txt"


@dataclass
class Build:
    """What happened to one PEP 517 project on one interpreter."""

    ok: bool
    reason: str = ""
    wheel: Path | None = None


def child_env(interp: Interpreter | None = None, pythonpath: Path | None = None) -> dict[str, str]:
    """The environment of a child: the venv's tools first, nothing of the caller's venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if interp is not None:
        env["PATH"] = f"{interp.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(interp.venv)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def python_json(
    interp: Interpreter,
    args: list[str],
    log: Path,
    *,
    pythonpath: Path | None = None,
    timeout: float = 900,
) -> Any:
    """Run the venv's python with ``args``: the JSON it prints last, or ``{"error": ...}`` quoting why not
    (with ``"timed_out": True`` when it did not finish within ``timeout`` seconds)."""
    ran = run([interp.python, *args], cwd=root(), env=child_env(interp, pythonpath), timeout=timeout, log=log)
    lines = ran.out.strip().splitlines()
    if ran.ok and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    timed_out = ran.code == -1 and bool(lines) and lines[-1].startswith("timed out after")
    return {"error": ran.error() or f"exit {ran.code}", "timed_out": timed_out}


def factlab_project() -> Path:
    """The factlab package's own project (its pyproject.toml), installed editable in every venv."""
    return Path(factlab.__file__).resolve().parent.parent


def pinned_tools(interp: Interpreter, requirements: Path | None = None) -> dict[str, str]:
    """The tools ``requirements-matrix.txt`` pins for this interpreter: name -> version (markers applied)."""
    text = (requirements or root() / REQUIREMENTS).read_text(encoding="utf-8")
    environment = {
        "implementation_name": interp.implementation,
        "python_version": f"{interp.version[0]}.{interp.version[1]}",
        "python_full_version": interp.full_version,
    }
    tools: dict[str, str] = {}
    for line in text.splitlines():
        line = line.partition(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if req.marker is not None and not req.marker.evaluate(environment):
            continue
        if name in tools:  # two pins for one interpreter: pip would refuse the file
            raise ValueError(f"{REQUIREMENTS} pins {name} twice for {interp.id}")
        pins = [s.version for s in req.specifier if s.operator == "=="]
        tools[name] = pins[0] if pins else str(req.specifier)
    return tools


def wheel_tags(wheel: Path) -> str:
    """A wheel's tags as its name writes them: ``cp310-abi3-linux_x86_64``."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    fields = (sorted({getattr(tag, field) for tag in tags}) for field in ("interpreter", "abi", "platform"))
    return "-".join(".".join(values) for values in fields)


def is_abi3(wheel: Path) -> bool:
    """Whether a wheel is tagged for the stable ABI (one wheel for this CPython and every later one)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return any(t.abi == "abi3" for t in tags)


@dataclass
class Ready:
    """A venv made for one interpreter: why it cannot serve at all, or the tools pip refused there."""

    problem: str = ""
    """Why no cell can be measured here ("" when the venv is ready)."""
    tools: Tools = field(default_factory=Tools)


def prepare_venv(interp: Interpreter, say: Progress) -> Ready:
    """Make (or reuse) the venv and install the pinned tools and factlab."""
    where = logs(interp.id)
    if interp.python.exists():
        ran = run([interp.python, "-c", ASK], log=where / "venv-check.log")
        if not ran.ok or interp.full_version not in ran.out:
            shutil.rmtree(interp.venv)
    if not interp.python.exists():
        say(interp.id, f"virtualenv {interp.venv.relative_to(root())}")
        ran = run([interp.path, "-m", "venv", interp.venv], env=child_env(), log=where / "venv.log")
        if not ran.ok:
            return Ready(f"`python -m venv` failed: {ran.error()}")
    tools = install_tools(interp, say)
    if tools.harness():
        refused = " / ".join(f"{tool}: {tools.refused[tool]}" for tool in tools.harness())
        return Ready(f"the pinned tools every cell needs do not install: {refused}", tools)
    pip: list[str | Path] = [interp.python, "-m", "pip", "install", "--quiet"]
    editable: list[str | Path] = ["--no-deps", "--no-build-isolation", "--editable", factlab_project()]
    ran = pip_run([*pip, *editable], interp, where / "factlab.log")
    if not ran.ok:
        return Ready(f"the factlab package does not install: {ran.error()}", tools)
    return Ready("", tools)


def install_tools(interp: Interpreter, say: Progress) -> Tools:
    """The pinned tools in one pip call; if pip refuses, each pin alone, each refusal in pip's words."""
    where, requirements = logs(interp.id), root() / REQUIREMENTS
    say(interp.id, f"pip install -r {REQUIREMENTS} and factlab")
    pip: list[str | Path] = [interp.python, "-m", "pip", "install", "--quiet"]
    ran = pip_run([*pip, "-r", requirements], interp, where / "requirements.log")
    if ran.ok:
        return Tools()
    say(interp.id, f"pip refused the pins together ({ran.error(100)}): one tool at a time")
    tools = Tools()
    for name, version in pinned_tools(interp, requirements).items():
        pin = f"{name}=={version}" if version[:1].isdigit() else f"{name}{version}"
        ran = pip_run([*pip, pin], interp, where / f"requirements-{name}.log")
        if not ran.ok:
            tools.refused[name] = scrub(ran.error())
            say(interp.id, f"  {pin}: REFUSED ({tools.refused[name][:100]})")
    return tools


def pip_run(cmd: list[str | Path], interp: Interpreter, log: Path, env: dict[str, str] | None = None) -> Ran:
    """A pip command in the venv, from the repository (the projects' paths are relative to it)."""
    return run(cmd, cwd=root(), env={**child_env(interp), **(env or {})}, timeout=1800, log=log)


def build_wheel(
    interp: Interpreter,
    project: str,
    dest: Path,
    log: Path,
    *,
    options: list[str] | tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Build:
    """``pip wheel`` one project with the venv's pinned tools; the wheel or the build's error."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # --ignore-requires-python: the matrix asks the binding tool itself whether
    # it builds for this interpreter; its own error is the cell's reason.
    cmd: list[str | Path] = [interp.python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    ran = pip_run([*cmd, "--ignore-requires-python", "-w", dest, *options, project], interp, log, env)
    wheels = sorted(dest.glob("*.whl"))
    if not ran.ok or not wheels:
        return Build(False, ran.error())
    try:
        parse_wheel_filename(wheels[0].name)
    except InvalidWheelFilename as exc:
        return Build(False, f"pip wheel made {wheels[0].name}, not a valid wheel name: {exc}")
    return Build(True, wheel=wheels[0])


def install(interp: Interpreter, wheels: list[Path], log: Path, target: Path | None = None) -> Ran:
    """Install built wheels in the venv (or, with ``target``, into a folder to put first on sys.path)."""
    cmd: list[str | Path] = [interp.python, "-m", "pip", "install", "--no-deps", "--force-reinstall"]
    cmd += ["--quiet", "--ignore-requires-python"]
    if target is not None:
        if target.exists():
            shutil.rmtree(target)
        cmd += ["--target", target]
    return pip_run([*cmd, *wheels], interp, log)


def build_clib(interps: list[Interpreter], ready: dict[str, Ready], say: Progress) -> Path | None:
    """The C ABI library's wheel, built once with the first ready venv (no Python in it: py3-none)."""
    usable = [i for i in interps if not ready[i.id].problem]
    builder = min(usable, key=lambda i: bool(ready[i.id].tools.refused), default=None)  # no refusal first
    if builder is None:
        return None
    clib = factlab.CLIB.project
    say("C ABI", f"pip wheel {clib} with {builder.id} (one wheel for every interpreter)")
    built = build_wheel(builder, clib, out() / "wheels" / "clib", logs("clib") / "build.log")
    if not built.ok:
        say("C ABI", f"FAILED: {built.reason}")
    return built.wheel if built.ok else None


def build_all(
    interp: Interpreter, clib_wheel: Path | None, say: Progress, skip: dict[str, str] | None = None
) -> dict[str, Build]:
    """Every project built and installed in the interpreter's venv: project -> Build.

    ``skip``: project -> why it is not built (a tool its build needs was refused here).
    """
    where = logs(interp.id)
    skip = skip or {}
    projects = [p for p in factlab.build_projects() if p not in skip]
    if clib_wheel is None:
        why = f"the C ABI library ({factlab.CLIB.project}) did not build"
        return {p: Build(False, skip.get(p, why)) for p in factlab.build_projects()}
    ran = install(interp, [clib_wheel], where / "clib-install.log")
    if not ran.ok:
        why = f"the C ABI library does not install: {ran.error()}"
        return {p: Build(False, skip.get(p, why)) for p in factlab.build_projects()}
    results: dict[str, Build] = {}
    for project in projects:
        say(interp.id, f"pip wheel {project}")
        name = Path(project).name
        built = build_wheel(interp, project, out() / "wheels" / interp.id / name, where / f"build-{name}.log")
        if built.ok and built.wheel is not None:
            ran = install(interp, [built.wheel], where / f"install-{name}.log")
            if not ran.ok:
                built = Build(False, f"built, but does not install: {ran.error()}")
        if not built.ok:
            say(interp.id, f"  {project}: FAILED ({built.reason[:100]})")
        results[project] = built
    return results | {project: Build(False, why) for project, why in skip.items()}
