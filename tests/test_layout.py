"""The shape of lib (SPEC section 7): small modules, one-way imports, no TensorFlow where none is
needed, and chapters that call lib instead of defining networks, losses or train steps."""
import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "lib"
MODULES = sorted(LIB.glob("*.py"))
MAX_LINES = 350


def lib_imports(path):
    """Every lib module that ``path`` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("lib."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lib":
            if node.module == "lib":
                names.update(alias.name for alias in node.names if (LIB / f"{alias.name}.py").is_file())
            else:
                names.add(node.module.split(".")[1])
    return names - {path.stem}


def test_every_module_is_small():
    sizes = {path.name: len(path.read_text().splitlines()) for path in MODULES}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_lib_has_no_import_cycle():
    graph = {path.stem: lib_imports(path) for path in MODULES}
    assert graph["gan"] >= {"models", "config"}  # the walk sees imports at all

    def cycle_from(node, trail):
        for target in sorted(graph.get(node, ())):
            if target in trail:
                return trail[trail.index(target):] + [target]
            found = cycle_from(target, trail + [target])
            if found:
                return found
        return None

    for module in graph:
        assert cycle_from(module, [module]) is None


def test_lib_never_imports_the_command_line_or_the_book():
    for path in MODULES:
        if path.stem != "cli":
            assert "cli" not in lib_imports(path), path.name
        assert "from book" not in path.read_text() and "import book" not in path.read_text()


@pytest.mark.parametrize("modules", ["lib.config", "lib.analysis", "lib.collapse", "lib.config, lib.analysis"])
def test_some_modules_import_without_starting_tensorflow(modules):
    code = f"import sys, {modules}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


CHAPTERS = sorted((REPO / "book").glob("*.ipynb"))
FORBIDDEN_IN_CHAPTERS = (r"keras\.Model\(", r"keras\.Sequential\(", r"layers\.\w+\(", r"def train_step", r"GradientTape",
                         r"BinaryCrossentropy\(", r"^\s*class \w+", r"^\s*def \w+", r"from lib import .*\bcli\b", r"lib\.cli\b")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_chapter_defines_a_network_a_loss_or_a_train_step(path):
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        found = [pattern for pattern in FORBIDDEN_IN_CHAPTERS if re.search(pattern, source, re.MULTILINE)]
        assert not found, f"{path.name}, code cell {index} defines {found}: that belongs in lib"


SHOWN = {"02_networks.ipynb": ["def paper_generator", "def paper_discriminator", "def encoder_block"],
         "03_training.ipynb": ["def train_step", "def train_discriminator", "def train_generator", "def generator_loss",
                               "def adversarial_loss", "def hole_loss", "def complete"],
         "04_evaluation.ipynb": ["cv2.inpaint"],
         "05_collapse.ipynb": ["fakes = tf.stop_gradient(complete(", "def outcome", "def wilson_interval"],
         "06_beyond.ipynb": ["def book_generator", "def global_context_block", "class ChannelwiseDense"],
         "07_realism.ipynb": ["def detector_accuracy", "def two_sample_test", "def frechet_distance"],
         "08_correction.ipynb": ["def build_mask_head", "def correct_digits", "def damage"],
         "appendix_c_realism_study.ipynb": ["def global_local_discriminator", "def discriminator_losses"]}


@pytest.mark.parametrize("chapter, names", SHOWN.items())
def test_chapters_show_the_code_that_runs(chapter, names):
    """The highlighted source appears as an output, produced by lib.show from the running code."""
    cells = [cell for cell in json.loads((REPO / "book" / chapter).read_text())["cells"] if cell["cell_type"] == "code"]
    shown = "".join("".join(output.get("data", {}).get("text/plain", ""))
                    for cell in cells if "lib.show(" in "".join(cell["source"]) for output in cell["outputs"])
    for name in names:
        assert name in shown, f"{chapter} does not show {name}"


def readme_command(name):
    """The command CI reads from the README, read by CI's own script."""
    spec = importlib.util.spec_from_file_location("readme_command", REPO / ".ci" / "readme_command.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.readme_command(name)


def test_the_readme_commands_make_and_use_a_virtual_environment():
    setup, test = readme_command("set-up"), readme_command("test")
    assert "\n" not in setup and "\n" not in test  # one line a reader pastes
    assert setup.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt")
    assert test.startswith(". .venv/bin/activate && ") and "pytest" in test


def test_ci_runs_the_readme_commands_and_the_colab_lane():
    ci = (REPO / ".ci" / "run").read_text()
    assert 'bash -c "$SETUP_COMMAND"' in ci and 'bash -c "$TEST_COMMAND"' in ci
    assert "$(python3 .ci/readme_command.py set-up)" in ci and "$(python3 .ci/readme_command.py test)" in ci
    assert "pip install" not in ci  # every install is the README's (or the Colab lane's)
    assert "bash .ci/colab" in ci
    lane = (REPO / ".ci" / "colab").read_text()
    assert "--no-deps -e ." in lane and "--upgrade -r .ci/colab-packages.txt pytest nbval" in lane
    assert "-m pytest -q book" in lane and "GAN_BOOK_REPOSITORY=" in lane  # every chapter, from the mirror
