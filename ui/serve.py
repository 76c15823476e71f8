"""``python -m ui.serve app.py [streamlit options]``: ``streamlit run`` with a warm start.

Starts :mod:`ui.warm` (heavy imports and the embedded dataset, in the background), then hands the
command line to Streamlit's own ``streamlit run``; the app runs in this process and finds the
dataset loaded.  `make run` uses it; ``streamlit run app.py`` still works, only its first page is
slower.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    from ui import warm

    warm.start()
    sys.argv = ["streamlit", "run", *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
