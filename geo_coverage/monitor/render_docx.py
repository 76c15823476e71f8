"""Report blocks → a Word document (python-docx), with Chinese fonts named for East Asian text."""

from __future__ import annotations

import io as _io
from collections.abc import Sequence

from .._compat import require

__all__ = ["docx_bytes"]

BODY_FONT = {"zh": ("宋体", "SimSun"), "en": ("Calibri", "SimSun")}
HEADING_FONT = ("黑体", "SimHei")


def _east_asian(run_or_style, latin: str, east_asian: str) -> None:
    from docx.oxml.ns import qn

    run_or_style.font.name = latin
    properties = run_or_style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)


def require_docx():
    """python-docx, or an error saying which extra installs it."""
    return require("docx", message="Word reports need python-docx.",
                   fix="pip install 'geo-coverage[report]' (or: make install).")


def docx_bytes(blocks: Sequence, *, lang: str = "zh") -> bytes:
    """The blocks of :func:`geo_coverage.monitor.assess.report_blocks` as .docx bytes."""
    docx = require_docx()
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    body_latin, body_east = BODY_FONT[lang]
    normal = document.styles["Normal"]
    _east_asian(normal, body_latin, body_east)
    normal.font.size = Pt(10.5)
    for level in range(4):
        name = "Title" if level == 0 else f"Heading {level}"
        _east_asian(document.styles[name], body_latin, HEADING_FONT[0])
    for block in blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=min(block.level, 3))
        elif block.kind == "paragraph":
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            if block.style == "warning":
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0x00, 0x00)
        elif block.kind == "table":
            header, *rows = block.rows
            table = document.add_table(rows=1, cols=len(header))
            table.style = document.styles["Table Grid"]
            for cell, text in zip(table.rows[0].cells, header, strict=True):
                cell.text = ""
                run = cell.paragraphs[0].add_run(str(text))
                run.bold = True
                run.font.size = Pt(8.5)
            for values in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, values, strict=True):
                    cell.text = ""
                    cell.paragraphs[0].add_run(str(text)).font.size = Pt(8.5)
        elif block.kind == "figure":
            document.add_picture(_io.BytesIO(block.png), width=Cm(block.width_cm))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = document.add_paragraph(block.text)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "pagebreak":
            document.add_page_break()
    buffer = _io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
