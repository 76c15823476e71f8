"""Verbs ``monitor`` and ``assess``: the plan over time (plan §五).

``monitor`` judges every unit × indicator over the snapshot years (projection to the plan's end
year, status, volatility); ``assess`` writes the annual, mid-term or final assessment report
(Word or PDF).  Both read the years from ``--snapshot-dir YEAR=DIR`` folders, from the project
store (``--snapshot``), or, given neither, the embedded demo years (2020 baseline + synthetic
2021–2024).  Heavy modules are imported inside the handlers, so ``geo-coverage --help`` stays fast.
"""

from __future__ import annotations

import sys

from .engine_options import add_engine_options, engine_from_args
from .store import add_store_option

LEVEL_CHOICES = ("city", "district", "street")
FORMATS = ("table", "json", "csv", "xlsx")


def _add_years_options(parser) -> None:
    group = parser.add_argument_group("snapshot years (default: the embedded demo years 2020–2024)")
    group.add_argument(
        "--snapshot",
        action="append",
        default=[],
        metavar="YEAR|LABEL",
        help="a snapshot of the project store (repeat for each year)",
    )
    group.add_argument(
        "--snapshot-dir",
        action="append",
        default=[],
        metavar="YEAR=DIR",
        help="a data folder for a year (repeat: --snapshot-dir 2021=d21 --snapshot-dir 2023=d23)",
    )
    add_store_option(group)  # with --store alone: every year the store holds
    parser.add_argument(
        "--plan", metavar="FILE", help="plan YAML or shipped plan id (default: Beijing 2021–2025)"
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "monitor", help="trajectories to the plan's end year: status and early warnings"
    )
    _add_years_options(p)
    p.add_argument(
        "--level", choices=LEVEL_CHOICES, action="append", help="level(s) (default: all)"
    )
    p.add_argument("--indicator", nargs="+", action="extend", metavar="ID", help="indicator id(s)")
    p.add_argument("--until", type=int, metavar="YEAR", help="use only the years up to YEAR")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", metavar="PATH", help="write to a file (required for xlsx)")
    add_engine_options(p)
    p.set_defaults(handler=cmd_monitor)

    p = subparsers.add_parser(
        "assess", help="annual / mid-term / final assessment report (.docx or .pdf)"
    )
    _add_years_options(p)
    p.add_argument("--stage", choices=("annual", "midterm", "final"), required=True)
    p.add_argument("--year", type=int, required=True, metavar="YEAR", help="the year reported on")
    p.add_argument(
        "--district", metavar="CODE", help="a district's self-assessment (default: the city)"
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="report language (default zh)"
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        required=True,
        action="append",
        help="report.docx or report.pdf (repeat for both: one evaluation, two files)",
    )
    p.set_defaults(handler=cmd_assess)


def load_series(args, plan, *, levels=None, indicators=None, until: int | None = None,
                engine=None):
    """``(series, origin, units)``: the series the options name, a line saying where it came from,
    and the latest year's unit outlines (``level -> GeoDataFrame``, for the reports' maps).
    ``engine`` (:mod:`geo_coverage.engine`) evaluates each folder or store year; the embedded
    demo years are re-evaluated incrementally from their baseline in this process."""
    from ..coverage import evaluate
    from ..errors import DataError
    from ..monitor import (
        datasets_from_dirs,
        parse_year_dirs,
        series_from_datasets,
        series_from_tables,
    )

    if (args.snapshot or args.store) and args.snapshot_dir:
        raise DataError(
            "Give either --snapshot or --snapshot-dir, not both.",
            fix="Save the folders as snapshots of the store, or name every year as a folder.",
        )
    latest: dict = {}

    def evaluate_year(year, dataset):
        latest["units"] = dataset.units  # years come in order: the last one stays
        return evaluate(dataset, plan, levels=levels, indicators=indicators, engine=engine)

    if args.snapshot_dir:
        folders = parse_year_dirs(args.snapshot_dir)
        if until is not None:
            folders = {y: p for y, p in folders.items() if y <= until}
        series = series_from_datasets(
            datasets_from_dirs(folders), plan, evaluate_year=evaluate_year
        )
        return (
            series,
            "folders: " + ", ".join(f"{y}={p}" for y, p in sorted(folders.items())),
            latest["units"],
        )
    if args.snapshot or args.store:
        from .store import open_from_args

        with open_from_args(args, create=False) as store:
            datasets, origin = _store_datasets(store, args.snapshot, until=until)
            series = series_from_datasets(datasets, plan, evaluate_year=evaluate_year)
        return series, origin, latest["units"]
    from ..dataset import load_dataset
    from ..monitor.demo import DEMO_ORIGIN, demo_events, demo_tables

    if engine is not None:
        print("the embedded demo years are evaluated in this process (incrementally from 2020); "
              "--engine applies to --snapshot-dir and --snapshot years", file=sys.stderr)

    base = load_dataset()
    years = [y for y in (2020, *demo_events().years) if until is None or y <= until]
    tables = demo_tables(plan, levels=levels, indicators=indicators, years=years, base=base)
    origin = DEMO_ORIGIN.replace("2020–2024", f"{min(years)}–{max(years)}")
    return series_from_tables(tables), origin, base.units


