"""Verbs ``indicators``, ``report`` and ``gaps``: the plan, the coverage table, the gap list.

Start-up stays light: parsers and ``indicators`` need only the plan, so the engine (pandas,
geopandas, scipy) is imported inside the handlers that evaluate a dataset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..plan import Plan, default_plan, load_plan
from .engine_options import add_engine_options, engine_from_args
from .store import add_store_option

if TYPE_CHECKING:
    import pandas as pd

LEVEL_CHOICES = ("city", "district", "street")
# gaps.EXPORT_FORMATS, named here so that `--help` need not import geopandas (a test keeps them equal).
GAP_FORMATS = ("csv", "xlsx", "geojson")


def add_data_options(parser) -> None:
    """--data (or --snapshot from --store) and --plan: every verb that evaluates a dataset."""
    parser.add_argument("--data", metavar="DIR", help="data folder (default: the embedded Beijing data)")
    parser.add_argument("--snapshot", metavar="YEAR|LABEL",
                        help="the store's snapshot of that year (or label), not a data folder")
    add_store_option(parser)
    parser.add_argument("--plan", metavar="FILE", help="plan YAML or shipped plan id (default: Beijing 2021–2025)")


def load_dataset_arg(args, *, default=None):
    """The dataset the options name: ``--snapshot`` from the store, else ``--data`` (else
    ``default``, else the embedded data)."""
    if getattr(args, "snapshot", None):
        if args.data:
            raise DataError("Give --data or --snapshot, not both.",
                            fix="--data reads a folder; --snapshot YEAR|LABEL reads the store.")
        from ..store import open_store

        with open_store(args.store, create=False) as store:
            return store.load_snapshot(args.snapshot)
    if getattr(args, "store", None):
        raise DataError("--store is given without --snapshot.",
                        fix="Add --snapshot YEAR|LABEL (see `geo-coverage snapshot list`).")
    from ..dataset import load_dataset

    return load_dataset(args.data if args.data else default)


def add_access_options(parser) -> None:
    """How access indicators are measured (straight lines by default)."""
    group = parser.add_argument_group("access (for access and 2SFCA indicators)")
    group.add_argument("--network", metavar="FILE",
                       help="road network: OSM XML, GraphML, or NODES.csv,EDGES.csv (default: straight lines)")
    group.add_argument("--population-raster", metavar="TIF", help="population GeoTIFF (e.g. WorldPop)")
    group.add_argument("--resolution", type=float, metavar="M", default=100.0,
                       help="population grid cell size in metres when no raster is given (default 100)")
    group.add_argument("--detour", type=float, metavar="F", default=1.3,
                       help="travel distance per straight-line metre without a network (default 1.3)")
    group.add_argument("--catchment", action="append", metavar="ID=VALUE", default=[],
                       help="override an indicator's catchment (metres, or minutes for time catchments)")


def access_settings_from_args(args, dataset, plan: Plan):
    """An AccessSettings from the CLI options (each --catchment checked against the plan)."""
    from ..access import AccessSettings
    from ..catchment import network_from_csv, network_from_file

    catchments = {}
    for item in args.catchment or []:
        key, sep, value = item.partition("=")
        try:
            catchments[key.strip()] = float(value)
        except ValueError:
            raise DataError(f"Bad --catchment '{item}'.", fix="Write it as INDICATOR_ID=NUMBER, e.g. "
                            "mother_baby_room_access=800.") from None
        if not sep:
            raise DataError(f"Bad --catchment '{item}'.", fix="Write it as INDICATOR_ID=NUMBER.")
        reach = [ind.id for ind in plan.all_indicators if ind.type in ("access", "accessible_ratio")]
        if key.strip() not in reach:
            raise DataError(f"--catchment names '{key.strip()}', which is not an access indicator of the plan.",
                            fix=f"Use one of: {', '.join(reach)}.")
        if not catchments[key.strip()] > 0:
            raise DataError(f"Bad --catchment '{item}': the catchment must be a positive number.",
                            fix="Give metres (or minutes for time catchments) above 0.")
    network = None
    if args.network:
        parts = [p for p in str(args.network).split(",") if p]
        network = (network_from_csv(parts[0], parts[1], crs=dataset.crs) if len(parts) == 2
                   else network_from_file(parts[0], crs=dataset.crs))
    return AccessSettings(resolution_m=args.resolution, detour_factor=args.detour, network=network,
                          catchments=catchments, raster=args.population_raster)


def load_plan_arg(args) -> Plan:
    return load_plan(args.plan) if getattr(args, "plan", None) else default_plan()


def register(subparsers) -> None:
    p = subparsers.add_parser("indicators", help="list the plan's indicators")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--plan", metavar="FILE", help="plan YAML or shipped plan id")
    p.add_argument("--with-companions", action="store_true",
                   help="also list analytic companions (e.g. 2SFCA beside a plain ratio)")
    p.set_defaults(handler=cmd_indicators)

    p = subparsers.add_parser("report", help="coverage of every indicator per unit")
    p.add_argument("--level", choices=LEVEL_CHOICES, action="append",
                   help="level(s) to report (default: all)")
    p.add_argument("--indicator", nargs="+", action="extend", metavar="ID", help="indicator id(s)")
    add_data_options(p)
    add_access_options(p)
    add_engine_options(p)
    p.add_argument("--format", choices=("table", "csv", "json", "xlsx", "geojson"), default="table")
    p.add_argument("--lang", choices=("zh", "en"),
                   help="language of headers and cells: xlsx is written in one language (default "
                        "zh); csv and geojson keep the coverage table's column ids and values (the "
                        "data contract) unless --lang is given; json always keeps them")
    p.add_argument("--out", metavar="PATH", help="write to a file (required for xlsx)")
    p.set_defaults(handler=cmd_report)

    p = subparsers.add_parser("gaps", help="ranked gap list of one level, exported")
    p.add_argument("--level", choices=LEVEL_CHOICES, default="street")
    p.add_argument("--indicator", metavar="ID", help="one indicator (default: all)")
    p.add_argument("--district", metavar="CODE", help="only units of this district")
    add_data_options(p)
    add_access_options(p)
    p.add_argument("--format", choices=GAP_FORMATS,
                   help="file format (default: from the --out suffix)")
    add_engine_options(p)
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the file's headers and cells (default zh)")
    p.add_argument("--out", metavar="PATH", required=True, help="PATH.xlsx | PATH.csv | PATH.geojson")
    p.set_defaults(handler=cmd_gaps)


def cmd_indicators(args) -> int:
    plan = load_plan_arg(args)
    chosen = plan.all_indicators if args.with_companions else plan.indicators
    rows: list[dict[str, Any]] = [{
        "id": ind.id, "name_zh": ind.name_zh, "name_en": ind.name_en, "group": ind.group,
        "type": ind.type, "layer": ind.layer,
        "measure": _measure_text(ind), "population": ind.population,
        "target": dict(ind.target), "comparator": ind.comparator,
        "target_is_default": ind.target_is_default, "unit": ind.unit_en,
        "shortfall_unit": ind.shortfall_unit, "levels": list(ind.levels), "clause": ind.clause,
        "companion_of": ind.companion_of,
    } for ind in chosen]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(text_table([{
        "id": r["id"], "名称": r["name_zh"], "type": r["type"], "layer": r["layer"],
        "target": _target_text(r), "levels": ",".join(r["levels"]), "clause": r["clause"],
    } for r in rows]))
    return 0


def text_table(rows: list[dict[str, Any]]) -> str:
    """Rows as ``pandas.DataFrame(rows).to_string(index=False)`` prints them, without pandas.

    Every cell is right-aligned to its column's widest entry (header included), columns are one
    space apart; ``indicators`` prints only text cells, which pandas shows as ``str()`` does.
    """
    columns = list(rows[0])
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    return "\n".join(" ".join(v.rjust(w) for v, w in zip(line, widths)) for line in [columns, *cells])


def _measure_text(ind) -> str:
    parts = [m.describe() for m in (ind.numerator, ind.denominator) if m is not None]
    if ind.type in ("access", "accessible_ratio"):
        parts.append(f"within {ind.catchment_m():.0f} m ({ind.mode})")
    return " / ".join(parts)


def _target_text(row) -> str:
    values = sorted(set(row["target"].values()))
    text = "/".join(f"{v:g}" for v in values)
    return f"{row['comparator']} {text}" + (" (default)" if row["target_is_default"] else "")


def cmd_report(args) -> int:
    import pandas as pd

    from .. import gaps as gaps_module
    from .. import io
    from ..coverage import evaluate

    plan = load_plan_arg(args)
    for ind_id in args.indicator or []:
        plan.indicator(ind_id)
    if args.format == "xlsx" and not args.out:
        raise DataError("XLSX needs a file.", fix="Add --out report.xlsx.")
    engine = engine_from_args(args)  # checked now; a cluster starts only below
    dataset = load_dataset_arg(args)
    with engine:
        table = evaluate(dataset, plan, levels=args.level, indicators=args.indicator,
                         access_settings=access_settings_from_args(args, dataset, plan), engine=engine)
    fmt = args.format
    if fmt == "table":
        print_table(table)
        return 0
    language = args.lang

    def shown(frame):
        return frame if language is None else gaps_module.localise(frame, language, plan=plan,
                                                                   dataset=dataset)
    if fmt == "csv":
        data = io.dataframe_to_csv_bytes(shown(table))
    elif fmt == "json":
        data = json.dumps(table_records(table), ensure_ascii=False, indent=1).encode("utf-8")
    elif fmt == "xlsx":
        data = gaps_module.coverage_xlsx_bytes(table, plan=plan, dataset=dataset,
                                               language=language or "zh")
    else:  # geojson: one feature per row, with its unit outline
        import geopandas as gpd

        pieces = []
        for level, rows in table.groupby("level", sort=False):
            outlines = gaps_module.gap_geoframe(rows, dataset, level=level)
            pieces.append(gpd.GeoDataFrame(shown(rows).reset_index(drop=True),
                                           geometry=outlines.geometry.to_numpy(), crs=outlines.crs))
        data = io.dataframe_to_geojson_bytes(pd.concat(pieces, ignore_index=True))
    emit(data, args.out)
    return 0


def table_records(table: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts with the contract's columns (NaN → null, codes as strings)."""
    from ..coverage import TABLE_COLUMNS

    frame = table[TABLE_COLUMNS].astype(object).where(table[TABLE_COLUMNS].notna(), None)
    return frame.to_dict(orient="records")


