"""Build a free-threaded CPython 3.13 (3.13t) from Debian's source package, once, into a cache.

    python3 python/tools/python_ft.py [--cache DIR] [--check]   (or: just python-ft)

No free-threaded interpreter is packaged for this machine, and nothing but the
package registries can be reached, so the interpreter is built here:

1. apt fetches the pinned ``python3.13`` source package (``apt-get source
   --download-only``) with a sources list of its own, in the cache: the
   archive's address is read from this machine's apt sources, never written
   in the repository. Its ``.orig.tar.xz`` is CPython's own release tarball;
   its SHA-256 is checked against the pin below.
2. ``./configure --disable-gil && make && make install`` into the cache
   (``~/.cache/factlab/python-ft/<version>``, or ``--cache``/``FACTLAB_CACHE``);
   about 7-8 minutes on 2 cores, ~300 MB. A build whose interpreter answers
   (the pinned version, the GIL disabled) is reused.

It prints the interpreter's path last: ``just matrix --python "$(just python-ft)"``.
Standard library only: it runs on the outer ``python3``, before any venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

PACKAGE = "python3.13"
VERSION = "3.13.15-1"  # Debian's sid source index; its orig tarball is CPython 3.13.15's
UPSTREAM = VERSION.split("-")[0]
ORIG_SHA256 = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"
SUITES = "trixie sid"  # where the source indexes hold python3.13 (sid holds the pinned version)
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Headers the interpreter's modules need to build: ctypes (libffi), pip (zlib, ssl).
HEADERS = {"ffi.h": "libffi-dev", "zlib.h": "zlib1g-dev", "openssl/ssl.h": "libssl-dev"}
TOOLS = {"apt-get": "apt", "cc": "build-essential", "make": "build-essential"}


class Refused(SystemExit):
    """Something this machine lacks: one message, with the command that fixes it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"python-ft: {message}")


def say(message: str) -> None:
    print(f"python-ft: {message}", file=sys.stderr, flush=True)


def interpreter(cache: Path) -> Path:
    return cache / "prefix" / "bin" / "python3.13t"


def answers(python: Path) -> bool:
    """The cached build is the pinned version with the GIL disabled."""
    if not python.exists():
        return False
    ask = "import sys, sysconfig; print(sys.version.split()[0], sysconfig.get_config_var('Py_GIL_DISABLED'))"
    done = subprocess.run([python, "-c", ask], capture_output=True, text=True, check=False)
    return done.returncode == 0 and done.stdout.split() == [UPSTREAM, "1"]


def missing_prerequisites() -> list[str]:
    """The Debian packages to install before building (empty: ready)."""
    needed = [pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    if shutil.which("cc"):
        for header, pkg in HEADERS.items():
            probe = subprocess.run(
                ["cc", "-E", "-x", "c", "-"], input=f"#include <{header}>\n", text=True,
                capture_output=True, check=False,
            )  # fmt: skip
            if probe.returncode != 0:
                needed.append(pkg)
    if not KEYRING.exists():
        needed.append("debian-archive-keyring")
    return list(dict.fromkeys(needed))


def archive_uri() -> str:
    """The Debian archive this machine's apt uses (deb822 ``.sources`` or one-line ``.list`` files)."""
    etc = Path("/etc/apt")
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in sorted((etc / "sources.list.d").glob("*.sources")) + files:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1:
                uri = words[1]
            elif line.startswith("deb ") and len(words) > 2:
                uri = next(w for w in words[1:] if not w.startswith("["))
            else:
                continue
            if uri.rstrip("/").endswith("/debian"):  # the main archive, not -security or a vendor's
                return uri
    raise Refused("no Debian archive in this machine's apt sources (/etc/apt/sources.list.d)")


def apt(cache: Path, *args: str) -> None:
    """apt-get with a sources list, package lists and cache of its own, inside ``cache``."""
    own = cache / "apt"
    for sub in ("parts", "lists/partial", "archives/partial"):
        (own / sub).mkdir(parents=True, exist_ok=True)
    (own / "none.list").touch()
    (own / "parts" / "factlab-src.sources").write_text(
        f"Types: deb-src\nURIs: {archive_uri()}\nSuites: {SUITES}\nComponents: main\nSigned-By: {KEYRING}\n",
        encoding="utf-8",
    )
    options = [
        f"-oDir::Etc::SourceList={own / 'none.list'}",
        f"-oDir::Etc::SourceParts={own / 'parts'}",
        f"-oDir::State::Lists={own / 'lists'}",
        f"-oDir::Cache={own}",
    ]
    done = subprocess.run(["apt-get", "-q", *options, *args], cwd=cache, capture_output=True, text=True)
    if done.returncode != 0:
        raise Refused(f"apt-get {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")


def fetch_source(cache: Path) -> Path:
    """The checked orig tarball (CPython's release), fetched once."""
    tarball = cache / f"{PACKAGE}_{UPSTREAM}.orig.tar.xz"
    if not tarball.exists():
        say(f"apt-get source --download-only {PACKAGE}={VERSION} (sources list of its own)")
        apt(cache, "update")
        apt(cache, "source", "--download-only", f"{PACKAGE}={VERSION}")
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != ORIG_SHA256:
        tarball.unlink()
        raise Refused(f"{tarball.name}: SHA-256 {digest}, expected {ORIG_SHA256} (removed; run again)")
    return tarball


def build(cache: Path, tarball: Path) -> Path:
    """configure --disable-gil, make, make install into the cache; the build's log is kept there."""
    work = cache / "build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(work, filter="data")
    source = next(work.iterdir())
    log = cache / "build.log"
    steps = [
        ["./configure", "--disable-gil", f"--prefix={cache / 'prefix'}", "--with-ensurepip=install"],
        ["make", f"-j{os.cpu_count() or 2}"],
        ["make", "install"],
    ]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        for step in steps:
            say(f"{' '.join(step[:2])} ... ({(time.monotonic() - started) / 60:.1f} min so far; log: {log})")
            if subprocess.run(step, cwd=source, stdout=out, stderr=subprocess.STDOUT, check=False).returncode:
                raise Refused(f"`{' '.join(step)}` failed: the end of {log} says why")
    shutil.rmtree(work)  # the sources are 500 MB once built; the tarball stays for a rebuild
    say(f"built in {(time.monotonic() - started) / 60:.1f} min, {disk_mb(cache / 'prefix'):.0f} MB installed")
    return interpreter(cache)


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # An empty FACTLAB_CACHE is unset (not the current folder): the matrix reads it the same way.
    default = Path(os.environ.get("FACTLAB_CACHE") or Path.home() / ".cache" / "factlab") / "python-ft"
    parser.add_argument(
        "--cache", type=Path, default=default, help="where the build goes (outside the clone)"
    )
    parser.add_argument("--check", action="store_true", help="only say whether this machine can build it")
    args = parser.parse_args(argv)
    cache = args.cache.expanduser().resolve() / VERSION
    python = interpreter(cache)
    if answers(python):
        print(python)
        return 0
    needed = missing_prerequisites()
    if needed:
        raise Refused(f"missing {', '.join(needed)}: apt-get update && apt-get install -y {' '.join(needed)}")
    if args.check:
        say(f"ready to build CPython {UPSTREAM} with --disable-gil into {cache}")
        return 0
    cache.mkdir(parents=True, exist_ok=True)
    python = build(cache, fetch_source(cache))
    if not answers(python):
        raise Refused(f"{python} does not answer as CPython {UPSTREAM} with the GIL disabled")
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
