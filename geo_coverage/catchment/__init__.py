"""Travel costs between demand points and facilities, kept sparse.

Two ways to measure a trip:

* **Straight line** with a detour factor (and a speed, for minutes): one KD-tree query for all
  pairs within reach (:func:`straight_line_costs`), or the nearest facility of every point
  (:func:`nearest_distance`, :func:`covered_by_any`).
* **Road network** (:class:`RoadNetwork`, compact CSR arrays in a metric CRS) loaded from OSM XML,
  osmnx GraphML or node/edge CSV files.  Points are snapped to their nearest node once (the snap
  distance is walked); cost-bounded shortest paths run from many sources at once with
  ``scipy.sparse.csgraph.dijkstra(limit=…, indices=…)`` on small spatial tiles of the graph, so
  a 15-minute catchment never pays for the whole city.

Costs come back as a :class:`CostTable`: long form (origin, destination, cost), only pairs within
the limit.

``costs``     :class:`CostTable` and straight-line reach (KD-trees)
``network``   :class:`RoadNetwork` and its loaders (graphs, OSM XML / GraphML, CSV)
``paths``     tiled, cost-bounded Dijkstra and network costs between points
"""

from .costs import WEIGHTS, CostTable, covered_by_any, nearest_distance, straight_line_costs
from .network import RoadNetwork, network_from_csv, network_from_file, network_from_graph
from .paths import bounded_shortest_paths, network_costs, network_nearest_cost

__all__ = [
    "CostTable",
    "RoadNetwork",
    "straight_line_costs",
    "nearest_distance",
    "covered_by_any",
    "network_costs",
    "network_nearest_cost",
    "network_from_graph",
    "network_from_file",
    "network_from_csv",
    "bounded_shortest_paths",
    "WEIGHTS",
]
