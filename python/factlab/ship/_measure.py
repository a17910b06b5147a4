"""The measurements of one ship run: ``python -m factlab.ship._measure RUN_DIR``.

It reads ``RUN_DIR/plan.json`` (the mode and the backends), builds in a work
directory inside the run (removed at the end), measures every backend and
writes ``RUN_DIR/rows.json``. Started by ``python -m factlab ship`` in a
process group of its own that dies with it, so that no cargo or pip build
outlives an interrupted run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from factlab._children import die_with_group
from factlab.ship.rows import Plan, measure


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(run_dir: Path) -> int:
    die_with_group()  # ship died or stopped us: our builds go too
    given = json.loads((run_dir / "plan.json").read_text())
    plan = Plan(given["mode"], given["backends"])
    with tempfile.TemporaryDirectory(prefix="work-", dir=run_dir) as work:
        measured = measure(plan, Path(work), say)
    (run_dir / "rows.json").write_text(json.dumps(measured, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(Path(sys.argv[1])))
    except KeyboardInterrupt:  # ship passes Ctrl-C on: stop without a traceback (it kills what is left)
        print("interrupted", file=sys.stderr, flush=True)
        sys.exit(1)
