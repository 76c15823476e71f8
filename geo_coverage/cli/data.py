"""Verbs ``validate``, ``import`` and ``fetch-osm``: bringing a planner's own data in.

``validate`` and ``import`` print every problem of every file, one line each (file, row,
column, what, fix), and exit 2 when any is an error; ``import`` then writes nothing.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path

from ..errors import DataError
from ..plan import Plan, default_plan, load_plan

# datum.DATUMS, named here so that `--help` need not import numpy (a test keeps them equal);
# importers (pandas, geopandas) load in the handlers.
DATUMS = ("wgs84", "gcj02", "bd09")

EXIT_OK = 0
EXIT_PROBLEMS = 2


def _add_reading_options(parser) -> None:
    parser.add_argument("--datum", choices=DATUMS,
                        help="coordinate datum of the facility registers (default: undeclared, read as wgs84)")
    parser.add_argument("--encoding", metavar="NAME",
                        help="text encoding of CSV files: utf-8, utf-8-sig, gbk, gb18030 (default: detected)")
    parser.add_argument("--column-map", metavar="TARGET=SOURCE,...",
                        help="map the file's headers, e.g. code=区划代码,name=名称,lon=东经")
    parser.add_argument("--base", metavar="DIR", help="base data folder (default: the embedded Beijing data)")
    parser.add_argument("--plan", metavar="FILE", help="plan YAML or shipped plan id (for facility kinds)")
    parser.add_argument("--max-rows", metavar="N", type=int, default=None,
                        help="most rows read from a CSV/XLSX table (default 100000)")


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help="check a boundaries, population or facility file; list every problem")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--as", dest="role", choices=("boundaries", "population", "facilities"), required=True)
    p.add_argument("--kind", metavar="K", help="facility kind (plan kinds id), for --as facilities")
    p.add_argument("--level", choices=("district", "street"), default="street",
                   help="unit level of boundaries / population (default: street)")
    _add_reading_options(p)
    p.set_defaults(handler=cmd_validate)

    p = subparsers.add_parser("import", help="build a validated data folder from your own files")
    p.add_argument("--boundaries", metavar="FILE",
                   help="unit outlines: GeoJSON, GeoPackage, Shapefile (.shp or .zip), GeoParquet")
    p.add_argument("--level", choices=("district", "street"), default="street",
                   help="level of --boundaries and --population (default: street)")
    p.add_argument("--population", metavar="FILE", help="population table (CSV/XLSX) keyed by unit code")
    p.add_argument("--facilities", metavar="FILE", action="append", default=[],
                   help="facility register (CSV/XLSX); repeat with one --kind each")
    p.add_argument("--kind", metavar="K", action="append", default=[], help="kind of each --facilities file")
    _add_reading_options(p)
    p.add_argument("--out", metavar="DIR", required=True, help="data folder to write (replaced atomically)")
    p.set_defaults(handler=cmd_import)

    p = subparsers.add_parser("fetch-osm", help="fetch boundaries, facilities and road networks from OpenStreetMap")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--place", metavar="NAME",
                       help="a place name Nominatim knows, e.g. 'Dongcheng District, Beijing'")
    where.add_argument("--bbox", metavar=("W", "S", "E", "N"), nargs=4, type=float, help="bounding box in degrees")
    p.add_argument("--what", default="boundaries,facilities,network",
                   help="comma-separated: boundaries, facilities, network (default: all)")
    p.add_argument("--network-type", choices=("walk", "drive"), action="append",
                   help="road network(s) to fetch (default: walk and drive)")
    p.add_argument("--cache", metavar="DIR", help="cache folder for OSM responses (default: no cache)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write (data-contract layout)")
    p.set_defaults(handler=cmd_fetch_osm)


def _plan(args) -> Plan:
    return load_plan(args.plan) if getattr(args, "plan", None) else default_plan()


def _max_rows(args) -> int:
    from .. import io

    if args.max_rows is None:
        return io.MAX_TABLE_ROWS
    if args.max_rows < 1:
        raise DataError(f"--max-rows must be a positive number of rows, not {args.max_rows}.",
                        fix=f"Leave it out for the default ({io.MAX_TABLE_ROWS}) or give a larger number.")
    return args.max_rows


def _print_problems(problems, *, stream) -> None:
    for problem in sorted(problems, key=lambda p: p.severity != "error"):
        print(f"geo-coverage: {problem}", file=stream)


def cmd_validate(args) -> int:
    from .. import importers
    from ..dataset import default_data_dir

    path = Path(args.file)
    base = Path(args.base) if args.base else default_data_dir()
    if args.role == "facilities":
        if not args.kind:
            raise DataError("--as facilities needs --kind.", fix="Add e.g. --kind elderly_care.")
        result = importers.check_import(facilities=[importers.FacilityInput(path, args.kind)], base=base,
                                        plan=_plan(args), datum=args.datum, encoding=args.encoding,
                                        column_map=args.column_map, max_rows=_max_rows(args))
    elif args.role == "boundaries":
        result = importers.check_import(boundaries=path, level=args.level, base=base,
                                        column_map=args.column_map)
    else:
        result = importers.check_import(population=path, level=args.level, base=base,
                                        encoding=args.encoding, column_map=args.column_map,
                                        max_rows=_max_rows(args))
    _print_problems(result.problems, stream=sys.stdout)
    errors, warnings = len(result.errors), len(result.warnings)
    summary = f"{path.name}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}."
    print(summary if errors or warnings else f"{path.name}: no problems found.", file=sys.stdout)
    return EXIT_PROBLEMS if errors else EXIT_OK


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM raises KeyboardInterrupt while the block runs (Python's default would end the
    process without running ``finally`` blocks); SIGKILL cannot be caught, and the next import
    cleans what it leaves (see ``io.clean_stale_builds``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_import(args) -> int:
    from .. import importers

    if len(args.facilities) != len(args.kind):
        raise DataError(f"{len(args.facilities)} --facilities files but {len(args.kind)} --kind values.",
                        fix="Give one --kind after each --facilities FILE.")
    if not (args.boundaries or args.population or args.facilities):
        raise DataError("Nothing to import.", fix="Pass --boundaries, --population and/or --facilities.")
    facilities = [importers.FacilityInput(Path(f), k) for f, k in zip(args.facilities, args.kind, strict=True)]
    with _terminate_as_interrupt():  # `kill` unwinds like Ctrl-C, so the building folder is removed
        result = importers.import_folder(args.out, boundaries=args.boundaries, level=args.level,
                                         population=args.population, facilities=facilities, base=args.base,
                                         plan=_plan(args), datum=args.datum, encoding=args.encoding,
                                         column_map=args.column_map, max_rows=_max_rows(args))
    _print_problems(result.problems, stream=sys.stderr)
    if not result.ok:
        count = len(result.errors)
        print(f"geo-coverage: nothing written ({count} error{'s' * (count != 1)}).", file=sys.stderr)
        return EXIT_PROBLEMS
    counts = []
    for key, value in result.report.items():
        if key.startswith("facilities."):
            counts.append(f"{value.get('rows', 0)} {key.split('.', 1)[1]}")
    print(f"Wrote {args.out}" + (f" ({', '.join(counts)})" if counts else "") + ".")
    return EXIT_OK


def cmd_fetch_osm(args) -> int:
    from .. import osm

    what = tuple(part.strip() for part in args.what.split(",") if part.strip())
    unknown = sorted(set(what) - set(osm.WHAT))
    if unknown:
        raise DataError(f"Unknown --what: {', '.join(unknown)}.", fix=f"Use any of {', '.join(osm.WHAT)}.")
    query = osm.OsmQuery(place=args.place, bbox=tuple(args.bbox) if args.bbox else None)
    written = osm.fetch_to_folder(query, args.out, what=what,
                                  network_types=tuple(args.network_type or ("walk", "drive")),
                                  cache_dir=args.cache, progress=lambda text: print(text, file=sys.stderr))
    for path in written:
        print(path)
    return EXIT_OK
