"""The assessment report as files: Word (python-docx) or PDF (reportlab), laid out once by
:func:`geo_coverage.monitor.assess.report_blocks`; the renderers are imported only when used."""

from __future__ import annotations

from pathlib import Path

from .. import io
from ..errors import DataError
from .assess import Assessment, report_blocks

__all__ = ["report_bytes", "write_report"]


def report_bytes(assessment: Assessment, fmt: str, *, lang: str = "zh") -> bytes:
    """The report as ``docx`` or ``pdf`` bytes."""
    blocks = report_blocks(assessment, lang=lang)
    fmt = fmt.lower().lstrip(".")
    if fmt == "docx":
        from .render_docx import docx_bytes

        return docx_bytes(blocks, lang=lang)
    if fmt == "pdf":
        from .render_pdf import pdf_bytes

        return pdf_bytes(blocks, lang=lang)
    raise DataError(f"Unknown report format '{fmt}'.", fix="Use .docx or .pdf.")


def write_report(assessment: Assessment, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the report (format from the suffix) atomically."""
    path = Path(path)
    return io.write_bytes(report_bytes(assessment, path.suffix, lang=lang), path)
