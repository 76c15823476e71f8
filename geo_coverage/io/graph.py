"""Road graphs: OSM XML and osmnx GraphML in, GraphML out.  osmnx (the ``osm`` extra) is imported
only inside these functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._compat import require
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
    _refuse_entities(path)
    osmnx = require("osmnx", message="Reading road networks needs osmnx.", file=path, error=DataError,
                    fix="Install it: pip install 'geo-coverage[osm]'.")
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


def _refuse_entities(path: Path) -> None:
    """OSM XML and GraphML never declare entities; a file that does is refused before any XML
    parser sees it (entity expansion - "billion laughs" - and external entities naming local
    files).  The document type declaration comes before the root element, so the start of the
    file is enough."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path) from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 XML: look at its characters
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    if b"<!ENTITY" in head.upper():
        raise DataError("The file declares XML entities (<!ENTITY ...>); road networks never need them, and "
                        "expanding them can exhaust memory or read local files.", file=path,
                        fix="Export the network again from OpenStreetMap or osmnx (plain OSM XML / GraphML).")
