"""The ``geo-coverage`` command.

Each verb family lives in its own module with a ``register(subparsers)`` function that adds its
parsers and sets ``handler``; this module only assembles them and turns the project's errors into
a one-line message and exit code 2 (no traceback for a user's mistake).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import GeoCoverageError
from ._outputs import check_output

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

# Verb families, in the order `--help` lists them.
COMMAND_MODULES = ("report", "printmap", "access", "optimize", "scenario", "data", "monitor", "store")

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2, like ours
        self.exit(EXIT_USER_ERROR, f"geo-coverage: error: {message}\n(see `geo-coverage --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="geo-coverage",
        description="Do a city's facilities meet its plan's mandates? Coverage, gaps, access, siting.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or argparse's own one-line error
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        check_output(args)
        return int(args.handler(args) or EXIT_OK)
    except GeoCoverageError as exc:
        print(f"geo-coverage: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("geo-coverage: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
