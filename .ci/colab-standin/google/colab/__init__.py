"""A stand-in for Colab's own `google.colab` package, for the book's Colab lane (`.ci/colab`).

Colab imports `google.colab` when a runtime starts; the chapters' setup cell takes its Colab
branch when it finds the module in `sys.modules`. The lane puts this folder on the kernel's path
and imports it from an IPython start-up file, so that the branch runs for real: the release tag
cloned, `lib` installed with `--no-deps`, the chapter run from the clone. `google` stays a
namespace package (no `google/__init__.py` here), so protobuf's `google.protobuf` still imports.
"""
IS_STAND_IN = True
