"""Accessibility rules the code enforces without a browser (axe-core checks the pages in test_browser_a11y.py):
an image cannot be drawn without alt text, and the class legend writes its names in the text colour."""

from __future__ import annotations

import re

import pytest

from dashboard.shell import charts, ui


def test_an_image_without_alt_text_cannot_be_drawn():
    with pytest.raises(TypeError):
        ui.image(b"png")  # alt is a required keyword
    with pytest.raises(ValueError, match="alt text"):
        ui.image(b"png", alt="  ")


def test_the_class_legend_colours_dots_not_names():
    legend = charts.digit_legend_html(("T-shirt/top",) + tuple(str(k) for k in range(1, 10)))
    assert "T-shirt/top" in legend and "Class colours" in legend
    assert "color:" not in legend.replace("background:", ""), "a name in a tab10 colour fails AA contrast"
    dots = re.findall(r'<span aria-hidden="true" style="[^"]*background:(#[0-9a-f]{6})"></span>', legend)
    assert dots == list(charts.DIGIT_COLORS)
