"""Verbs ``scenario save|list|history|show|diff|restore|fork``: scenarios kept in the store, every
save a new version; a save from a stale version is refused, naming who saved what since.

``scenario show NAME > FILE`` writes the YAML with a ``# base-version: N`` comment, so editing
the file and ``scenario save FILE`` saves on top of the version shown without repeating it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .report import emit
from .store import add_store_option, open_from_args

_BASE_COMMENT = re.compile(r"^#\s*base-version:\s*(\d+)\s*$", re.MULTILINE)


def register_store_verbs(verbs) -> None:
    v = verbs.add_parser("save", help="save a scenario file to the store as a new version")
    v.add_argument("file", metavar="FILE", help="scenario YAML")
    v.add_argument("-m", "--message", required=True, help="what changed, for the history")
    v.add_argument(
        "--base-version",
        type=int,
        metavar="N",
        help="the version your edits start from (default: the file's '# base-version' "
        "comment; none for a new scenario)",
    )
    v.add_argument("--snapshot", metavar="YEAR|LABEL", help="the snapshot the scenario was made on")
    v.add_argument("--author", metavar="NAME", help="default: $GEO_COVERAGE_AUTHOR or your login")
    add_store_option(v)
    v.set_defaults(handler=cmd_save)
    v = verbs.add_parser("list", help="scenarios in the store, latest version, who saved it when")
    v.add_argument("--format", choices=("table", "json"), default="table")
    add_store_option(v)
    v.set_defaults(handler=cmd_list)
    v = verbs.add_parser("history", help="every version of a scenario")
    v.add_argument("name", metavar="NAME")
    v.add_argument("--format", choices=("table", "json"), default="table")
    add_store_option(v)
    v.set_defaults(handler=cmd_history)
    v = verbs.add_parser("show", help="a version's YAML (the latest by default)")
    v.add_argument("name", metavar="NAME")
    v.add_argument("--version", type=int, metavar="N")
    v.add_argument("--out", metavar="FILE", help="write the YAML here (default: stdout)")
    add_store_option(v)
    v.set_defaults(handler=cmd_show)
    v = verbs.add_parser("diff", help="the edits removed and added between two versions")
    v.add_argument("name", metavar="NAME")
    v.add_argument("old", type=int, metavar="OLD")
    v.add_argument("new", type=int, metavar="NEW")
    v.add_argument("--format", choices=("table", "json"), default="table")
    add_store_option(v)
    v.set_defaults(handler=cmd_diff)
    v = verbs.add_parser("restore", help="make an old version the newest again (a new version)")
    v.add_argument("name", metavar="NAME")
    v.add_argument("--version", type=int, required=True, metavar="N")
    v.add_argument("-m", "--message")
    v.add_argument("--author", metavar="NAME")
    add_store_option(v)
    v.set_defaults(handler=cmd_restore)
    v = verbs.add_parser("fork", help="start a new scenario from a version of another")
    v.add_argument("name", metavar="NAME")
    v.add_argument("new_name", metavar="NEW_NAME")
    v.add_argument("--version", type=int, metavar="N", help="default: the latest")
    v.add_argument("-m", "--message")
    v.add_argument("--author", metavar="NAME")
    add_store_option(v)
    v.set_defaults(handler=cmd_fork)


def cmd_save(args) -> int:
    from .. import io
    from ..scenario import load_scenario

    scenario = load_scenario(args.file)
    base = args.base_version
    if base is None:
        found = _BASE_COMMENT.search(io.read_bytes(Path(args.file)).decode("utf-8", "replace"))
        base = int(found.group(1)) if found else None
    with open_from_args(args, create=True) as store:
        saved = store.save_scenario(
            scenario,
            message=args.message,
            base_version=base,
            author=args.author,
            snapshot=args.snapshot,
        )
        where = store.location
    print(
        f"saved '{saved.name}' v{saved.version} to {where} (by {saved.author} at "
        f"{saved.created_at})"
    )
    return 0


def _table(rows: list[dict]) -> None:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.width", 200, "display.max_colwidth", 60
    ):
        print(pd.DataFrame(rows).to_string(index=False))


def cmd_list(args) -> int:
    with open_from_args(args, create=False) as store:
        scenarios = store.list_scenarios()
    if args.format == "json":
        print(json.dumps([s.to_dict() for s in scenarios], ensure_ascii=False, indent=1))
    elif not scenarios:
        print(
            "no scenarios in the store yet (save one with `geo-coverage scenario save FILE -m "
            "MESSAGE`)"
        )
    else:
        _table(
            [
                {
                    "name": s.name,
                    "latest": f"v{s.latest}",
                    "saved_by": s.updated_by,
                    "saved_at": s.updated_at[:19].replace("T", " "),
                    "created_by": s.created_by,
                    "forked_from": f"{s.forked_from} v{s.forked_from_version}"
                    if s.forked_from
                    else "",
                }
                for s in scenarios
            ]
        )
    return 0


def cmd_history(args) -> int:
    with open_from_args(args, create=False) as store:
        versions = store.scenario_history(args.name)
    if args.format == "json":
        print(json.dumps([v.to_dict() for v in versions], ensure_ascii=False, indent=1))
    else:
        _table(
            [
                {
                    "version": f"v{v.version}",
                    "author": v.author,
                    "saved_at": v.created_at[:19].replace("T", " "),
                    "edits": len(v.scenario().edits),
                    "message": v.message
                    + (f" (restored v{v.restored_from})" if v.restored_from else ""),
                }
                for v in versions
            ]
        )
    return 0


def cmd_show(args) -> int:

    with open_from_args(args, create=False) as store:
        version = store.get_scenario(args.name, args.version)
        latest = store.get_scenario(args.name).version
    text = (
        f"# geo-coverage store: '{version.name}' v{version.version} of {latest}, saved by "
        f"{version.author} at {version.created_at}: {version.message}\n"
        f"# base-version: {latest}\n" + version.content
    )
    emit(text.encode("utf-8"), args.out)
    return 0


def cmd_diff(args) -> int:
    with open_from_args(args, create=False) as store:
        diff = store.diff_scenario(args.name, args.old, args.new)
    if args.format == "json":
        print(json.dumps(diff.to_dict(), ensure_ascii=False, indent=1))
    else:
        print("\n".join(diff.lines()))
    return 0


def cmd_restore(args) -> int:
    with open_from_args(args, create=False) as store:
        saved = store.restore_scenario(
            args.name, args.version, author=args.author, message=args.message
        )
    print(f"restored v{args.version} of '{saved.name}' as v{saved.version}")
    return 0


def cmd_fork(args) -> int:
    with open_from_args(args, create=False) as store:
        saved = store.fork_scenario(
            args.name, args.new_name, version=args.version, author=args.author, message=args.message
        )
    print(f"forked '{args.name}' into '{saved.name}' v{saved.version}")
    return 0
