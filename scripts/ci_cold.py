#!/usr/bin/env python3
"""Times a cold CI run: `.ci/run` on a fresh clone of HEAD, with an empty
build cache (no CARGO_TARGET_DIR reused, a fresh node_modules and venv), as
a new user or a clean CI machine would run it. Writes bench/ci-cold.json
({seconds, date, commit, passed}); `make bench` reports it.

Downloaded crates, npm and pip packages stay in their usual caches: the
machine has no internet but the package registries, and downloading is not
building."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="atrest-ci-cold-"))
    try:
        clone = work / "atrest"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = dict(os.environ)
        env.pop("CARGO_TARGET_DIR", None)
        # `make ci-cold` exports the test binary's path of this checkout: the
        # clone's make test must find its own.
        env.pop("ATREST_BIN", None)
        # An empty cache directory: .ci/run finds no target to reuse.
        env["ATREST_CACHE_DIR"] = str(work / "no-cache")
        env["CI"] = "true"
        started = time.monotonic()
        run = subprocess.run([str(clone / ".ci" / "run")], cwd=clone, env=env)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "seconds": round(seconds),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "commit": commit,
        "passed": run.returncode == 0,
    }
    (ROOT / "bench" / "ci-cold.json").write_text(json.dumps(record) + "\n")
    print(f"ci-cold: {'passed' if record['passed'] else 'FAILED'} in {seconds / 60:.1f} min")
    sys.exit(run.returncode)


if __name__ == "__main__":
    main()
