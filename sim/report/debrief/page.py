"""A debrief as one self-contained HTML page: inline styles, figures as inline PNGs, no scripts and no
external files (it opens without network access and prints on A4)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

STYLE = """
body { font-family: Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1, h2 { font-family: Helvetica, Arial, sans-serif; }
h2 { margin-top: 1.4rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; }
.note { background: #f6f3ea; padding: 0.6rem 1rem; border-left: 4px solid #b59b5c; }
.small { font-size: 0.85rem; color: #444; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; line-height: 1.25; }
  h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 8pt 0 3pt; break-after: avoid; }
  p { margin: 3pt 0; } table { font-size: 8pt; margin: 3pt 0; break-inside: avoid; }
  th, td { padding: 1pt 3pt; } img { max-height: 88mm; break-inside: avoid; border: none; }
  .note { padding: 4pt 6pt; } .pagebreak { break-before: page; }
}
"""


def embed(figure, dpi: int = 100, width: str = "", alt: str = "figure") -> str:
    """A figure as an inline PNG (``width``: its CSS width on the page, e.g. "60%"; ``alt``: what it shows)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    style = f' style="width:{width}"' if width else ""
    return f'<img alt="{html.escape(alt)}"{style} src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table_html(frame: pd.DataFrame, classes: str = "") -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0, escape=True,
                         classes=classes or None, na_rep="–")


def page(title: str, body: str) -> str:
    """A self-contained HTML page: inline styles, no scripts, no external files."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")

