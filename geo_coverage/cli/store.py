"""Verbs ``store`` (init, info, dump, restore) and ``snapshot`` (add, list, show, remove): the
project store of datasets by year (see docs/store.md).

Every verb takes ``--store PATH|URL``: a file path is the embedded GeoPackage store, a
``postgresql://`` URL the team's PostGIS store; without it ``GEO_COVERAGE_STORE``, else the
default path.  The store library (SQLAlchemy) is imported only when a store verb runs.
"""

from __future__ import annotations

import json
import sys

from ..errors import DataError

STORE_HELP = (
    "the store: a .gpkg file path (embedded) or postgresql://USER@HOST/DB "
    "(default: $GEO_COVERAGE_STORE, else ~/.local/share/geo-coverage/store.gpkg)"
)


def add_store_option(parser) -> None:
    """``--store PATH|URL``, on every verb that reads or writes the store."""
    parser.add_argument("--store", metavar="PATH|URL", help=STORE_HELP)


def open_from_args(args, *, create: bool):
    from ..store import open_store

    return open_store(getattr(args, "store", None), create=create)


def register(subparsers) -> None:
    p = subparsers.add_parser("store", help="the project store: init, info, dump, restore")
    verbs = p.add_subparsers(dest="store_command", metavar="VERB", parser_class=type(p))
    v = verbs.add_parser(
        "init", help="create the store (or upgrade an older one) and say where it is"
    )
    add_store_option(v)
    v.set_defaults(handler=cmd_init)
    v = verbs.add_parser("info", help="backend, location, schema version, counts, size")
    add_store_option(v)
    v.add_argument("--format", choices=("table", "json"), default="table")
    v.set_defaults(handler=cmd_info)
    v = verbs.add_parser("dump", help="write the whole store to one portable file (a GeoPackage)")
    v.add_argument("file", metavar="FILE.gpkg")
    add_store_option(v)
    v.set_defaults(handler=cmd_dump)
    v = verbs.add_parser("restore", help="copy a dump into an empty store (file or PostGIS)")
    v.add_argument("file", metavar="FILE.gpkg")
    add_store_option(v)
    v.set_defaults(handler=cmd_restore)
    p.set_defaults(handler=lambda args: _missing_verb(p))

    p = subparsers.add_parser("snapshot", help="datasets by year: add, list, show, remove")
    verbs = p.add_subparsers(dest="snapshot_command", metavar="VERB", parser_class=type(p))
    v = verbs.add_parser(
        "add", help="save a data folder as the snapshot of a year (or a district's submission)"
    )
    v.add_argument(
        "folder", metavar="DATA_DIR", help="a data folder (boundaries/, layers/; see `import`)"
    )
    v.add_argument("--year", required=True, metavar="YEAR", help="reference year, e.g. 2023")
    v.add_argument(
        "--label", metavar="TEXT", help="e.g. '2023 mid-term' (required for a city snapshot)"
    )
    v.add_argument("--district", metavar="CODE", help="a district's own submission for the year")
    v.add_argument(
        "--replace",
        action="store_true",
        help="replace the year's current snapshot (the old one stays in history)",
    )
    v.add_argument(
        "--author", metavar="NAME", help="who saves (default: $GEO_COVERAGE_AUTHOR or your login)"
    )
    add_store_option(v)
    v.set_defaults(handler=cmd_add)
    v = verbs.add_parser("list", help="the snapshots by year, with who saved them and when")
    v.add_argument("--history", action="store_true", help="also replaced and removed snapshots")
    v.add_argument("--format", choices=("table", "json"), default="table")
    add_store_option(v)
    v.set_defaults(handler=cmd_list)
    v = verbs.add_parser(
        "show", help="one snapshot: provenance (files, checks), parts, districts missing"
    )
    v.add_argument("ref", metavar="YEAR|LABEL")
    v.add_argument("--district", metavar="CODE", help="a district's submission")
    v.add_argument("--format", choices=("table", "json"), default="table")
    add_store_option(v)
    v.set_defaults(handler=cmd_show)
    v = verbs.add_parser("remove", help="take a snapshot out of use (kept in history)")
    v.add_argument("ref", metavar="YEAR|LABEL")
    v.add_argument("--district", metavar="CODE", help="a district's submission")
    v.add_argument("--author", metavar="NAME")
    add_store_option(v)
    v.set_defaults(handler=cmd_remove)
    p.set_defaults(handler=lambda args: _missing_verb(p))