def check_outputs(args, outs) -> None:
    """Refuse, before anything is evaluated, an output path whose folder is missing or that lies
    in an input: a year folder, the store file, the plan file (inputs are never modified)."""
    from pathlib import Path

    from ..errors import DataError
    from ..monitor import parse_year_dirs

    inputs = list(parse_year_dirs(args.snapshot_dir).values())
    for given in (getattr(args, "store", None), getattr(args, "plan", None)):
        if given and Path(given).exists():
            inputs.append(Path(given))
    for out in outs:
        target = Path(out)
        if not target.parent.is_dir():
            raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                            fix="Create the folder first or choose another --out path.")
        resolved = target.resolve()
        for source in inputs:
            source = source.resolve()
            if resolved == source or source in resolved.parents:
                raise DataError(
                    f"--out {out} would write into the input '{source}'.",
                    file=target,
                    fix="Write the output outside the data folders, the store and the plan file.",
                )


def _check_year_and_district(args) -> None:
    """The year and district of ``assess`` checked against what the inputs hold before the years
    are evaluated (a typo should not cost a city's evaluation)."""
    from ..errors import DataError

    if args.snapshot or args.store:
        return  # the store's years are checked by build_assessment after loading
    if args.snapshot_dir:
        from ..monitor import parse_year_dirs

        years = sorted(parse_year_dirs(args.snapshot_dir))
    else:
        from ..dataset import load_dataset
        from ..monitor.demo import demo_events

        years = [2020, *demo_events().years]
        if args.district:
            known = [str(code) for code in load_dataset().units["district"].index]
            if str(args.district) not in known:
                raise DataError(f"District '{args.district}' is not in the data.",
                                fix=f"Use one of: {', '.join(sorted(known))}.")
    if args.year not in years:
        raise DataError(f"There is no snapshot for {args.year}.",
                        fix=f"Report on one of the years given: {years}.")


def _store_datasets(store, refs, *, until):
    """A lazy ``year -> Dataset`` over the store's snapshots ``refs`` (years or labels; all of the
    store's years when none are named)."""
    from ..errors import DataError
    from ..monitor import LazyDatasets

    refs = list(refs) or store.years()
    if not refs:
        raise DataError("The store holds no snapshots.",
                        fix="Add some with `geo-coverage snapshot add --year YEAR DIR`.")
    chosen: dict[int, object] = {}
    for ref in refs:
        key = int(ref) if str(ref).strip().isdigit() else ref
        year = int(store.year_view(key).year)
        if year in chosen:
            raise DataError(f"--snapshot names {year} twice ('{chosen[year]}' and '{ref}').",
                            fix="Give each year once.")
        chosen[year] = key
    chosen = {y: r for y, r in chosen.items() if until is None or y <= until}
    datasets = LazyDatasets({y: (lambda r=r: store.load_snapshot(r)) for y, r in sorted(chosen.items())})
    return datasets, "store snapshots: " + ", ".join(f"{y} ({r})" for y, r in sorted(chosen.items()))


def _plan(args):
    from ..plan import default_plan, load_plan

    return load_plan(args.plan) if args.plan else default_plan()


def cmd_monitor(args) -> int:
    from ..errors import DataError
    from ..monitor import trajectories
    from ..monitor.export import export_bytes, table_text
    from .report import emit

    plan = _plan(args)
    for indicator in args.indicator or []:
        plan.indicator(indicator)
    if args.format == "xlsx" and not args.out:
        raise DataError("XLSX needs a file.", fix="Add --out monitor.xlsx.")
    if args.out:
        check_outputs(args, [args.out])
    chosen = plan.indicators_for(args.indicator)
    if args.level and not any(level in ind.levels for ind in chosen for level in args.level):
        levels = sorted({level for ind in chosen for level in ind.levels})
        raise DataError(f"Nothing to monitor: the indicator(s) chosen are not evaluated at "
                        f"{' or '.join(args.level)} level.", fix=f"Use --level {' or '.join(levels)}.")
    engine = engine_from_args(args)  # checked now; a cluster starts only when a year is evaluated
    with engine:
        series, origin, _ = load_series(
            args, plan, levels=args.level, indicators=args.indicator, until=args.until,
            engine=engine if engine.name != "local" or engine.partitions else None,
        )
    print(f"monitoring {origin}", file=sys.stderr)
    monitored = trajectories(series, plan)
    if args.format == "table":
        text = table_text(monitored) + "\n"
        if args.out:
            emit(text.encode("utf-8"), args.out)
        else:
            sys.stdout.write(text)
        return 0
    emit(export_bytes(monitored, args.format, plan=plan, series=series), args.out)
    return 0


def cmd_assess(args) -> int:
    from pathlib import Path

    from ..errors import DataError
    from ..monitor.assess import build_assessment
    from ..monitor.report_files import write_report

    for out in args.out:
        if Path(out).suffix.lower() not in (".docx", ".pdf"):
            raise DataError(
                f"Cannot tell the report format from '{out}'.",
                fix="Name the file report.docx (Word) or report.pdf.",
            )
    if len({Path(out).resolve() for out in args.out}) < len(args.out):
        raise DataError("--out names the same file twice.", fix="Give each report file once.")
    check_outputs(args, args.out)
    plan = _plan(args)
    _check_year_and_district(args)
    series, origin, units = load_series(args, plan, until=args.year)
    names_en = {}
    for frame in units.values():
        if "name_en" in frame:
            names_en.update(frame["name_en"].dropna().astype(str).to_dict())
    assessment = build_assessment(
        series,
        plan,
        stage=args.stage,
        year=args.year,
        district=args.district,
        origin=origin,
        units=units,
        names_en=names_en,
    )
    for out in args.out:
        write_report(assessment, out, lang=args.lang)
        print(f"wrote {out}", file=sys.stderr)
    return 0
