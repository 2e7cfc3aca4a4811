"""Source display for chapters: the code that runs, shown as the reader should read it."""
from __future__ import annotations

import inspect
import textwrap


def source(obj) -> str:
    """The source of a function, class or method of `lib`, dedented."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj) or inspect.ismodule(obj)):
        raise ValueError(f"show needs a function, class, method or module, got {type(obj).__name__}")
    return textwrap.dedent(inspect.getsource(obj))


def show(*objects):
    """The syntax-highlighted source of ``objects`` (functions, classes or methods), one block,
    as a notebook output: HTML in the rendered book and in Colab, plain text elsewhere."""
    from IPython.display import Code

    if not objects:
        raise ValueError("show needs at least one function, class or method")
    return Code("\n\n\n".join(source(obj).rstrip() for obj in objects), language="python")
