"""Verb ``optimize``: solve a siting model on any instance a planner brings as three CSV tables.

``--demand`` has an id and a weight per demand point, ``--candidates`` an id per candidate site,
``--costs`` one row per demand–candidate pair (pairs that are absent cannot serve each other).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from ..errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..optimize import Solution
    from ..optimize.base import SitingModel

# The models' names, so that --help need not load them (scipy, highspy): their classes load only
# when one is solved.
MODEL_NAMES = ("lscp", "mclp", "pmedian", "pcenter")


def _model(name: str) -> type[SitingModel]:
    from ..optimize import LSCP, MCLP, PCenter, PMedian

    models: dict[str, type[SitingModel]] = {
        "lscp": LSCP,
        "mclp": MCLP,
        "pmedian": PMedian,
        "pcenter": PCenter,
    }
    return models[name]


def register(subparsers) -> None:
    """Add the ``optimize`` verb to the command's subparsers.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser(
        "optimize",
        help="best sites for new facilities (set cover, max coverage, p-median, p-centre)",
        description="Solve a siting model on HiGHS from CSV tables of demand, candidates and "
        "costs.",
    )
    p.add_argument(
        "--model",
        choices=MODEL_NAMES,
        required=True,
        help="lscp: fewest sites covering all demand within --max-cost; mclp: best "
        "--facilities sites for coverage; pmedian: least total weighted cost; "
        "pcenter: least largest cost",
    )
    p.add_argument("--demand", metavar="CSV", required=True, help="demand points: id and weight")
    p.add_argument("--candidates", metavar="CSV", required=True, help="candidate sites: id")
    p.add_argument("--costs", metavar="CSV", required=True, help="pairs: origin, destination, cost")
    p.add_argument(
        "--max-cost", type=float, metavar="R", help="service radius (needed by lscp and mclp)"
    )
    p.add_argument(
        "--facilities", type=int, metavar="P", help="number of new sites (mclp, pmedian, pcenter)"
    )
    p.add_argument(
        "--existing",
        nargs="+",
        action="extend",
        metavar="ID",
        help="candidate ids that are already open",
    )
    p.add_argument(
        "--coverage-target",
        type=float,
        default=1.0,
        metavar="SHARE",
        help="lscp: share of reachable demand weight to cover (default 1)",
    )
    _add_column_options(p)
    _add_solver_and_output_options(p)
    p.set_defaults(handler=cmd_optimize)


def _add_column_options(p) -> None:
    """Which columns of the three tables hold the ids, weights and costs."""
    p.add_argument("--demand-id", default="id", metavar="COL", help="demand id column (default id)")
    p.add_argument(
        "--demand-weight",
        metavar="COL",
        help="demand weight column (default: every demand point weighs 1)",
    )
    p.add_argument(
        "--candidate-id", default="id", metavar="COL", help="candidate id column (default id)"
    )
    p.add_argument(
        "--cost-origin",
        default="origin_id",
        metavar="COL",
        help="cost table demand id column (default origin_id, as `costs` writes)",
    )
    p.add_argument(
        "--cost-destination",
        default="destination_id",
        metavar="COL",
        help="cost table candidate id column (default destination_id)",
    )
    p.add_argument("--cost-value", default="cost", metavar="COL", help="cost column")


def _add_solver_and_output_options(p) -> None:
    """HiGHS's limits and what is written where."""
    p.add_argument(
        "--time-limit", type=float, metavar="S", help="stop after S seconds with the best found"
    )
    p.add_argument(
        "--mip-gap",
        type=float,
        default=1e-4,
        metavar="GAP",
        help="relative optimality gap at which to stop (default 1e-4)",
    )
    p.add_argument(
        "--format",
        choices=("json", "csv"),
        default="json",
        help="json: summary; csv: one row per chosen site",
    )
    p.add_argument("--out", metavar="PATH", help="write to a file instead of standard output")


def _column(frame: pd.DataFrame, column: str, *, file, option: str) -> pd.Series:
    from .._validate import text_column

    return text_column(frame, column, file=file, fix=f"Name the right column with {option}.")


