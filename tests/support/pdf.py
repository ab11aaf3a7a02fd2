"""What a PDF that Matplotlib wrote says about its fonts and text, read from the file itself (no PDF
library): the font subtypes it embeds, the sizes of its text (``Tf`` operators) and its page size."""

from __future__ import annotations

import re
import zlib
from pathlib import Path


def _streams(data: bytes) -> list[bytes]:
    """Every stream of the file, inflated where it is compressed."""
    out = []
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n(.*?)\r?\nendstream", data, re.S):
        head, body = match.group(1), match.group(2)
        if b"/FlateDecode" in head:
            try:
                body = zlib.decompress(body)
            except zlib.error:
                continue
        out.append(body)
    return out


def font_subtypes(path: Path) -> set[str]:
    """The ``/Subtype`` of every font object (``Type0``, ``CIDFontType2``, ``TrueType``, ``Type3``, ...)."""
    data = Path(path).read_bytes()
    return {m.decode() for m in re.findall(rb"/Type\s*/Font\b[^>]*?/Subtype\s*/(\w+)", data)} | {
        m.decode() for m in re.findall(rb"/Subtype\s*/(\w+)[^>]*?/Type\s*/Font\b", data)}


def text_sizes(path: Path) -> list[float]:
    """The size of every text run (the operand of each ``Tf``) in the page contents, in points. Matplotlib
    places text with a rotation-only ``Tm``, so this is the printed size at the page's size."""
    sizes = []
    for body in _streams(Path(path).read_bytes()):
        for match in re.finditer(rb"/[\w.+-]+\s+([\d.]+)\s+Tf\b", body):
            sizes.append(float(match.group(1)))
    return sizes


def text_scales(path: Path) -> list[float]:
    """The scale of the matrix that places each text run (the ``cm`` just before its ``BT``, or a ``Tm``
    inside it): 1.0 when text is only placed and turned, so that ``Tf`` is its printed size."""
    number = rb"([-\d.]+)\s+"
    scales = []
    for body in _streams(Path(path).read_bytes()):
        for pattern in (number * 4 + rb"[-\d.]+\s+[-\d.]+\s+cm\s+BT\b", number * 4 + rb"[-\d.]+\s+[-\d.]+\s+Tm\b"):
            for match in re.finditer(pattern, body):
                a, b = float(match.group(1)), float(match.group(2))
                scales.append((a * a + b * b) ** 0.5)
    return scales


def page_size(path: Path) -> tuple[float, float]:
    """The first page's MediaBox width and height, in points (72 per inch)."""
    match = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", Path(path).read_bytes())
    x0, y0, x1, y1 = (float(v) for v in match.groups())
    return x1 - x0, y1 - y0
