"""Verbs ``costs`` and ``access``: bring-your-own network or travel-time matrix.

``costs`` turns a road network and two point files into a long origin–destination table;
``access`` turns a demand file, a supply file and any such table (from ``costs`` or another
router) into one 2SFCA / E2SFCA accessibility value per demand id.

The parsers need only the plan's names; numpy, pandas, scipy and pyproj load in the handlers.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError
from ..plan import DECAYS, DEFAULT_SPEED_KMH
from .report import emit


def register(subparsers) -> None:
    p = subparsers.add_parser("costs", help="origin–destination travel costs on a road network")
    p.add_argument("--network", metavar="FILE", required=True,
                   help="OSM XML (.osm), osmnx GraphML (.graphml), or a node CSV (id, lon, lat) with --edges")
    p.add_argument("--edges", metavar="CSV", help="edge CSV (u, v[, length, travel_time, oneway]) for a node CSV")
    p.add_argument("--origins", metavar="CSV", required=True, help="id, lon, lat (WGS84)")
    p.add_argument("--destinations", metavar="CSV", required=True, help="id, lon, lat (WGS84)")
    p.add_argument("--max-cost", type=float, required=True, metavar="X",
                   help="minutes (--metric time, default) or metres (--metric length)")
    p.add_argument("--mode", choices=("walk", "drive"), default="walk")
    p.add_argument("--metric", choices=("time", "length"), default="time")
    p.add_argument("--walk-speed", type=float, default=DEFAULT_SPEED_KMH["walk"], metavar="KMH")
    p.add_argument("--drive-speed", type=float, default=DEFAULT_SPEED_KMH["drive"], metavar="KMH")
    p.add_argument("--out", metavar="CSV", help="write here (default: standard output)")
    p.set_defaults(handler=cmd_costs)

    p = subparsers.add_parser("access", help="2SFCA / E2SFCA accessibility from your own cost table")
    p.add_argument("--method", choices=("2sfca", "e2sfca"), default="2sfca")
    p.add_argument("--demand", metavar="CSV", required=True)
    p.add_argument("--supply", metavar="CSV", required=True)
    p.add_argument("--costs", metavar="CSV", required=True, help="long table: origin, destination, cost")
    p.add_argument("--max-cost", type=float, required=True, metavar="R")
    p.add_argument("--decay", choices=DECAYS,
                   help="distance decay (default: step for 2sfca, stepped thirds for e2sfca)")
    p.add_argument("--demand-id", default="id", metavar="COL")
    p.add_argument("--demand-value", default="population", metavar="COL")
    p.add_argument("--supply-id", default="id", metavar="COL")
    p.add_argument("--supply-value", default="supply", metavar="COL")
    p.add_argument("--cost-origin", default="origin_id", metavar="COL")
    p.add_argument("--cost-destination", default="destination_id", metavar="COL")
    p.add_argument("--cost-value", default="cost", metavar="COL")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", metavar="PATH", help="write here (default: standard output)")
    p.set_defaults(handler=cmd_access)


def _points(path: str, crs):
    """Ids (text) and metric coordinates of an ``id, lon, lat`` file."""
    import numpy as np
    from pyproj import Transformer

    from .. import io
    from .._validate import checked_numbers

    frame = io.read_csv(path)
    for column in ("id", "lon", "lat"):
        if column not in frame:
            raise DataError(f"Missing column '{column}'.", file=path, column=column,
                            fix="Point files need id, lon, lat (WGS84 degrees).")
    values = {column: checked_numbers(frame[column].str.strip(), file=path, column=column, low=low, high=high,
                                      message=f"'{{value}}' is not a {column} in degrees.",
                                      fix="Use WGS84 decimal degrees.", shown=frame[column])
              for column, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0))}
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(values["lon"], values["lat"])
    return frame["id"].astype(str).to_numpy(dtype=object), np.column_stack([x, y])


def cmd_costs(args) -> int:
    from .. import io
    from ..access import check_max_cost
    from ..catchment import network_costs, network_from_csv, network_from_file

    network_path = Path(args.network)
    if network_path.suffix.lower() == ".csv":
        if not args.edges:
            raise DataError("A node CSV needs its edges.", file=network_path, fix="Add --edges EDGES.csv.")
        network = network_from_csv(network_path, args.edges)
    else:
        network = network_from_file(network_path)
    check_max_cost(args.max_cost)
    origin_ids, origin_xy = _points(args.origins, network.crs)
    destination_ids, destination_xy = _points(args.destinations, network.crs)
    speeds = {"walk": args.walk_speed, "drive": args.drive_speed}
    table = network_costs(network, origin_xy, destination_xy, max_cost=args.max_cost,
                          weight=args.metric, mode=args.mode, speed_kmh=speeds)
    frame = table.to_frame(origin_ids, destination_ids).sort_values(
        ["origin_id", "destination_id"], kind="stable")
    emit(io.dataframe_to_csv_bytes(frame), args.out)
    return 0


def cmd_access(args) -> int:
    from .. import io
    from ..access import accessibility_from_tables

    frames = {name: io.read_csv(getattr(args, name)) for name in ("demand", "supply", "costs")}
    result = accessibility_from_tables(
        frames["demand"], frames["supply"], frames["costs"], method=args.method,
        max_cost=args.max_cost, decay=args.decay, demand_id=args.demand_id,
        demand_value=args.demand_value, supply_id=args.supply_id, supply_value=args.supply_value,
        cost_origin=args.cost_origin, cost_destination=args.cost_destination,
        cost_value=args.cost_value,
        origins={name: getattr(args, name) for name in ("demand", "supply", "costs")})
    if args.format == "json":
        records = [{"id": i, "accessibility": float(v)}
                   for i, v in zip(result["id"], result["accessibility"])]
        data = json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        data = io.dataframe_to_csv_bytes(result)
    emit(data, args.out)
    return 0
