"""Hygiene of the committed chapters: what readers see must come from one clean, full run."""
import json
from pathlib import Path

import pytest

from lib.config import describe_mode

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 10


def test_every_chapter_is_in_the_table_of_contents_in_order():
    import yaml

    toc = yaml.safe_load((BOOK.parent / "_toc.yml").read_text())
    listed = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    chapters = [f"book/{path.stem}" for path in NOTEBOOKS]
    assert [name for name in listed if name in chapters] == chapters  # every notebook, in the order of its number


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_was_executed_top_to_bottom_in_one_kernel(path):
    counts = [cell["execution_count"] for cell in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_stores_no_errors_or_stderr(path):
    for index, cell in enumerate(code_cells(path)):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name}, code cell {index}: error {output.get('ename')}"
            assert output.get("name") != "stderr", f"{path.name}, code cell {index}: stderr {''.join(output['text'])[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_was_saved_in_full_mode(path, monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    expected = describe_mode()
    printed = ["".join(output.get("text", "")) for cell in code_cells(path) for output in cell["outputs"]
               if output.get("name") == "stdout"]
    assert any(expected in text for text in printed), f"{path.name} does not record '{expected}'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption(path):
    for index, cell in enumerate(code_cells(path)):
        images = [output for output in cell["outputs"] if "image/png" in output.get("data", {})]
        if images:
            caption = cell["metadata"].get("mystnb", {}).get("figure", {}).get("caption", "")
            assert len(caption) > 20, f"{path.name}, code cell {index}: a figure without a caption"
            if len(images) > 1:  # one label would name several figures
                assert "name" not in cell["metadata"]["mystnb"]["figure"], f"{path.name}, code cell {index}"


def markdown_text(path):
    return "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                   if cell["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_mentions_of_other_chapters_are_links(path):
    import re

    own = int(path.name[:2]) if path.name[:2].isdigit() else None  # an appendix has no chapter number
    text = re.sub(r"```.*?```", "", markdown_text(path), flags=re.S)
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for number in re.findall(r"(?<![\[\w`])[Cc]hapter ([1-9])\b(?!\])", line):
            assert int(number) == own, f"{path.name}: 'chapter {number}' is not a link: {line.strip()[:100]}"
        for target in re.findall(r"\]\(([^)#]+\.ipynb)", line):
            assert (BOOK / target).is_file(), f"{path.name}: link to a missing chapter {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_is_driven_by_cell_tags_not_comments_a_reader_would_see(path):
    for index, cell in enumerate(code_cells(path)):
        assert "NBVAL_" not in "".join(cell["source"]), f"{path.name}, code cell {index}: use an nbval-* cell tag"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_run_mode_print_is_kept_out_of_the_html(path):
    for cell in code_cells(path):
        if "describe_mode()" in "".join(cell["source"]):
            assert "remove-output" in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_is_followed_by_the_code_that_answers_it(path):
    """A solution answers with a result its own cell computes (nbval runs it in quick mode): the
    markdown cell holding n solutions is followed by n code cells."""
    import re

    cells = json.loads(path.read_text())["cells"]
    for index, cell in enumerate(cells):
        solutions = len(re.findall(r"^ *`{3,}\{dropdown\} Solution", "".join(cell["source"]), flags=re.M))
        if cell["cell_type"] != "markdown" or not solutions:
            continue
        following = 0
        while index + 1 + following < len(cells) and cells[index + 1 + following]["cell_type"] == "code":
            following += 1
        assert following == solutions, f"{path.name} cell {index}: {solutions} solutions, {following} code cells after"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_collapsed_by_default(path):
    import re

    text = markdown_text(path)
    assert "## Exercises" in text, f"{path.name} has no exercises"
    exercises = text[text.index("## Exercises"):]
    numbered = re.findall(r"^(\d+)\. ", exercises, flags=re.M)
    solutions = re.findall(r"^ *`{3,}\{dropdown\} Solution", exercises, flags=re.M)
    assert numbered and len(solutions) == len(numbered), f"{path.name}: {len(numbered)} exercises, {len(solutions)} solutions"
