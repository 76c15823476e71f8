"""``python -m scripts.build_national`` (repo root)."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a folder: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.build_national.build import main
else:
    from .build import main

raise SystemExit(main())
