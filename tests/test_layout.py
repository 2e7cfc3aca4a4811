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
MODULES = sorted(path for path in LIB.rglob("*.py") if "__pycache__" not in path.parts)
MAX_LINES = 350


def module_name(path):
    """``lib/studies/collapse.py`` -> ``"studies.collapse"``; a package's ``__init__`` is the package."""
    parts = path.relative_to(LIB).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(path) for path in MODULES}


def lib_imports(path):
    """Every lib module that ``path`` imports, at the top or inside a function (``"studies.speed"``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name[4:] for alias in node.names if alias.name.startswith("lib."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lib":
            package = node.module[4:]
            for alias in node.names:
                inner = f"{package}.{alias.name}" if package else alias.name
                names.add(inner if inner in NAMES else package)
    return {name for name in names if name} - {module_name(path)}


def test_every_module_is_small():
    sizes = {module_name(path): len(path.read_text().splitlines()) for path in MODULES}
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


def test_lib_has_no_import_cycle():
    graph = {module_name(path): lib_imports(path) for path in MODULES}
    assert graph["gan"] >= {"models", "config"} and "studies.speed" in graph["studies.selection"]  # the walk sees imports

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


def test_the_floors_point_down():
    """The core never imports a study, the command line or the publishing tools; a study imports
    the core and, at most, the studies it builds on (never the command line or publishing)."""
    for path in MODULES:
        name, imported = module_name(path), lib_imports(path)
        if name != "cli":
            assert "cli" not in imported, name
        if name and not name.startswith(("studies", "publish", "cli")):  # "": the package's face hands on lib.show
            assert not {module for module in imported if module.startswith(("studies", "publish"))}, name
        if name.startswith("studies"):
            assert not {module for module in imported if module.startswith("publish")}, name
        assert "from book" not in path.read_text() and "import book" not in path.read_text()


def test_each_study_is_one_module_and_its_figures():
    """A study lives in ``lib/studies/<study>.py`` (and its figures beside it), and a chapter reads it."""
    from lib import studies

    modules = {path.stem for path in (LIB / "studies").glob("*.py") if path.stem != "__init__"}
    figures = {name for name in modules if name.endswith("_figures")}
    assert {name.removesuffix("_figures") for name in figures} <= modules
    assert {study for read in studies.CHAPTERS.values() for study in read} == modules - figures


@pytest.mark.parametrize("path", sorted((REPO / "book").glob("*.ipynb")), ids=lambda p: p.name)
def test_each_chapter_reads_the_studies_the_map_gives_it(path):
    from lib import studies

    code = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code")
    imported = {name.strip().split(" as ")[0] for line in re.findall(r"^from lib\.studies import (.*)$", code, re.MULTILINE)
                for name in line.split(",")}
    assert {name for name in imported if not name.endswith("_figures")} == set(studies.CHAPTERS.get(path.name, ()))


def definitions(name):
    """Where a top-level function, class or constant ``name`` is defined in lib."""
    found = []
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            targets = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else \
                [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)]
            if name in targets:
                found.append(module_name(path))
    return found


@pytest.mark.parametrize("name, home", [
    ("HOLE_SIZES", "holes"), ("NO_HOLE", "holes"), ("PAPER_HOLE", "holes"), ("STUDY_HOLES", "holes"),
    ("label", "holes"), ("masks", "holes"), ("evaluation_masks", "holes"), ("key", "holes"),
    ("variables_by_path", "checkpoints"), ("FILE", "checkpoints"), ("commit", "checkpoints"),
    ("machine_description", "records"), ("Record", "records"), ("Command", "commands"), ("seed_argument", "commands"),
    ("INPAINTERS", "shipped"), ("DEFAULT_INPAINTER", "shipped"), ("DATASETS", "datasets"), ("hole_label", None), ("hole_masks", None),
])
def test_the_shared_ideas_are_defined_once(name, home):
    """The hole specification, the checkpoint protocol, the record protocol and the command table each
    have one home."""
    assert definitions(name) == ([home] if home else [])


def test_only_the_checkpoint_protocol_writes_and_reads_checkpoints():
    for path in MODULES:
        if module_name(path) != "checkpoints":
            text = path.read_text()
            assert "checkpoint.npz" not in text and ".keras\"" not in text, path
            assert not re.search(r"def \w*(save|restore|load)_checkpoint", text), path


def test_the_run_mode_root_is_decided_at_entry_points_only():
    """`runs.mode_root` is called by the command line and the chapters, and by appendix D's live
    run (`retrain_switch`), a chapter's own entry point; everything else is given the root."""
    callers = {module_name(path): path.read_text().count("mode_root(") for path in MODULES
               if "mode_root(" in path.read_text() and module_name(path) != "runs"}
    assert callers == {"cli": 1, "studies.speed": 1}


@pytest.mark.parametrize("modules", ["lib.config", "lib.analysis", "lib.holes", "lib.records", "lib.commands",
                                     "lib.config, lib.analysis, lib.checks"])
def test_some_modules_import_without_starting_tensorflow(modules):
    code = f"import sys, {modules}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_the_tests_mirror_lib():
    """tests/test_<module>.py for lib/<module>.py, tests/studies/ and tests/publish/ for those folders."""
    tests = REPO / "tests"
    missing = [name for name in NAMES if name and name not in ("studies", "publish")
               and not (tests / Path(*name.split(".")[:-1]) / f"test_{name.split('.')[-1]}.py").is_file()]
    assert missing == []


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
         "07_realism.ipynb": ["def detector_fit", "def two_sample_test", "def frechet_distance"],
         "08_correction.ipynb": ["def build_mask_head", "def correct_digits", "def damage"],
         "09_beyond_digits.ipynb": ["def root", "def inpaint_images", "def stroke_masks", "def detector_fit"],
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
