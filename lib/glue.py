"""Values a chapter computes, put into its prose: myst-nb's `glue` where the book is built, a
plain display (or nothing) where it is not.

Jupyter Book reads glued values from a cell's outputs and writes them into the page's text
(``{glue:text}`name:.2f```). Only the build needs myst-nb; Colab does not ship it, and the
chapters must run there with what the setup cell installs. So chapters glue through this
function, which hands the value to myst-nb when it is installed and otherwise shows it, or keeps
it quiet when the chapter asked for ``display=False`` (the prose around it is the book's, not
the notebook's, in Colab).
"""
from __future__ import annotations

import importlib.util
import re

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def building_tools_present() -> bool:
    """Whether myst-nb, which the book's build uses to read glued values, can be imported."""
    return importlib.util.find_spec("myst_nb") is not None


def glue(name: str, value, display: bool = True):
    """Glue ``value`` under ``name`` for the rendered book (myst-nb's ``glue``, same arguments);
    without myst-nb, display it if ``display`` and otherwise do nothing."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"a glue name must be an identifier (letters, digits, underscores), got {name!r}")
    if building_tools_present():
        from myst_nb import glue as myst_glue

        return myst_glue(name, value, display=display)
    if display:
        from IPython.display import display as show

        show(value)
    return None
