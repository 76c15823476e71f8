"""Static figures for print: maps and charts through one renderer (matplotlib + geopandas ``plot``).

The assessment reports and the app's "print map" both call these functions and get a matplotlib
``Figure`` (or PNG bytes from :func:`to_png`).  Figures are built with ``matplotlib.figure.Figure``
(no ``pyplot``, no global state), so Streamlit sessions can draw at once; Chinese labels use a CJK
font found by fontconfig (Debian's ``fonts-noto-cjk``, installed by the Makefile).
"""

from __future__ import annotations

import io as _io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["STATUS_COLOURS", "CJK_FONTS", "status_map", "trend_panels", "to_png"]

# Traffic lights for monitoring statuses (ColorBrewer RdYlGn, grey for no data).
STATUS_COLOURS = {
    "met": "#1a9850",
    "on_track": "#91cf60",
    "at_risk": "#fc8d59",
    "off_track": "#d73027",
    "no_data": "#d9d9d9",
}
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans CJK JP", "DejaVu Sans")


def _rc() -> dict:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(CJK_FONTS),
        "axes.unicode_minus": False,
        "font.size": 9,
    }


def _figure(width_cm: float, height_cm: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=100, layout="constrained")


def status_map(
    units,
    statuses: Mapping[str, str],
    *,
    labels: Mapping[str, str] | None = None,
    status_words: Mapping[str, str] | None = None,
    title: str = "",
    highlight: str | None = None,
    width_cm: float = 16.0,
    height_cm: float = 13.0,
):
    """A map of ``units`` (GeoDataFrame indexed by code) coloured by status.

    Parameters
    ----------
    units
        Unit outlines in any CRS (drawn in their own).
    statuses
        ``unit code -> status`` (``met``, ``on_track``, ``at_risk``, ``off_track``, ``no_data``);
        units without one are drawn as no data.
    labels
        ``unit code -> text`` written at each unit's representative point (e.g. district names).
    status_words
        ``status -> legend text`` (the ids themselves by default).
    highlight
        A unit code outlined in black (the district a report is about).
    """
    import matplotlib
    from matplotlib.patches import Patch

    with matplotlib.rc_context(_rc()):
        figure = _figure(width_cm, height_cm)
        axes = figure.add_subplot()
        status = pd.Series({str(k): v for k, v in statuses.items()}).reindex(
            units.index.astype(str)
        )
        status = status.fillna("no_data")
        colours = status.map(STATUS_COLOURS).fillna(STATUS_COLOURS["no_data"]).to_numpy()
        units.plot(ax=axes, color=colours, edgecolor="white", linewidth=0.4)
        if highlight is not None and highlight in units.index:
            units.loc[[highlight]].boundary.plot(ax=axes, color="black", linewidth=1.4)
        if labels:
            points = units.representative_point()
            for code, point in points.items():
                if str(code) in labels:
                    axes.annotate(
                        labels[str(code)],
                        (point.x, point.y),
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="#222222",
                    )
        words = status_words or {}
        present = [s for s in STATUS_COLOURS if s in set(status)]
        axes.legend(
            handles=[
                Patch(facecolor=STATUS_COLOURS[s], edgecolor="none", label=words.get(s, s))
                for s in present
            ],
            loc="lower left",
            frameon=False,
            fontsize=8,
        )
        axes.set_axis_off()
        axes.set_aspect("equal")
        if title:
            axes.set_title(title, fontsize=10)
    return figure


def trend_panels(
    panels: Sequence[Mapping],
    *,
    end_year: int,
    target_label: str = "target",
    projection_label: str = "projection",
    columns: int = 2,
    width_cm: float = 16.0,
    panel_height_cm: float = 5.0,
):
    """Small multiples: each panel a line of values by year, the target (dotted) and the
    least-squares projection to ``end_year`` (dashed).

    Parameters
    ----------
    panels
        Mappings with ``title``, ``years``, ``values``, ``target`` and optionally ``slope`` and
        ``intercept_at`` (the fitted line's value at ``years[-1]``) for the projection, ``unit``.
    """
    import matplotlib

    with matplotlib.rc_context(_rc()):
        rows = max(1, int(np.ceil(len(panels) / columns)))
        figure = _figure(width_cm, panel_height_cm * rows)
        grid = figure.subplots(rows, columns, squeeze=False)
        for axes in grid.ravel()[len(panels) :]:
            axes.set_axis_off()
        for axes, panel in zip(grid.ravel(), panels, strict=False):
            years = np.asarray(panel["years"], dtype=float)
            values = np.asarray(panel["values"], dtype=float)
            known = ~np.isnan(values)
            axes.plot(years[known], values[known], marker="o", color="#2c7fb8", linewidth=1.6)
            target = panel.get("target")
            first_year = years.min() if len(years) else end_year
            if target is not None and np.isfinite(target):
                axes.axhline(target, color="#555555", linestyle=":", linewidth=1.0)
                axes.annotate(
                    f"{target_label} {target:g}",
                    (first_year, target),
                    fontsize=7,
                    color="#555555",
                    va="bottom",
                )
            slope, at_last = panel.get("slope"), panel.get("fitted_at_last")
            if slope is not None and np.isfinite(slope) and known.any():
                last_year = years[known].max()
                line_years = np.array([years[known].min(), float(end_year)])
                line = at_last + slope * (line_years - last_year)
                axes.plot(line_years, line, linestyle="--", color="#e34a33", linewidth=1.2)
                axes.plot([end_year], [line[-1]], marker="D", color="#e34a33", markersize=4)
            axes.set_title(panel.get("title", ""), fontsize=8.5)
            axes.set_xlim(first_year - 0.3, end_year + 0.3)
            axes.set_xticks(range(int(first_year), int(end_year) + 1))
            axes.tick_params(labelsize=7)
            axes.grid(alpha=0.25)
            if panel.get("unit"):
                axes.set_ylabel(panel["unit"], fontsize=7)
        if panels:
            from matplotlib.lines import Line2D

            figure.legend(
                handles=[
                    Line2D([], [], color="#2c7fb8", marker="o", label=panel_label(panels)),
                    Line2D([], [], color="#555555", linestyle=":", label=target_label),
                    Line2D([], [], color="#e34a33", linestyle="--", label=projection_label),
                ],
                loc="outside lower center",
                ncols=3,
                frameon=False,
                fontsize=7.5,
            )
    return figure


def panel_label(panels: Sequence[Mapping]) -> str:
    return str(panels[0].get("series_label", "value"))


def to_png(figure, *, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (no timestamp in the file: the same figure, the same bytes)."""
    import matplotlib

    buffer = _io.BytesIO()
    with matplotlib.rc_context(_rc()):  # fonts are looked up when the text is drawn
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
