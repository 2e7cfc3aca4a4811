"""Values a chapter computes, put into its prose: myst-nb's `glue`, with or without myst-nb.

Jupyter Book reads glued values from a cell's outputs and writes them into the page's text
(``{glue:text}`name:.2f```). Only the build needs myst-nb; Colab does not ship it, and the
chapters must run there with what the setup cell installs. So chapters glue through this
function: it hands the value to myst-nb where myst-nb is installed, and elsewhere writes the
output myst-nb would write, with IPython alone. The outputs are then the same everywhere (nbval
compares them in the Colab lane too), and a front end shows nothing of a value glued with
``display=False``: it is stored under mime types no front end renders.
"""
from __future__ import annotations

import importlib.util
import re

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Where myst-nb stores a value glued without being displayed (the papermill/scrapbook format).
RECORD_PREFIX = "application/papermill.record/"


def building_tools_present() -> bool:
    """Whether myst-nb, which the book's build uses to read glued values, can be imported."""
    return importlib.util.find_spec("myst_nb") is not None


def glue(name: str, value, display: bool = True):
    """Glue ``value`` under ``name`` for the rendered book (myst-nb's ``glue``, same arguments
    and the same output, myst-nb installed or not)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"a glue name must be an identifier (letters, digits, underscores), got {name!r}")
    if building_tools_present():
        from myst_nb import glue as myst_glue

        return myst_glue(name, value, display=display)
    from IPython.core.formatters import format_display_data
    from IPython.display import display as show

    bundle, metadata = format_display_data(value)
    prefix = "" if display else RECORD_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    show({prefix + kind: data for kind, data in bundle.items()}, raw=True, metadata=metadata)
    return None
