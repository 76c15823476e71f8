"""Numbers, colours and labels of the maps: the value ÷ target classes, the legend and tooltips.

Colours follow the gap relative to the target: the ratio value ÷ target (target ÷ value for upper
limits) on a diverging red–blue scale centred on 1, so red units miss the plan and blue ones meet
it; units with no data are grey with a dashed outline.  Nothing here needs folium: these are
plain strings and arrays any renderer can use.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from ..plan import Indicator
from ..text import group, words

__all__ = ["LANGUAGES", "LABELS", "RATIO_BREAKS", "GAP_COLOURS", "MET_COLOURS", "NO_DATA_COLOUR",
           "SOURCE_COLOURS", "SHORTFALL_UNITS_ZH", "format_number", "decimals_for", "gap_ratio",
           "fill_colours", "legend_classes", "legend_html", "shortfall_unit", "tooltip_properties"]

LANGUAGES = ("zh", "en")


# value ÷ target class breaks: below 1 the unit misses the plan, at or above 1 it meets it.
RATIO_BREAKS = (0.5, 0.8, 1.0, 1.25, 2.0)
GAP_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7")  # < 0.5, 0.5–0.8, 0.8–1 of the target
MET_COLOURS = ("#d1e5f0", "#67a9cf", "#2166ac")  # 1–1.25, 1.25–2, ≥ 2 times the target
NO_DATA_COLOUR = "#bdbdbd"
SOURCE_COLOURS = {"real": "#1b7837", "synthetic": "#762a83", "imported": "#e08214",
                  "scenario": "#2166ac", "osm": "#01665e"}
_CLASS_COLOURS = GAP_COLOURS + MET_COLOURS

# The map's words in each language (the catalogue's "map" namespace, geo_coverage.text).
LABELS = {language: words("map", language) for language in ("zh", "en")}


def decimals_for(indicator: Indicator) -> int:
    """The decimals an indicator's values and targets are written with, everywhere (screen,
    tooltips, legend, exports, print): counts whole, percentages one, rates (per 1,000…) two."""
    if indicator.type == "count":
        return 0
    if indicator.unit_en.startswith("%"):
        return 1
    return 2


def format_number(value, *, language: str = "zh", digits: int = 1) -> str:
    """A number for display, one way in both languages: thousands separators and exactly
    ``digits`` decimals (a column keeps one number of decimals: ``7.00`` beside ``8.75``, never
    ``7``); no 万 — 116,777 residents read the same on the card, in a table and in an export.

    Parameters
    ----------
    value
        A number, ``None`` or NaN (written ``—``).
    language
        ``zh`` or ``en`` (the same digits; kept so callers say which text they write).
    digits
        Decimals (see :func:`decimals_for` for an indicator's).

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if round(value, digits) == 0:
        value = 0.0  # never "-0.00"
    return f"{value:,.{digits}f}"


def gap_ratio(value, target, comparator: str = ">=") -> np.ndarray:
    """How far each value is from its target as a ratio centred on 1 (≥ 1 meets the target).

    ``value ÷ target`` for lower limits (≥, >, ==); ``target ÷ value`` for upper limits (≤, <),
    so a larger ratio is always better.  A zero target is met by any value (ratio ∞ or 1).

    Parameters
    ----------
    value, target
        Arrays (or scalars) of the same shape.
    comparator
        The indicator's comparator.

    Returns
    -------
    numpy.ndarray
        NaN where the value is NaN.
    """
    value = np.asarray(value, dtype=float)
    target = np.broadcast_to(np.asarray(target, dtype=float), value.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        if comparator in ("<=", "<"):
            ratio = np.where(value > 0, target / value, np.inf)
        else:
            ratio = np.where(target > 0, value / target, np.where(value > 0, np.inf, 1.0))
    return np.where(np.isnan(value), np.nan, ratio)


def fill_colours(rows: pd.DataFrame) -> np.ndarray:
    """Fill colour per coverage-table row: the ratio class, on the side its status says.

    The status decides the side (red below target, blue at or above) so the map never disagrees
    with the table, e.g. for per-stratum shares whose blended target is not the plan's number.
    """
    ratio = gap_ratio(rows["value"], rows["target"], str(rows["comparator"].iloc[0])
                      if len(rows) else ">=")
    status = rows["status"].to_numpy(dtype=object)
    classes = np.digitize(np.nan_to_num(ratio, nan=1.0, posinf=1e9), RATIO_BREAKS)
    classes = np.where(status == "gap", np.minimum(classes, 2), np.maximum(classes, 3))
    colours = np.asarray(_CLASS_COLOURS, dtype=object)[classes]
    return np.where(status == "no_data", NO_DATA_COLOUR, colours)


_LEGEND_STYLE = ("background:rgba(255,255,255,0.92);padding:8px 10px;border-radius:4px;"
                 "box-shadow:0 1px 4px rgba(0,0,0,0.35);font:12px/1.45 'Noto Sans CJK SC',"
                 "'Microsoft YaHei','PingFang SC',sans-serif;max-width:260px;color:#222")


def _swatch(colour: str, label: str, *, dashed: bool = False) -> str:
    border = "1px dashed #555" if dashed else "1px solid #888"
    return (f'<div style="display:flex;align-items:center;gap:6px">'
            f'<span style="display:inline-block;width:18px;height:12px;background:{colour};'
            f'border:{border}"></span><span>{html.escape(label)}</span></div>')


def legend_classes(indicator: Indicator, target: float, *,
                   language: str = "zh") -> list[tuple[str, str]]:
    """``(colour, label)`` of the value ÷ target classes a unit can fall in, worst first.

    The classes stay centred on the target (:data:`RATIO_BREAKS`, the colours of
    :func:`fill_colours`), but those no value can reach are left out: a percentage cannot exceed
    100 %, so with a 100 % target only "100 %" lies at or above it (with 60 %, "≥ 120 %" cannot
    occur and the class below it ends at 100 %); a count is a whole number, so with a target of
    1 only 0, 1 and "≥ 2" occur.  Counts are labelled with whole numbers.

    Parameters
    ----------
    indicator
        Its unit and type decide which classes can occur.
    target
        The target at the map's level.
    language
        ``zh`` or ``en``.

    Returns
    -------
    list of tuple
    """
    share = indicator.unit_en.startswith("%")  # "%", "% of residents"…
    percent = "%" if share else ""
    upper = indicator.comparator in ("<=", "<")
    ceiling = (100.0 / target if not upper and share and target > 0
               else math.inf)  # the largest value ÷ target a share can reach
    whole = indicator.type == "count" and not upper and target > 0
    digits = decimals_for(indicator)

    def amount(ratio: float | None) -> str:
        bound = (target / ratio if ratio else math.inf) if upper else target * (ratio or 0.0)
        return format_number(bound, language=language, digits=digits) + percent

    def integer(value: int) -> str:
        return format_number(value, language=language, digits=0)

    out = []
    edges = [None, *RATIO_BREAKS, None]
    for index, colour in enumerate(_CLASS_COLOURS):
        low, high = edges[index], edges[index + 1]
        if upper:  # a smaller value is better: bounds run the other way
            low, high = high, low
            if low is None:
                out.append((colour, f"> {amount(high)}"))
            elif high is None:
                out.append((colour, f"≤ {amount(low)}"))
            else:
                out.append((colour, f"{amount(low)} – {amount(high)}"))
            continue
        lowest = 0.0 if low is None else low
        if lowest > ceiling:
            continue
        if whole:  # the whole numbers in [low × target, high × target)
            first = math.ceil(lowest * target - 1e-9)
            if high is None:
                out.append((colour, f"≥ {integer(first)}"))
                continue
            last = math.ceil(high * target - 1e-9) - 1
            if last < first:
                continue
            out.append((colour, integer(first) if first == last
                        else f"{integer(first)} – {integer(last)}"))
            continue
        if high is not None and high > ceiling or high is None and ceiling < math.inf:
            top = format_number(100.0, language=language, digits=digits) + percent
            out.append((colour, top if lowest == ceiling else
                        f"{'< ' + top if low is None else amount(low) + ' – ' + top}"))
        elif low is None:
            out.append((colour, f"< {amount(high)}"))
        elif high is None:
            out.append((colour, f"≥ {amount(low)}"))
        else:
            out.append((colour, f"{amount(low)} – {amount(high)}"))
    return out


def legend_html(indicator: Indicator, target: float, *, language: str, approximate: bool,
                source_classes: list[str], has_facilities: bool) -> str:
    """The legend as one HTML block (inline styles, no external assets).

    Parameters
    ----------
    indicator, target
        Its name, unit and comparator, and the target at the map's level.
    language
        ``zh`` or ``en``.
    approximate
        Whether some outline shown is approximate (a warning line is added).
    source_classes, has_facilities
        The facility source classes drawn (``real``, ``synthetic``…), each with its colour.

    Returns
    -------
    str
    """
    text = LABELS[language]
    name = indicator.name_zh if language == "zh" else indicator.name_en
    unit = indicator.unit_zh if language == "zh" else indicator.unit_en
    unit_suffix = "" if unit in ("", "%") else f" {unit}"
    percent = "%" if unit == "%" else ""
    rows = [_swatch(colour, text_) for colour, text_ in legend_classes(indicator, target,
                                                                      language=language)]
    rows.reverse()  # best at the top
    rows.append(_swatch(NO_DATA_COLOUR, text["legend_no_data"], dashed=True))
    comparator = {">=": "≥", "<=": "≤"}.get(indicator.comparator, indicator.comparator)
    target_line = (f"{text['target']} {comparator} "
                   f"{format_number(target, language=language, digits=decimals_for(indicator))}"
                   f"{percent}{unit_suffix}")
    parts = [f'<div style="{_LEGEND_STYLE}">',
             f"<b>{html.escape(name)}</b>",
             f"<div>{html.escape(target_line)}</div>",
             f'<div style="color:#555">{html.escape(text["legend_ratio"])}</div>',
             *rows]
    if has_facilities and source_classes:
        parts.append('<div style="margin-top:4px"><b>'
                     f'{html.escape(text["legend_facility"])}</b></div>')
        for cls in source_classes:
            colour = SOURCE_COLOURS.get(cls, SOURCE_COLOURS["imported"])
            parts.append('<div style="display:flex;align-items:center;gap:6px">'
                         f'<span style="display:inline-block;width:10px;height:10px;'
                         f'border-radius:50%;background:{colour};border:1px solid #fff"></span>'
                         f"<span>{html.escape(text.get(cls, cls))}</span></div>")
    if approximate:
        parts.append(f'<div style="margin-top:4px;color:#8a4b00">⚠ '
                     f'{html.escape(text["legend_approximate"])}</div>')
    parts.append("</div>")
    return "".join(parts)


# The plan names shortfall units in English; what a Chinese reader sees.
SHORTFALL_UNITS_ZH = {english: chinese for english, (chinese, _) in group("shortfall_unit").items()}


def shortfall_unit(indicator: Indicator, language: str) -> str:
    """The indicator's shortfall unit in ``language`` (the plan's own words when untranslated)."""
    if language == "zh":
        return SHORTFALL_UNITS_ZH.get(indicator.shortfall_unit, indicator.shortfall_unit)
    return indicator.shortfall_unit


def tooltip_properties(rows: pd.DataFrame, indicator: Indicator, *, language: str,
                       approximate: pd.Series) -> pd.DataFrame:
    """The tooltip texts of each unit: value, target, shortfall, status and note, formatted.

    Parameters
    ----------
    rows
        Coverage-table rows of one indicator at one level.
    indicator, language
        Units and words to write them with.
    approximate
        Per unit code, whether its outline is approximate.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``value_text, target_text, shortfall_text, status_text, note_text``.
    """
    text = LABELS[language]
    unit = indicator.unit_zh if language == "zh" else indicator.unit_en
    unit_suffix = "" if unit in ("", "%") else f" {unit}"
    percent = "%" if unit == "%" else ""
    unit_of_shortfall = shortfall_unit(indicator, language)
    digits = decimals_for(indicator)

    def fmt(values: pd.Series, suffix: str, places: int = digits) -> pd.Series:
        return values.map(lambda v: format_number(v, language=language, digits=places)) + np.where(
            values.isna(), "", suffix)

    comparator = {">=": "≥", "<=": "≤"}.get(indicator.comparator, indicator.comparator)
    return pd.DataFrame({
        "value_text": fmt(rows["value"], percent + unit_suffix).to_numpy(),
        "target_text": (comparator + " " + fmt(rows["target"], percent + unit_suffix)).to_numpy(),
        "shortfall_text": fmt(rows["shortfall"],  # beds, places, residents: whole numbers
                              f" {unit_of_shortfall}" if unit_of_shortfall else "", 0)
        .to_numpy(),
        "status_text": rows["status"].map(lambda s: text.get(s, s)).to_numpy(),
        "note_text": np.where(approximate.to_numpy(), text["approximate"], ""),
    }, index=rows["unit_code"].astype(str).to_numpy())