def _ids(frame: pd.DataFrame, column: str, *, file, option: str) -> list[str]:
    from .._validate import check_ids

    ids = _column(frame, column, file=file, option=option)
    check_ids(ids, file=file, column=column, empty="An id is empty.", empty_fix="Give every row an id.",
              repeated="The id '{value}' appears twice.", repeated_fix="Make ids unique.")
    return ids.tolist()


def _weights(frame: pd.DataFrame, column: str | None, *, file) -> np.ndarray | None:
    from .._validate import checked_numbers

    if column is None:
        return None
    text = _column(frame, column, file=file, option="--demand-weight")
    return checked_numbers(text, file=file, column=column, message="The weight '{value}' is not a number ≥ 0.",
                           fix="Give weights as plain numbers (0 if none).")


def _check_options(args) -> None:
    if args.model in ("lscp", "mclp") and args.max_cost is None:
        raise DataError(
            f"--max-cost is required for --model {args.model}.", fix="Add --max-cost R."
        )
    if args.model != "lscp" and args.facilities is None:
        raise DataError(
            f"--facilities is required for --model {args.model}.", fix="Add --facilities P."
        )


def cmd_optimize(args) -> int:
    """Read the three tables, solve the model, write its summary (JSON) or chosen sites (CSV).

    Parameters
    ----------
    args
        The parsed command line (see :func:`register`).

    Returns
    -------
    int
        0; bad input raises :class:`~geo_coverage.errors.DataError`, which the command prints
        on one line with exit code 2.
    """
    from .. import io
    from ..optimize import cost_pairs_from_table

    _check_options(args)
    demand = io.read_csv(args.demand)
    candidates = io.read_csv(args.candidates)
    costs = io.read_csv(args.costs)
    demand_ids = _ids(demand, args.demand_id, file=args.demand, option="--demand-id")
    candidate_ids = _ids(
        candidates, args.candidate_id, file=args.candidates, option="--candidate-id"
    )
    weights = _weights(demand, args.demand_weight, file=args.demand)
    pairs = cost_pairs_from_table(
        costs,
        demand_ids=demand_ids,
        candidate_ids=candidate_ids,
        origin_column=args.cost_origin,
        destination_column=args.cost_destination,
        cost_column=args.cost_value,
        file=args.costs,
    )
    options = {
        "max_cost": args.max_cost,
        "existing": args.existing,
        "demand_ids": demand_ids,
        "candidate_ids": candidate_ids,
    }
    if args.model == "lscp":
        options["coverage_target"] = args.coverage_target
    else:
        options["facilities"] = args.facilities
    model = _model(args.model).from_cost_matrix(pairs, weights, **options)
    solution = model.solve(time_limit=args.time_limit, mip_gap=args.mip_gap)
    if args.format == "json":
        text = json.dumps(solution.to_dict(), ensure_ascii=False, indent=2) + "\n"
        if args.out:
            io.write_text(text, args.out)
        else:
            sys.stdout.write(text)
        return 0
    frame = _sites_table(solution)
    if args.out:
        io.write_csv(frame, args.out)
    else:
        sys.stdout.write(io.neutralise_formulas(frame).to_csv(index=False))
    return 0


def _sites_table(solution: Solution) -> pd.DataFrame:
    """One row per chosen site with the demand it serves (each demand at its nearest open site)."""
    import pandas as pd

    assignment = solution.assignment
    served = (
        assignment.groupby("candidate_id")["demand_id"].count()
        if assignment is not None
        else pd.Series()
    )
    frame = pd.DataFrame(
        {"model": solution.model, "candidate_id": list(solution.selected), "status": "new"}
    )
    frame = pd.concat(
        [
            frame,
            pd.DataFrame(
                {
                    "model": solution.model,
                    "candidate_id": list(solution.existing),
                    "status": "existing",
                }
            ),
        ],
        ignore_index=True,
    )
    frame["demand_served"] = frame["candidate_id"].map(served).fillna(0).astype(int)
    return frame
