"""Verbs ``scenario run`` (apply a scenario file, report or compare) and ``scenario optimize``
(propose sites for new facilities and write them as a scenario file)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError, ScenarioError
from ..plan import default_plan, load_plan
from .report import LEVEL_CHOICES, add_data_options, emit, load_dataset_arg, print_table, table_records

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json", "xlsx", "geojson")
# siting.MODELS, named here so that `--help` need not import the optimiser (a test keeps them equal).
SITING_MODELS = ("mclp", "lscp", "pmedian", "pcenter", "capacity_gap")


def register(subparsers) -> None:
    p = subparsers.add_parser("scenario", help="what-if scenarios: apply, compare, propose sites")
    verbs = p.add_subparsers(dest="scenario_command", metavar="VERB", parser_class=type(p))

    run = verbs.add_parser("run", help="apply a scenario file and report coverage (or compare)")
    run.add_argument("file", metavar="FILE", help="scenario YAML")
    run.add_argument("--compare", action="store_true",
                     help="before/after: deltas, units that flip, shortfall closed")
    run.add_argument("--level", choices=LEVEL_CHOICES, action="append", help="level(s) (default: all)")
    run.add_argument("--indicator", nargs="+", action="extend", metavar="ID", help="indicator id(s)")
    add_data_options(run)
    run.add_argument("--format", choices=FORMATS, default="table")
    run.add_argument("--lang", choices=("zh", "en"),
                     help="language of headers and cells: xlsx in one language (default zh); csv "
                          "and geojson keep the column ids unless --lang is given")
    run.add_argument("--out", metavar="PATH", help="write to a file (required for xlsx)")
    run.set_defaults(handler=cmd_run)

    opt = verbs.add_parser("optimize", help="propose sites for new facilities, written as a scenario")
    opt.add_argument("--indicator", required=True, metavar="ID", help="indicator to improve")
    opt.add_argument("--kind", metavar="KIND", help="facility kind (default: the indicator's layer)")
    opt.add_argument("--new-sites", required=True, type=int, metavar="N", help="how many new facilities")
    opt.add_argument("--capacity", type=float, metavar="C",
                     help="capacity of each (beds, places…) for ratio indicators")
    opt.add_argument("--candidates", default="grid", metavar="grid|layer:KIND|CSV",
                     help="where sites may go: a grid, a layer's points, or a CSV/XLSX with id, lon, lat")
    opt.add_argument("--datum", choices=("wgs84", "gcj02", "bd09"),
                     help="datum of a candidates file's coordinates (default: undeclared, read as wgs84)")
    opt.add_argument("--spacing", type=float, default=500.0, metavar="M", help="grid spacing in metres")
    opt.add_argument("--units", nargs="+", metavar="CODE", help="only these districts / streets")
    opt.add_argument("--model", choices=SITING_MODELS, help="default: mclp for access, capacity_gap for ratios")
    opt.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    opt.add_argument("--name", help="scenario name (default: from the indicator)")
    add_data_options(opt)
    opt.add_argument("--out", metavar="SCENARIO.yaml", help="write the scenario here (default: stdout)")
    opt.set_defaults(handler=cmd_optimize)
    from .scenario_store import register_store_verbs

    register_store_verbs(verbs)
    p.set_defaults(handler=lambda args: _missing_verb(p))


def _missing_verb(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


def cmd_run(args) -> int:
    from .. import scenario as scenario_module
    from ..coverage import evaluate

    scenario = scenario_module.load_scenario(args.file)
    plan_source = args.plan or scenario.plan
    plan = load_plan(plan_source) if plan_source else default_plan()
    for indicator in args.indicator or []:
        plan.indicator(indicator)
    if args.format == "xlsx" and not args.out:
        raise ScenarioError("XLSX needs a file.", fix="Add --out comparison.xlsx.")
    dataset = load_dataset_arg(args, default=scenario.base_folder())
    before = evaluate(dataset, plan, levels=args.level, indicators=args.indicator)
    changed = scenario_module.apply(scenario, dataset, plan)
    after = scenario_module.evaluate_scenario(before, dataset, changed, plan, scenario)
    if args.compare:
        _emit_comparison(scenario_module.compare(before, after), args, plan=plan, dataset=changed,
                         scenario=scenario)
    else:
        _emit_table(after, args, plan=plan, dataset=changed)
    return 0


def _emit_table(table: pd.DataFrame, args, *, plan, dataset) -> None:
    import pandas as pd

    from .. import gaps as gaps_module
    from .. import io

    if args.format == "table":
        print_table(table)
        return
    if args.format == "csv":
        data = io.dataframe_to_csv_bytes(table)
    elif args.format == "json":
        data = json.dumps(table_records(table), ensure_ascii=False, indent=1).encode("utf-8")
    elif args.format == "xlsx":
        data = gaps_module.coverage_xlsx_bytes(table, plan=plan, dataset=dataset,
                                               language=args.lang or "zh")
    else:
        pieces = [gaps_module.gap_geoframe(rows, dataset, level=level)
                  for level, rows in table.groupby("level", sort=False)]
        data = io.dataframe_to_geojson_bytes(pd.concat(pieces, ignore_index=True))
    emit(data, args.out)


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _emit_comparison(comparison, args, *, plan, dataset, scenario) -> None:
    import pandas as pd

    from .. import scenario as scenario_module

    if args.format == "table":
        with pd.option_context("display.max_rows", None, "display.width", 200):
            print(f"# {scenario.name}: shortfall closed per indicator and level")
            print(comparison.closed.to_string(index=False))
            print(f"\n# {len(comparison.flips)} units flip")
            if len(comparison.flips):
                shown = comparison.flips[["level", "unit_code", "unit_name", "indicator", "value_before",
                                          "value_after", "flip"]].copy()
                print(shown.round(2).to_string(index=False))
        return
    if args.format == "json":
        data = json.dumps({"scenario": scenario.name, "closed": _records(comparison.closed),
                           "flips": _records(comparison.flips)}, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        language = args.lang or ("zh" if args.format == "xlsx" else None)
        data = scenario_module.comparison_export_bytes(comparison, args.format, plan=plan, dataset=dataset,
                                                       scenario=scenario, language=language)
    emit(data, args.out)


def _candidate_file(path: Path, dataset, *, kind: str, datum: str | None):
    """Candidate sites from a CSV/XLSX (:func:`geo_coverage.siting.read_candidates`); every
    problem printed, None on errors."""
    from ..siting import read_candidates

    if not path.is_file():
        raise DataError("File not found." if not path.exists() else "Not a file.", file=path,
                        fix="Pass a CSV or XLSX of candidate sites (id, lon, lat).")
    result = read_candidates(path.read_bytes(), name=path.name, dataset=dataset, kind=kind, datum=datum)
    for problem in sorted(result.problems, key=lambda p: p.severity != "error"):
        print(f"geo-coverage: {problem}", file=sys.stderr)
    return result.frame if result.ok else None


def cmd_optimize(args) -> int:
    from .. import io
    from .. import scenario as scenario_module
    from ..siting import propose_sites

    plan = load_plan(args.plan) if args.plan else default_plan()
    indicator = plan.indicator(args.indicator)
    dataset = load_dataset_arg(args)
    candidates = args.candidates
    if candidates != "grid" and not candidates.startswith("layer:"):
        candidates = _candidate_file(Path(candidates), dataset, kind=args.kind or indicator.layer, datum=args.datum)
        if candidates is None:
            return 2
    proposal = propose_sites(dataset, plan, indicator=indicator.id, kind=args.kind, new_sites=args.new_sites,
                             capacity=args.capacity, candidates=candidates, units=args.units,
                             model=args.model, spacing=args.spacing, time_limit=args.time_limit)
    solution = proposal.solution
    description = (f"{len(proposal.edits)} new {proposal.kind} sited by the {solution.model} model for "
                   f"'{indicator.id}' (objective {solution.objective:g}, coverage share "
                   f"{solution.coverage_share:.1%}, status {solution.status}, gap {solution.gap:.2%}).")
    scenario = scenario_module.scenario_from_edits(
        args.name or f"{indicator.name_zh}：新增{len(proposal.edits)}处", proposal.edits,
        description=description, base=str(Path(args.data).resolve()) if args.data else "default",
        plan=args.plan)
    text = scenario_module.scenario_to_yaml(scenario)
    summary = solution.to_dict()
    summary["existing"] = len(summary["existing"])  # a count: the ids of every open site are noise here
    print(json.dumps(summary, ensure_ascii=False), file=sys.stderr)
    if args.out:
        io.write_text(text, Path(args.out))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
