"""Bringing a planner's own files in: parsing and validation on bytes and frames.

Every check returns a list of :class:`Problem` (it never stops at the first one), so a planner
sees every mistake in a file at once.  Disk access goes through :mod:`geo_coverage.io`; these
modules parse bytes and check frames, so the app's upload page calls the same functions on
uploaded bytes.

The entry points, each returning an :class:`ImportResult` (``frame``, ``problems``, ``report``):

* :func:`import_facilities` / :func:`parse_facilities` - a facility register (CSV/XLSX bytes)
  with lon/lat or WKT, headers in Chinese or English, any of UTF-8, UTF-8 with BOM, GBK, GB18030,
  coordinates in WGS84, GCJ-02 or BD-09 (converted to WGS84).
* :func:`import_boundaries` / :func:`check_boundaries` - unit outlines in any CRS.
* :func:`import_population` / :func:`join_population` - a population table joined by unit code.
* :func:`check_import` / :func:`import_folder` - every file of an import against a base folder;
  the folder written atomically.
* :func:`load_upload` - one uploaded file into a session's dataset (the app's Data tab).

One module per concern: ``problems`` (Problem, ImportResult), ``headers`` (alias tables, column
maps), ``tables`` (decoding, CSV/XLSX parsing), ``cells`` (numbers and codes), ``coordinates``
(extent checks, datum evidence), ``facilities``, ``boundaries``, ``population``, ``folder``,
``uploads``.
"""

from .boundaries import check_boundaries, import_boundaries
from .coordinates import datum_evidence
from .facilities import facilities_from_table, import_facilities, parse_facilities
from .folder import FacilityInput, check_import, import_folder
from .headers import BOUNDARY_HEADERS, FACILITY_HEADERS, parse_column_map
from .population import import_population, join_population
from .problems import SEVERITIES, ImportResult, Problem, guarded_read, has_errors
from .tables import decode_text, parse_table
from .uploads import REPLACE_SCOPES, UPLOAD_KINDS, datum_note, load_upload

__all__ = [
    "Problem",
    "ImportResult",
    "SEVERITIES",
    "FACILITY_HEADERS",
    "BOUNDARY_HEADERS",
    "UPLOAD_KINDS",
    "REPLACE_SCOPES",
    "datum_note",
    "decode_text",
    "parse_table",
    "parse_column_map",
    "parse_facilities",
    "facilities_from_table",
    "import_facilities",
    "check_boundaries",
    "import_boundaries",
    "join_population",
    "import_population",
    "FacilityInput",
    "check_import",
    "import_folder",
    "load_upload",
    "datum_evidence",
    "guarded_read",
    "has_errors",
]
