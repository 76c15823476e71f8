"""Verb ``map``: the coverage map of one indicator for print, as PNG or PDF.

The same renderer as the app's download buttons and the assessment reports
(:func:`geo_coverage.viz.static.coverage_sheet`): title, legend, scale bar, north arrow and a
source note saying where each figure comes from (synthetic data said so).  Heavy modules are
imported in the handler, so ``geo-coverage --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

FORMATS = ("png", "pdf")


def register(subparsers) -> None:
    from .report import add_access_options, add_data_options

    p = subparsers.add_parser("map", help="print the coverage map of one indicator (.png or .pdf)")
    p.add_argument("--indicator", metavar="ID", required=True, help="indicator id")
    p.add_argument("--level", choices=("district", "street"), default="street")
    p.add_argument("--district", metavar="CODE", help="only this district's units, zoomed to it")
    p.add_argument("--scenario", metavar="FILE", help="map the table after this scenario (YAML)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="language of the title, legend and source note (default zh)")
    add_data_options(p)
    add_access_options(p)
    p.add_argument("--format", choices=FORMATS, help="file format (default: from the --out suffix)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (default 200)")
    p.add_argument("--out", metavar="PATH", required=True, help="PATH.png | PATH.pdf")
    p.set_defaults(handler=cmd_map)


def cmd_map(args) -> int:
    from .. import io
    from ..coverage import evaluate
    from ..errors import DataError
    from ..viz import static
    from .report import access_settings_from_args, load_dataset_arg, load_plan_arg

    fmt = (args.format or Path(args.out).suffix.lower().lstrip(".")).lower()
    if fmt not in FORMATS:
        raise DataError(f"Cannot tell the format from '{args.out}'.",
                        fix="Use a .png or .pdf file name, or --format png|pdf.")
    if not 50 <= args.dpi <= 600:
        raise DataError(f"--dpi {args.dpi} is out of range.",
                        fix="Give 50 to 600 (200 prints well).")
    plan = load_plan_arg(args)
    indicator = plan.indicator(args.indicator)
    if args.level not in indicator.levels:
        raise DataError(f"'{indicator.id}' is not evaluated at level '{args.level}'.",
                        fix=f"Use --level {' or '.join(indicator.levels)}.")
    dataset = load_dataset_arg(args)
    scenario_name = None
    targets = None
    if args.scenario:
        from ..scenario import apply, load_scenario

        scenario = load_scenario(args.scenario)
        dataset = apply(scenario, dataset, plan)
        scenario_name, targets = scenario.name, scenario.targets
    table = evaluate(dataset, plan, levels=[args.level], indicators=[indicator.id],
                     access_settings=access_settings_from_args(args, dataset, plan),
                     target_overrides=targets)
    figure = static.coverage_sheet(dataset, plan, table, indicator=indicator.id, level=args.level,
                                   language=args.lang, district=args.district,
                                   scenario=scenario_name)
    data = static.to_png(figure, dpi=args.dpi) if fmt == "png" else static.to_pdf(figure)
    io.write_bytes(data, Path(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
