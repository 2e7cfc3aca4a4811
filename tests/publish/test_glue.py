"""lib.publish.glue: chapters glue their numbers for the build, and still run where myst-nb is absent."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib.publish import glue as glue_module

ROOT = Path(__file__).resolve().parents[2]


def displayed(monkeypatch, name, value, display, myst_nb_present):
    """What `glue` hands IPython's display: ``(bundle, keyword arguments)``."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: shown.append((args, kwargs)))
    if myst_nb_present:
        import myst_nb.ext.glue

        monkeypatch.setattr(myst_nb.ext.glue, "ipy_display", lambda *args, **kwargs: shown.append((args, kwargs)))
    monkeypatch.setattr(glue_module, "building_tools_present", lambda: myst_nb_present)
    glue_module.glue(name, value, display=display)
    ((bundle,), options), = shown
    return bundle, options


@pytest.mark.parametrize("value", [42, 97.734, "text", {"a": 1}])
@pytest.mark.parametrize("display", [False, True])
def test_without_myst_nb_the_output_is_the_one_myst_nb_writes(monkeypatch, value, display):
    """The Colab lane compares chapters' outputs with the committed ones, which myst-nb wrote."""
    pytest.importorskip("myst_nb", reason="the build's tool; the Colab lane has none, as Colab")
    assert displayed(monkeypatch, "answer", value, display, False) == displayed(monkeypatch, "answer", value, display, True)


def test_a_quiet_glue_is_stored_where_no_front_end_shows_it(monkeypatch):
    bundle, options = displayed(monkeypatch, "answer", 42, False, False)
    assert bundle == {"application/papermill.record/text/plain": "42"} and options["raw"]
    assert options["metadata"]["scrapbook"] == {"name": "answer", "mime_prefix": glue_module.RECORD_PREFIX}


def test_a_displayed_glue_shows_the_value(monkeypatch):
    bundle, _ = displayed(monkeypatch, "answer", 42, True, False)
    assert bundle == {"text/plain": "42"}


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
