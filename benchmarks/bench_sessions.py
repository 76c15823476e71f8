"""Load test: 10 planners at once on one server started as `make run` starts it.

Ten headless chromium sessions (one browser, ten contexts: ten Streamlit sessions) run at the same
time against one ``python -m ui.serve app.py`` on 127.0.0.1, each doing what a planner does: load
the map (until 300 street polygons are drawn), switch indicator and back (until the new legend
and polygons are drawn), upload its own one-home register on the Data tab, name its own scenario
and add a facility to it, download the scenario YAML and the gap list (tests/browser_sessions.py).
Every session's upload, scenario name and site differ; each download is checked to hold its own
session's data and no other's.  Reported: sessions completed, isolation problems, p50 / p95 / max
seconds per step and over all steps, and the server's peak resident memory (VmHWM).

Run: ``.venv/bin/python -m benchmarks.bench_sessions [SESSIONS]`` (chromium: make browser-deps).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from .common import write_results

REPO = Path(__file__).resolve().parents[1]


def main(sessions: int = 10) -> dict:
    sys.path.insert(0, str(REPO))
    from tests.browser_sessions import PeakMemory, run_sessions, summary
    from tests.browser_support import streamlit_server

    processes: list = []
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as work:
        with streamlit_server(REPO / "app.py", warm=True, processes=processes) as url:
            with PeakMemory(processes[0].pid) as memory:
                start = time.perf_counter()
                results = run_sessions(url, sessions, Path(work), stagger_s=0.5, timeout_s=420.0)
                wall = time.perf_counter() - start
    report = summary(results)
    report["wall_s"] = round(wall, 1)
    report["server_peak_rss_mb"] = round(memory.peak_kb / 1024)
    report["note"] = (
        "2-core machine shared with other work; one chromium with one context per "
        "session; sessions start 0.5 s apart"
    )
    path = write_results("sessions", report)
    print(report)
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
