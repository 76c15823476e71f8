"""Report blocks → PDF (reportlab), with a Chinese font embedded.

reportlab embeds (a subset of) TrueType fonts only: Debian's Noto CJK are OpenType with PostScript
(CFF) outlines, which reportlab refuses ("postscript outlines are not supported"), so the PDF uses
WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``, TrueType outlines; Apache-2.0/GPLv3 with a font
exception), found by fontconfig or at Debian's path.  ``pdffonts`` lists it as an embedded subset
TrueType font with a Unicode map, so the text can be searched and copied.
"""

from __future__ import annotations

import io as _io
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .._compat import require
from ..errors import GeoCoverageError

__all__ = ["pdf_bytes", "cjk_font_path"]

FONT_NAME = "GeoCoverageCJK"
FONT_FAMILY = "WenQuanYi Micro Hei"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def cjk_font_path() -> Path:
    """A TrueType CJK font file reportlab can embed, or an error saying what to install."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", FONT_FAMILY], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and Path(found).is_file() and "wqy" in found.lower():
            return Path(found)
    raise GeoCoverageError(
        "PDF reports need a TrueType Chinese font (WenQuanYi Micro Hei).",
        fix="apt-get install fonts-wqy-microhei (make test and make install do it), "
        "or write a .docx report.",
    )


def _require_reportlab():
    require("reportlab", message="PDF reports need reportlab.",
            fix="pip install 'geo-coverage[report]' (or: make install).")


def _styles():
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle(
        "body",
        fontName=FONT_NAME,
        bulletFontName=FONT_NAME,
        fontSize=10,
        leading=15,
        wordWrap="CJK",
        spaceAfter=5,
    )
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, spaceAfter=10),
        1: ParagraphStyle(
            "h1",
            parent=base,
            fontSize=14,
            leading=20,
            spaceBefore=8,
            spaceAfter=6,
            textColor=colors.HexColor("#1f3b63"),
            keepWithNext=1,
        ),
        2: ParagraphStyle(
            "h2",
            parent=base,
            fontSize=11.5,
            leading=17,
            spaceBefore=6,
            spaceAfter=4,
            textColor=colors.HexColor("#1f3b63"),
            keepWithNext=1,
        ),
        "body": base,
        "warning": ParagraphStyle(
            "warning",
            parent=base,
            textColor=colors.HexColor("#b00000"),
            borderColor=colors.HexColor("#b00000"),
            borderWidth=0.8,
            borderPadding=5,
            spaceBefore=6,
            spaceAfter=10,
        ),
        "finding": ParagraphStyle("finding", parent=base, leftIndent=8, bulletIndent=0),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=10, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=base, fontSize=8.5, alignment=1),
    }


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pdf_bytes(blocks: Sequence, *, lang: str = "zh") -> bytes:
    """The blocks of :func:`geo_coverage.monitor.assess.report_blocks` as PDF bytes (A4)."""
    _require_reportlab()
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import (
        Image,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(cjk_font_path()), subfontIndex=0))
    styles = _styles()
    width = A4[0] - 4.0 * cm
    story = []
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 0), "")
    for block in blocks:
        if block.kind == "heading":
            style = styles["title"] if block.level == 0 else styles[min(max(block.level, 1), 2)]
            story.append(Paragraph(_escape(block.text), style))
        elif block.kind == "paragraph":
            style = styles.get(block.style or "body", styles["body"])
            story.append(
                Paragraph(("• " if block.style == "finding" else "") + _escape(block.text), style)
            )
        elif block.kind == "table":
            rows = [
                [Paragraph(_escape(cell), styles["cell"]) for cell in row] for row in block.rows
            ]
            table = Table(rows, repeatRows=1, hAlign="LEFT", colWidths=_widths(block.rows, width))
            table.setStyle(
                TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf4")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 3),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    ]
                )
            )
            story += [table, Spacer(1, 6)]
        elif block.kind == "figure":
            reader = ImageReader(_io.BytesIO(block.png))
            pixel_width, pixel_height = reader.getSize()
            shown = min(block.width_cm * cm, width)
            story.append(
                Image(
                    _io.BytesIO(block.png), width=shown, height=shown * pixel_height / pixel_width
                )
            )
            story.append(Paragraph(_escape(block.text), styles["caption"]))
        elif block.kind == "pagebreak":
            story.append(PageBreak())

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(2.0 * cm, 1.2 * cm, title[:80])
        canvas.drawRightString(A4[0] - 2.0 * cm, 1.2 * cm, f"{document.page}")
        canvas.restoreState()

    buffer = _io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2.0 * cm,
        rightMargin=2.0 * cm,
        topMargin=1.8 * cm,
        bottomMargin=2.0 * cm,
        title=title,
        author="geo-coverage",
        creator="geo-coverage",
        invariant=1,
        initialFontName=FONT_NAME,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _widths(rows, width: float) -> list[float]:
    """Column widths by each column's longest text (CJK counts double), at least 7 % each."""
    columns = len(rows[0])
    longest = [
        max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(row[i])) for row in rows)
        for i in range(columns)
    ]
    shares = [max(n, 1) ** 0.8 for n in longest]
    total = sum(shares)
    widths = [max(s / total, 0.07) for s in shares]
    scale = sum(widths)
    return [w / scale * width for w in widths]