def _missing_verb(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def cmd_init(args) -> int:
    with open_from_args(args, create=True) as store:
        print(
            f"store ready: {store.location} ({store.backend_name}, schema version "
            f"{store.schema_version})"
        )
    return 0


def cmd_info(args) -> int:
    with open_from_args(args, create=False) as store:
        info = store.info()
    if args.format == "json":
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    for key, value in info.items():
        if key == "migrations":
            value = ", ".join(
                f"v{m['version']} at {m['applied_at']} ({m['tool_version']})" for m in value
            )
        print(f"{key:22} {value}")
    return 0


def cmd_dump(args) -> int:
    with open_from_args(args, create=False) as store:
        counts = store.dump(args.file)
    print(
        f"wrote {args.file}: " + ", ".join(f"{n} {table}" for table, n in counts.items()),
        file=sys.stderr,
    )
    return 0


def cmd_restore(args) -> int:
    with open_from_args(args, create=True) as store:
        counts = store.restore(args.file)
        where = store.location
    print(
        f"restored {args.file} into {where}: " + ", ".join(f"{n} {t}" for t, n in counts.items()),
        file=sys.stderr,
    )
    return 0


def cmd_add(args) -> int:
    from .data import _terminate_as_interrupt

    if not args.district and not args.label:
        raise DataError("A city snapshot needs a label.", fix="Add e.g. --label '2023 mid-term'.")
    with open_from_args(args, create=True) as store, _terminate_as_interrupt():
        info = store.add_snapshot(
            args.folder,
            year=args.year,
            label=args.label,
            district=args.district,
            replace=args.replace,
            author=args.author,
            progress=lambda text: print(f"  {text}", file=sys.stderr, flush=True),
        )
        where = store.location
    what = (
        f"district {info.district}'s submission for {info.year}"
        if info.district
        else f"snapshot {info.year}"
    )
    print(f"saved {what} '{info.label}' to {where} (by {info.author} at {info.created_at})")
    return 0


def _rows(infos) -> list[dict]:
    return [
        {
            "year": s.year,
            "label": s.label,
            "district": s.district or "city",
            "status": s.status,
            "author": s.author,
            "saved_at": s.created_at[:19].replace("T", " "),
            "facilities": sum(
                f.get("rows") or 0
                for f in s.provenance.get("files", [])
                if str(f.get("part", "")).startswith("layer.")
            ),
        }
        for s in infos
    ]


def cmd_list(args) -> int:
    with open_from_args(args, create=False) as store:
        infos = store.list_snapshots(history=args.history)
        views = {year: store.year_view(year) for year in store.years()}
    if args.format == "json":
        out = [s.to_dict() for s in infos]
        years = [
            {
                "year": y,
                "base": v.base.year,
                "label": v.label,
                "submissions": [s.district for s in v.submissions],
                "missing_districts": list(v.missing_districts),
            }
            for y, v in views.items()
        ]
        print(json.dumps({"snapshots": out, "years": years}, ensure_ascii=False, indent=1))
        return 0
    if not infos:
        print(
            "no snapshots yet (add one with `geo-coverage snapshot add --year YEAR --label TEXT "
            "DATA_DIR`)"
        )
        return 0
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.width", 200, "display.max_colwidth", 40
    ):
        print(pd.DataFrame(_rows(infos)).to_string(index=False))
    for year, view in views.items():
        if view.submissions:
            print(
                f"{year}: {len(view.submissions)} district submission(s) over the {view.base.year} "
                f"city snapshot"
                + (
                    f"; missing: {', '.join(view.missing_districts)}"
                    if view.missing_districts
                    else ""
                )
            )
    return 0


def cmd_show(args) -> int:
    with open_from_args(args, create=False) as store:
        info = store.get_snapshot(args.ref, district=args.district)
        view = None if args.district else store.year_view(info.year)
    if args.format == "json":
        out = info.to_dict()
        if view is not None:
            out["submissions"] = [s.district for s in view.submissions]
            out["missing_districts"] = list(view.missing_districts)
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    p = info.provenance
    print(
        f"{info.year} '{info.label}'"
        + (f" (district {info.district})" if info.district else "")
        + f": saved by {info.author} at {info.created_at}, status {info.status}"
    )
    print(f"source: {p.get('source')} (geo-coverage {p.get('tool_version')})")
    for file in p.get("files", []):
        print(
            f"  {file['part']:32} {file.get('rows') or '':>6} rows  sha256 {file['sha256'][:12]}  "
            f"{file['path']}"
        )
    for check in p.get("checks", []):
        print(f"  check {check['check']}: {check['result']} ({check['detail']})")
    for part, source in (p.get("sources") or {}).items():
        print(f"  provenance {part}: {source}")
    if view is not None and view.submissions:
        print(f"district submissions: {', '.join(s.district for s in view.submissions)}")
        if view.missing_districts:
            print(f"missing districts: {', '.join(view.missing_districts)}")
    return 0


def cmd_remove(args) -> int:
    with open_from_args(args, create=False) as store:
        info = store.remove_snapshot(args.ref, district=args.district, author=args.author)
    print(f"removed {info.year} '{info.label}' (kept in history; `snapshot list --history`)")
    return 0
