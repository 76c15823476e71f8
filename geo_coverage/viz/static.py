"""Static figures for print: maps and charts through one renderer (matplotlib + geopandas ``plot``).

The assessment reports and the app's "print map" both call these functions and get a matplotlib
``Figure`` (PNG bytes from :func:`to_png`, PDF bytes from :func:`to_pdf`).  :func:`coverage_map`
draws an indicator's choropleth with the web map's colours and legend classes, a scale bar, a north
arrow and a source note; :func:`coverage_sheet` composes it from a dataset, a plan and a coverage
table (title, scope, provenance), for the app's download buttons and ``geo-coverage map``.

Figures are built with ``matplotlib.figure.Figure`` (no ``pyplot``, no global state), so
Streamlit sessions can draw at once; Chinese labels use a CJK font found by fontconfig (Debian's
``fonts-noto-cjk``, installed by the Makefile), and PDFs embed WenQuanYi Micro Hei (TrueType).
"""

from __future__ import annotations

import io as _io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import source_class
from ..errors import DataError
from ..text import words
from .legend import NO_DATA_COLOUR, decimals_for, fill_colours, format_number, legend_classes

__all__ = [
    "STATUS_COLOURS",
    "CJK_FONTS",
    "status_map",
    "trend_panels",
    "coverage_map",
    "coverage_sheet",
    "source_lines",
    "to_png",
    "to_pdf",
]

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
        # TrueType/OpenType fonts embedded whole-glyph (Type 42 / CID), not as Type 3 drawings:
        # the PDF's Chinese text can be searched and copied.
        "pdf.fonttype": 42,
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
        # below the map, not on it: inside the axes the key hid the south-western units
        figure.legend(
            handles=[
                Patch(facecolor=STATUS_COLOURS[s], edgecolor="none", label=words.get(s, s))
                for s in present
            ],
            loc="outside lower center",
            ncols=max(len(present), 1),
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


# TrueType CJK fonts for PDF: matplotlib subsets Noto CJK's CFF outlines slowly (seconds per
# figure) and poppler flags the result; WenQuanYi Micro Hei (TrueType, as the reports' PDFs use)
# embeds quickly as a CID TrueType subset.
PDF_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def _pdf_rc() -> dict:
    """``_rc()`` with a TrueType CJK font first, registered with matplotlib by file (its font
    cache may predate the font's installation)."""
    from pathlib import Path

    from matplotlib import font_manager

    families = []
    for path in PDF_FONT_FILES:
        if Path(path).is_file():
            known = {f.fname for f in font_manager.fontManager.ttflist}
            if path not in known:
                font_manager.fontManager.addfont(path)
            families.append(font_manager.FontProperties(fname=path).get_name())
    rc = _rc()
    rc["font.sans-serif"] = [*families, *CJK_FONTS]
    return rc


def to_pdf(figure) -> bytes:
    """The figure as a one-page PDF with its fonts embedded (TrueType subsets: searchable Chinese
    text); no creation date in the file, so the same figure gives the same bytes."""
    import matplotlib

    buffer = _io.BytesIO()
    with matplotlib.rc_context(_pdf_rc()):
        figure.savefig(buffer, format="pdf", metadata={"Creator": None, "Producer": None,
                                                       "CreationDate": None})
    return buffer.getvalue()


# --- the coverage map for print -----------------------------------------------------------------

# The print map's words (the catalogue's "print" namespace, geo_coverage.text).
_PRINT_WORDS = {language: words("print", language) for language in ("zh", "en")}


def _words(language: str) -> dict:
    return _PRINT_WORDS["zh" if language == "zh" else "en"]


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) of about a fifth of ``span_m``."""
    raw = max(span_m / 5.0, 1.0)
    power = 10 ** np.floor(np.log10(raw))
    return float(max(step * power for step in (1, 2, 5) if step * power <= raw))


def _scale_bar(axes, *, language: str) -> None:
    """A two-segment scale bar in the lower right (the axes must be in a metric CRS)."""
    from matplotlib.patches import Rectangle

    words = _words(language)
    x0, x1 = axes.get_xlim()
    y0, y1 = axes.get_ylim()
    length = _nice_length(x1 - x0)
    height = (y1 - y0) * 0.012
    right, bottom = x1 - (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    left = right - length
    for index, colour in enumerate(("#222222", "white")):
        axes.add_patch(Rectangle((left + index * length / 2, bottom), length / 2, height,
                                 facecolor=colour, edgecolor="#222222", linewidth=0.6, zorder=5))
    in_km = length >= 1000
    unit = words["km"] if in_km else words["m"]

    def text(metres: float) -> str:
        return f"{metres / 1000:g}" if in_km else f"{metres:g}"

    for x, metres in ((left, 0.0), (left + length / 2, length / 2), (right, length)):
        axes.text(x, bottom + height * 1.6, text(metres), ha="center", va="bottom", fontsize=7,
                  zorder=5)
    axes.text(right + (x1 - x0) * 0.008, bottom + height / 2, unit, ha="left", va="center",
              fontsize=7, zorder=5)


def _north_arrow(axes, *, language: str) -> None:
    """An arrow pointing up (grid north of the projected CRS; within a degree of true north
    over a city in its UTM zone)."""
    axes.annotate("", xy=(0.95, 0.97), xytext=(0.95, 0.88), xycoords="axes fraction",
                  arrowprops={"arrowstyle": "-|>", "color": "#222222", "linewidth": 1.4,
                              "mutation_scale": 14}, zorder=5)
    axes.text(0.95, 0.865, _words(language)["north"], transform=axes.transAxes, ha="center",
              va="top", fontsize=10, zorder=5)


def coverage_map(
    units,
    rows: pd.DataFrame,
    indicator,
    *,
    language: str = "zh",
    title: str = "",
    subtitle: str = "",
    warning: str = "",
    note_lines: Sequence[str] = (),
    districts=None,
    labels: Mapping[str, str] | None = None,
    width_cm: float = 27.7,
    height_cm: float = 19.0,
):
    """An indicator's choropleth for print: the web map's value ÷ target colours and legend
    classes, district outlines, a scale bar, a north arrow and a source note.

    Parameters
    ----------
    units
        Unit outlines (GeoDataFrame indexed by code) in a projected CRS in metres: the scale bar
        measures in it.
    rows
        Coverage-table rows of ``indicator`` for these units (``unit_code``, ``value``,
        ``target``, ``comparator``, ``status``); a unit without a row is drawn as no data.
    indicator
        The plan's :class:`~geo_coverage.plan.Indicator` (name, unit, comparator, target).
    title, subtitle
        Written above the map.
    warning
        A line in red under the title (e.g. that the facilities are synthetic).
    note_lines
        The source note, one line each, written under the map.
    districts
        District outlines drawn on top (same CRS), or ``None``.
    labels
        ``unit code -> text`` written at each unit's representative point.
    """
    import matplotlib
    from matplotlib.patches import Patch

    if units.crs is None or not units.crs.is_projected:
        raise ValueError("coverage_map draws units in a projected CRS in metres (the scale bar "
                         "measures in it); reproject them first, e.g. units.to_crs(dataset.crs).")
    words = _words(language)
    level = str(rows["level"].iloc[0]) if len(rows) and "level" in rows else "street"
    # Detail finer than a tenth of a millimetre on paper is not drawn (and would make the PDF
    # heavy and slow): simplify to 1/4000 of the map's span.
    xmin, ymin, xmax, ymax = units.total_bounds
    tolerance = max(xmax - xmin, ymax - ymin) / 4000.0
    units = units.set_geometry(units.geometry.simplify(tolerance, preserve_topology=True))
    if districts is not None and len(districts):
        districts = districts.set_geometry(districts.geometry.simplify(tolerance,
                                                                       preserve_topology=True))
    codes = units.index.astype(str)
    ordered = rows.assign(unit_code=rows["unit_code"].astype(str)).drop_duplicates("unit_code")
    ordered = ordered.set_index("unit_code").reindex(codes)
    ordered["status"] = ordered["status"].fillna("no_data")
    ordered["comparator"] = ordered["comparator"].fillna(indicator.comparator)
    colours = fill_colours(ordered.reset_index(drop=True))
    target = float(indicator.target_at(level))
    with matplotlib.rc_context(_rc()):
        figure = _figure(width_cm, height_cm)
        grid = figure.add_gridspec(2, 2, width_ratios=(3.3, 1.0), height_ratios=(1.0, 0.0001))
        axes = figure.add_subplot(grid[0, 0])
        key = figure.add_subplot(grid[0, 1])
        no_data = ordered["status"].to_numpy() == "no_data"
        units.plot(ax=axes, color=colours, edgecolor="white", linewidth=0.25)
        if no_data.any():  # grey with a dashed outline, as on the web map
            units[no_data].boundary.plot(ax=axes, color="#777777", linewidth=0.4,
                                         linestyle=(0, (2, 2)))
        if districts is not None and len(districts):
            districts.boundary.plot(ax=axes, color="#333333", linewidth=0.9)
        if labels:  # names only where they fit (units at least ~4 % of the map across)
            points = units.representative_point()
            roomy = np.sqrt(units.area.to_numpy()) >= 0.04 * max(xmax - xmin, ymax - ymin)
            for (code, point), fits in zip(points.items(), roomy, strict=True):
                if str(code) in labels and (fits or len(units) <= 20):
                    axes.annotate(labels[str(code)], (point.x, point.y), ha="center",
                                  va="center", fontsize=6, color="#222222")
        axes.set_aspect("equal")
        axes.set_axis_off()
        pad_x, pad_y = (xmax - xmin) * 0.03, (ymax - ymin) * 0.03
        axes.set_xlim(xmin - pad_x, xmax + pad_x)
        axes.set_ylim(ymin - pad_y * 4, ymax + pad_y)  # room for the scale bar below
        _scale_bar(axes, language=language)
        _north_arrow(axes, language=language)

        unit = indicator.unit_zh if language == "zh" else indicator.unit_en
        percent = "%" if unit == "%" else ""
        unit_suffix = "" if unit in ("", "%") else f" {unit}"
        comparator = {">=": "≥", "<=": "≤"}.get(indicator.comparator, indicator.comparator)

        handles: list[Any] = [Patch(facecolor=colour, edgecolor="#888888", linewidth=0.5, label=text)
                              for colour, text in reversed(legend_classes(indicator, target,
                                                                          language=language))]
        handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#555555", linestyle="--",
                             linewidth=0.5, label=words["no_data"]))
        if districts is not None and len(districts):
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], color="#333333", linewidth=0.9,
                                  label=words["districts"]))
        key.set_axis_off()
        amount = format_number(target, language=language, digits=decimals_for(indicator))
        target_text = f"{words['target']} {comparator} {amount}{percent}{unit_suffix}"
        key.legend(handles=handles, loc="upper left", frameon=False, fontsize=8,
                   title=f"{words['legend']}\n{target_text}\n{words['ratio']}",
                   title_fontsize=8.5, alignment="left")
        if title:
            figure.suptitle(title, fontsize=14)
        if subtitle or warning:
            axes.set_title(subtitle, fontsize=9, color="#333333", loc="left")
        if warning:
            axes.set_title(warning, fontsize=9, color="#b2182b", loc="right")
        if note_lines:
            note = figure.add_subplot(grid[1, :])
            note.set_axis_off()
            note.text(0.0, 1.0, "\n".join(note_lines), transform=note.transAxes, ha="left",
                      va="top", fontsize=7, color="#333333", linespacing=1.5)
            figure.get_layout_engine().set(h_pad=0.04)
            grid.set_height_ratios((1.0, 0.035 * (len(note_lines) + 1)))
    return figure


def source_lines(dataset, plan, indicator, level: str, *, language: str = "zh",
                 date: str | None = None) -> list[str]:
    """The source note of a printed map, one line per source: where the level's population, the
    indicator's facilities and the outlines come from (synthetic data said so in words), and the
    date and coordinate system.  The heading is the first line."""
    import datetime

    words = _words(language)
    sep = words["separator"]
    level_name = words["level"].get(level, level)
    lines = [words["sources"]]
    units = dataset.units.get(level)
    uses_population = bool(indicator.population) or indicator.type in (
        "ratio", "access", "accessible_ratio")
    if units is not None and "pop_source" in units and uses_population:
        classes = sorted({source_class(v) for v in units["pop_source"].dropna().astype(str)})
        if classes:
            lines.append(words["population"].format(
                level=level_name, what=sep.join(words["class"].get(c, c) for c in classes)))
    layer = dataset.layer(indicator.layer)
    kind = plan.kinds.get(indicator.layer)
    kind_name = (kind.name_zh if language == "zh" else kind.name_en) if kind else indicator.layer
    if layer is not None and "source" in layer:
        counts = layer["source"].astype(str).map(source_class).value_counts()
        parts = [words["class"].get(c, c) + (f" ({n:,})" if len(counts) > 1 else "")
                 for c, n in counts.items()]
        lines.append(words["facilities"].format(kind=kind_name, what=sep.join(parts)))
    if units is not None and "outline_quality" in units:
        qualities = list(units["outline_quality"].dropna().astype(str).unique())
        if qualities:
            what = sep.join(words["quality"].get(q, q) for q in sorted(qualities))
            lines.append(words["outlines"].format(level=level_name, what=what))
    from pyproj import CRS

    crs = CRS.from_user_input(dataset.crs).name
    lines.append(words["made"].format(date=date or datetime.date.today().isoformat(), crs=crs))
    return lines


def coverage_sheet(dataset, plan, table: pd.DataFrame, *, indicator: str, level: str,
                   language: str = "zh", district: str | None = None,
                   scenario: str | None = None, date: str | None = None,
                   width_cm: float = 27.7, height_cm: float = 19.0):
    """The printed coverage map of one indicator at one level (optionally one district's units),
    titled and with its source note, from a coverage table.

    Parameters
    ----------
    dataset, plan, table
        The data, the plan and its coverage table (:func:`geo_coverage.coverage.evaluate`, or a
        scenario's table).
    indicator, level
        What to draw.
    district
        A district code: only its units, zoomed to it.
    scenario
        A scenario's name, written in the subtitle when the table is a scenario's.
    date
        The date in the source note (today by default).
    """

    spec = plan.indicator(indicator)
    words = _words(language)
    units = dataset.units_at(level)
    districts = dataset.units.get("district")
    names_column = "name_en" if language != "zh" else "name"
    scope = words["city"]
    if district:
        district = str(district)
        if districts is None or district not in districts.index:
            raise DataError(f"No district '{district}' in the dataset '{dataset.name}'.",
                            fix="Give a district code listed by "
                                "`geo-coverage report --level district`.")
        keep = (units.index.astype(str) == district) if level == "district" else \
            (units["parent_code"].astype(str) == district).to_numpy()
        units = units[keep]
        districts = districts.loc[[district]]
        scope = _name(districts.iloc[0], names_column)
    rows = table[(table["level"] == level) & (table["indicator"] == spec.id)]
    rows = rows[rows["unit_code"].astype(str).isin(units.index.astype(str))]
    if rows.empty:
        raise DataError(f"The coverage table has no '{spec.id}' rows at level '{level}'.",
                        fix="Choose a level the indicator is evaluated at "
                            "(see `geo-coverage indicators`).")
    labels = None
    if level == "district" or district:  # a whole city's 331 street names would not fit
        labels = {str(code): _name(row, names_column) for code, row in units.iterrows()}
    name = spec.name_zh if language == "zh" else spec.name_en
    title = f"{name}（{spec.clause}）" if language == "zh" else f"{name} ({spec.clause})"
    subtitle = " · ".join(part for part in (
        scope, words["level"].get(level, level),
        f"{words['scenario']}: {scenario}" if scenario else "") if part)
    layer = dataset.layer(spec.layer)
    synthetic = layer is not None and "source" in layer and bool(
        layer["source"].astype(str).map(source_class).eq("synthetic").any())
    return coverage_map(units, rows, spec, language=language, title=title, subtitle=subtitle,
                        warning=words["synthetic"] if synthetic else "",
                        note_lines=source_lines(dataset, plan, spec, level, language=language,
                                                date=date),
                        districts=districts if level == "street" else None, labels=labels,
                        width_cm=width_cm, height_cm=height_cm)


def _name(row, column: str) -> str:
    value = row.get(column) if hasattr(row, "get") else None
    if isinstance(value, str) and value.strip():
        return value
    return str(row.get("name", ""))