def print_table(table: pd.DataFrame) -> None:
    import pandas as pd

    shown = table[["level", "unit_code", "unit_name", "indicator", "value", "target", "status",
                   "shortfall", "shortfall_unit"]].copy()
    shown["value"] = shown["value"].round(2)
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(shown.to_string(index=False))


def emit(data: bytes, out) -> None:
    if out:
        from .. import io

        io.write_bytes(data, Path(out))
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def cmd_gaps(args) -> int:
    from .. import gaps as gaps_module
    from .. import io
    from ..coverage import evaluate

    plan = load_plan_arg(args)
    fmt = args.format or Path(args.out).suffix.lower().lstrip(".")
    if fmt not in gaps_module.EXPORT_FORMATS:
        raise DataError(f"Cannot tell the format from '{args.out}'.",
                        fix="Use an .xlsx, .csv or .geojson file name, or --format.")
    indicators = [args.indicator] if args.indicator else None
    if indicators:
        plan.indicator(args.indicator)
    engine = engine_from_args(args)
    dataset = load_dataset_arg(args)
    with engine:
        table = evaluate(dataset, plan, levels=[args.level], indicators=indicators,
                         access_settings=access_settings_from_args(args, dataset, plan), engine=engine)
    gaps = gaps_module.gap_list(table, plan, level=args.level, indicator=args.indicator,
                                dataset=dataset, district=args.district)
    data = gaps_module.export_bytes(gaps, fmt, plan=plan, dataset=dataset, level=args.level, table=table,
                                    district=args.district, language=args.lang)
    io.write_bytes(data, Path(args.out))
    print(f"{len(gaps)} gaps written to {args.out}", file=sys.stderr)
    return 0
