"""`python __main__.py` runs the server, as the specification's README says."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entrypoints.cli import main

raise SystemExit(main(sys.argv[1:] or ["serve"]))
