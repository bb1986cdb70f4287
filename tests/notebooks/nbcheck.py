"""Helpers to read executed notebooks: outputs, printed text, figures' alt text."""

from __future__ import annotations

import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def outputs(notebook) -> list[dict]:
    """Every output of every code cell, in order."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def text_of(notebook) -> str:
    """The printed and plain-text outputs of a notebook, joined."""
    parts = []
    for output in outputs(notebook):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def alt_texts(notebook) -> list[str]:
    """The alt text of every figure; fails if any image is shown without one."""
    texts = []
    for output in outputs(notebook):
        data = output.get("data", {})
        assert "image/png" not in data, "a figure was shown without alt text: use energy_lib.publish.plots.show"
        for tag in re.findall(r"<img[^>]*>", data.get("text/html", "")):
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and alt.group(1).strip(), "an image without alt text"
            texts.append(html.unescape(alt.group(1)))
        for tag in re.findall(r"<svg[^>]*>", data.get("text/html", "")):  # a chart: inline SVG
            label = re.search(r'aria-label="([^"]*)"', tag)
            assert 'role="img"' in tag and label and label.group(1).strip(), "a chart without alt text"
            texts.append(html.unescape(label.group(1)))
    return texts
