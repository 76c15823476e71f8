"""Road graphs: OSM XML and osmnx GraphML in, GraphML out.  osmnx (the ``osm`` extra) is imported
only inside these functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from .files import atomic_path

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["read_road_graph", "write_graphml"]


def read_road_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read a road graph file into a networkx MultiDiGraph: OSM XML (.osm, .xml) or osmnx GraphML.

    OSM XML is read with ``osmnx.graph_from_xml`` (offline) without simplification, keeping every
    component, so the graph is exactly the file's ways.

    Parameters
    ----------
    path
        The ``.osm`` / ``.xml`` or ``.graphml`` file.

    Returns
    -------
    networkx.MultiDiGraph
        The graph as osmnx builds it (node ``x``/``y``, edge ``length`` in metres).

    Raises
    ------
    DataError
        The file is missing, unreadable, of another format, or osmnx is not installed.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path of the road network.")
    try:
        import osmnx
    except ImportError:  # pragma: no cover - osmnx is an optional extra
        raise DataError("Reading road networks needs osmnx.", file=path,
                        fix="Install it: pip install 'geo-coverage[osm]'.") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".osm", ".xml"):
            return osmnx.graph_from_xml(path, simplify=False, retain_all=True)
        if suffix == ".graphml":
            return osmnx.load_graphml(path)
    except Exception as exc:  # osmnx and its XML/GraphML parsers raise many types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read the road network: {reason}", file=path,
                        fix="Pass OSM XML (.osm) or osmnx GraphML (.graphml).") from None
    raise DataError(f"Unknown road-network format '{suffix}'.", file=path,
                    fix="Use .osm / .xml (OSM XML), .graphml, or node and edge CSV files.")


def write_graphml(graph: nx.MultiDiGraph, target: str | Path) -> Path:
    """Save an osmnx graph as GraphML atomically; returns ``target``."""
    import osmnx

    with atomic_path(target, suffix=".graphml") as tmp:
        osmnx.save_graphml(graph, filepath=tmp)
    return Path(target)
