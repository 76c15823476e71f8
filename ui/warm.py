"""Warm the app before its first visitor.

`make run` starts Streamlit through ``python -m ui.serve``, which calls :func:`start` first: a
background thread imports the heavy libraries (geopandas, folium, scipy…) and loads the embedded
dataset while the server starts, so the first page does not pay for them.  Streamlit runs the app
in the same process, so :func:`default_dataset` hands the loaded dataset to the app's
``st.cache_resource``.  Started or not, :func:`default_dataset` returns the same thing:
``load_dataset()`` of the embedded data.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_thread: threading.Thread | None = None
_loaded: dict = {}


def _warm() -> None:
    try:
        # Never streamlit_folium or anything else that declares a Streamlit component: declared
        # before the runtime exists, the component is never registered and the map stays blank.
        import folium  # noqa: F401 - imported for its import time

        from geo_coverage import access, coverage, maps  # noqa: F401
        from geo_coverage.dataset import load_dataset

        _loaded["dataset"] = load_dataset()
        from geo_coverage.viz import live

        # The map's outlines in WGS84 (the default base map's datum), built off the first page.
        _loaded["shapes"] = live.display_shapes(_loaded["dataset"])
    except Exception as exc:  # noqa: BLE001 - the app loads it again and shows the error itself
        _loaded["error"] = exc


def start() -> None:
    """Begin warming in a daemon thread (once per process)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="geo-coverage-warm", daemon=True)
            _thread.start()


def default_dataset():
    """The embedded dataset: the warmed one when :func:`start` ran (waiting for it if needed)."""
    from geo_coverage.dataset import load_dataset

    if _thread is not None:
        _thread.join()
        if "dataset" in _loaded:
            return _loaded["dataset"]
    return load_dataset()


def default_shapes():
    """The embedded dataset's WGS84 display outlines when warming built them, else ``None``."""
    if _thread is not None:
        _thread.join()
    return _loaded.get("shapes")
