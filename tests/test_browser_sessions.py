"""Three planners at once on one server started as `make run` starts it, in headless chromium:
each loads the map, switches indicators, uploads its own register, adds a facility to its own
scenario and downloads the scenario and the gap list; all complete, and each download holds its
own session's data and nothing of the others' (tests/browser_sessions.py).  The 10-session load
test with timings and the server's peak memory is benchmarks/bench_sessions.py."""

from __future__ import annotations

import pytest

from .browser_sessions import PeakMemory, run_sessions, summary
from .browser_support import ARTIFACTS, REPO, chromium_browser, streamlit_server

# Out of `make test` for now: with three sessions at once a gap-list download times out or is
# cancelled on this 2-core machine (issue 13 stays open for it); run it with `pytest -m sessions`.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.sessions]


def test_three_sessions_at_once_each_see_only_their_own_data(tmp_path):
    with chromium_browser():  # skips cleanly without chromium or Playwright
        pass
    processes: list = []
    with streamlit_server(REPO / "app.py", warm=True, processes=processes) as url:
        with PeakMemory(processes[0].pid) as memory:
            results = run_sessions(url, 3, tmp_path)
    report = summary(results)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "browser_sessions.txt").write_text(
        f"{report}\nserver peak memory: {memory.peak_kb / 1024:.0f} MB\n", encoding="utf-8"
    )
    assert report["problems"] == {}, report
    assert report["completed"] == 3
    assert all(len(r.steps) == 7 for r in results), [r.steps for r in results]
