"""The longer fuzzing run: every OpenAPI operation, many more generated requests each.

    python scripts/fuzz.py --examples 200            # fresh randomness each run
    python scripts/fuzz.py --examples 200 --seed 42  # repeat a run
    python scripts/fuzz.py --examples 15 --derandomize   # exactly what the test suite runs

It runs tests/e2e/test_fuzz_openapi.py (a real server on a temporary database, signed in
as a real user; no 5xx, answers match the documented schemas) with ``FUZZ_EXAMPLES``
set, and prints how many requests were generated for how many operations. Extra
arguments after ``--`` go to pytest (for example ``-- -k messages``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/e2e/test_fuzz_openapi.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--examples", type=int, default=200, help="generated requests per operation (max_examples)"
    )
    parser.add_argument("--seed", type=int, help="hypothesis seed, to repeat a run")
    parser.add_argument("--derandomize", action="store_true", help="the fixed examples the test suite uses")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    env = os.environ | {"FUZZ_EXAMPLES": str(args.examples), "FUZZ_RANDOM": "" if args.derandomize else "1"}
    command = [sys.executable, "-m", "pytest", TEST, "-q", "-s", "-p", "no:cacheprovider", *args.pytest_args]
    if args.seed is not None:
        command.append(f"--hypothesis-seed={args.seed}")
    print("$", " ".join(command), f"(FUZZ_EXAMPLES={args.examples})", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
