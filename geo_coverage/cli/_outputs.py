"""The one guard in front of every ``--out``: an output never lands on one of its own inputs.

Checked for every verb before it runs, from the parsed arguments alone (standard library only,
so ``--help`` stays light): every argument naming an existing file or folder is an input, and
``--out`` is refused when it resolves (through symbolic links, ``..`` and hard links) to one of
those files, or, for ``import`` (whose ``--out`` folder is replaced whole), when it is an input
folder such as ``--base`` (an input inside it is refused by ``importers.check_import``).
Write-time failures (a missing folder, ``/proc``, a folder named as the file, a full disk) are
turned into clear errors by the atomic writer itself (``geo_coverage.io.files``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import DataError

__all__ = ["check_output"]

_NOT_PATHS = {"out", "handler", "command", "verb"}


def _candidates(value) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        return [text, *text.split(",")] if "," in text else [text]
    if isinstance(value, (list, tuple)):
        return [item for part in value for item in _candidates(part)]
    return []


def _inputs(args: argparse.Namespace) -> list[Path]:
    found = []
    for name, value in vars(args).items():
        if name in _NOT_PATHS:
            continue
        for text in _candidates(value):
            if text and os.path.lexists(text):
                found.append(Path(text))
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output(args: argparse.Namespace) -> None:
    """Raise :class:`DataError` when ``args.out`` would overwrite one of the verb's inputs.

    Parameters
    ----------
    args
        The parsed command line (any verb); nothing is checked without an ``out``.
    """
    out_text = getattr(args, "out", None)
    if not out_text:
        return
    if isinstance(out_text, list):  # assess takes --out more than once (a .docx and a .pdf)
        for one in out_text:
            check_output(argparse.Namespace(**{**vars(args), "out": one}))
        return
    out = Path(out_text)
    target = out.resolve()
    replaces_folder = getattr(args, "command", None) == "import"
    for given in _inputs(args):
        source = given.resolve()
        files = [source] if not source.is_dir() else []
        if source.is_dir() and (target == source or source in target.parents and not replaces_folder):
            # Writing into a data folder: only its files are inputs.
            files = [p for p in source.rglob("*") if p.is_file()]
        if replaces_folder and target == source:
            # (An input inside the output folder is refused by importers.check_import itself.)
            raise DataError(f"The output folder is the input '{given}': the import replaces the whole "
                            "folder, so its files would be overwritten.", file=out,
                            fix="Choose another --out folder (a new folder for the imported data).")
        for path in files:
            if target == path or (out.exists() and _same(out, path)):
                raise DataError(f"The output is the input file '{given}' (also through a link): "
                                "writing it would overwrite the input.", file=out,
                                fix="Choose another --out path; input files are never modified.")
