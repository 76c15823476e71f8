"""Monitoring the plan over time (plan §五): series of yearly snapshots, trajectories to the plan's
end year, early warnings, and the annual / mid-term / final assessment reports.

``series_from_datasets`` (or ``series_from_tables``) turns snapshots by year into one long table;
``trajectories`` judges it by the plan's monitoring rules; ``warnings`` ranks what is off course.
The reports (``geo_coverage.monitor.assess``) import python-docx and reportlab only when written.
"""

from .series import (
    SERIES_COLUMNS,
    LazyDatasets,
    check_year,
    datasets_from_dirs,
    parse_year_dirs,
    series_from_datasets,
    series_from_tables,
)
from .trajectory import (
    EXTRA_COLUMNS,
    MONITOR_COLUMNS,
    STATUSES,
    WARNING_STATUSES,
    rules_for,
    trajectories,
    warnings,
)

__all__ = [
    "SERIES_COLUMNS",
    "LazyDatasets",
    "check_year",
    "datasets_from_dirs",
    "parse_year_dirs",
    "series_from_datasets",
    "series_from_tables",
    "EXTRA_COLUMNS",
    "MONITOR_COLUMNS",
    "STATUSES",
    "WARNING_STATUSES",
    "rules_for",
    "trajectories",
    "warnings",
]
