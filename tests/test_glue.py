"""lib.glue: chapters glue their numbers for the build, and still run where myst-nb is absent."""
import builtins
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib import glue as glue_module

ROOT = Path(__file__).resolve().parent.parent


def test_with_myst_nb_the_value_is_glued_for_the_build():
    pytest.importorskip("myst_nb", reason="the build's tool; the Colab lane has none, as Colab")
    assert glue_module.building_tools_present()
    shown = []
    import IPython.display

    original = IPython.display.display
    IPython.display.display = lambda *args, **kwargs: shown.append((args, kwargs))
    try:
        glue_module.glue("answer", 42, display=False)
    finally:
        IPython.display.display = original
    (bundle,), options = shown[0]
    assert options.get("raw") and "application/papermill.record/text/plain" in bundle
    assert bundle["application/papermill.record/text/plain"] == "42"


@pytest.fixture
def without_myst_nb(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.split(".")[0] == "myst_nb":
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(glue_module, "building_tools_present", lambda: False)
    monkeypatch.setattr(builtins, "__import__", refuse)


def test_without_myst_nb_a_quiet_glue_does_nothing(without_myst_nb, capsys):
    assert glue_module.glue("answer", 42, display=False) is None
    assert capsys.readouterr().out == ""


def test_without_myst_nb_a_displayed_glue_shows_the_value(without_myst_nb, capsys):
    glue_module.glue("answer", 42)
    assert capsys.readouterr().out.strip() == "42"


@pytest.mark.parametrize("bad", ["", "two words", "1st", None, "a-b"])
def test_a_glue_name_must_be_an_identifier(bad):
    with pytest.raises(ValueError, match="glue name must be an identifier"):
        glue_module.glue(bad, 1, display=False)


def test_every_glued_name_in_the_committed_chapters_is_an_identifier():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                assert name is None or glue_module.NAME.match(name), (path.name, name)


def test_no_chapter_imports_myst_nb_itself():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        assert "from myst_nb" not in path.read_text() and "import myst_nb" not in path.read_text(), path.name


@pytest.mark.slow
def test_importing_every_module_of_lib_loads_no_build_or_test_tool():
    """Colab has none of them: myst-nb (the build), nbval and pytest (the tests), onnx and
    its converters (the demo's export) are imported only inside the functions that need them."""
    script = ("import pkgutil, importlib, sys, lib\n"
              "for module in pkgutil.iter_modules(lib.__path__):\n"
              "    importlib.import_module('lib.' + module.name)\n"
              "tools = ('myst_nb', 'nbval', 'pytest', 'onnx', 'onnxruntime', 'tf2onnx', 'selenium')\n"
              "print(sorted(name for name in sys.modules if name.split('.')[0] in tools))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"
