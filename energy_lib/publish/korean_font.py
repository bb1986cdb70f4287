"""Where the workbook's Korean font comes from: NanumGothic (SIL Open Font License), the TrueType
files inside the ``koreanize-matplotlib`` distribution.

The folder is found without importing that package (it sets matplotlib's global state on import)
or matplotlib (seconds to import: most of an unchanged site build). The figures register the
files with matplotlib (:func:`energy_lib.publish.plots.use_style`); the site and the apps serve subsets of
them (:mod:`energy_lib.publish.fonts`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["font_folder"]


def font_folder() -> Path:
    """The folder of the NanumGothic ``.ttf`` files.

    Raises
    ------
    RuntimeError
        If the distribution is not installed (it is a dependency in pyproject.toml).
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The Korean font is missing: install the project's dependencies "
                           "(`make venv`, or pip install koreanize-matplotlib).")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"
