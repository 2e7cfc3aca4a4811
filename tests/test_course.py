"""The main path is a course a newcomer can finish in one sitting: at most nine chapters, and a
word budget for their prose (solutions, code and outputs not counted). The research depth lives
in the appendices, which have no budget. `python tests/test_course.py` prints the counts."""
import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
MAX_CHAPTERS = 9
MAX_WORDS = 13_500
MAX_WORDS_PER_PAGE = 2_000


def main_path():
    """The intro and the chapters of the table of contents' first part, as paths."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"], *(chapter["file"] for chapter in toc["parts"][0]["chapters"])]
    return [next(REPO.glob(f"{name}.*")) for name in files]


def prose(text):
    """Markdown without code blocks, solution dropdowns, link targets, roles' targets or HTML."""
    text = re.sub(r"^( *)(`{3,})\{dropdown\} Solution.*?^\1\2 *$", "", text, flags=re.S | re.M)
    text = re.sub(r"^( *)(`{3,}).*?^\1\2 *$", "", text, flags=re.S | re.M)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\{term\}`([^`<]*)(?:<[^>]*>)?`", r"\1", text)  # a glossary term is read
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", "", text)
    return re.sub(r"<[^>]+>", "", text)


def words(text):
    return len(re.findall(r"[A-Za-z0-9]+(?:['’.,-][A-Za-z0-9]+)*", prose(text)))


def page_text(path):
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def counts():
    return {path.name: words(page_text(path)) for path in main_path()}


def test_the_main_path_has_at_most_nine_chapters():
    assert len(main_path()) - 1 <= MAX_CHAPTERS


def test_the_main_path_fits_its_word_budget():
    found = counts()
    assert sum(found.values()) <= MAX_WORDS, found
    assert {name: n for name, n in found.items() if n > MAX_WORDS_PER_PAGE} == {}


def test_the_word_count_skips_solutions_and_code():
    page = "One two three.\n\n```{dropdown} Solution\nfour five\n```\n\n```python\nsix = 7\n```\n[eight](nine.ipynb)"
    assert words(page) == 4
    assert words("A {term}`Wilson interval <Wilson interval>` and {cite:p}`nair2023correcting`.") == 4


@pytest.mark.parametrize("path", main_path(), ids=lambda p: p.name)
def test_every_main_chapter_links_only_to_pages_that_exist(path):
    for target in re.findall(r"\]\(([^)#:]+\.(?:ipynb|md))", page_text(path)):
        assert (path.parent / target).is_file(), f"{path.name} links to a missing page {target}"


if __name__ == "__main__":
    found = counts()
    for name, n in found.items():
        print(f"{n:6d}  {name}{'  (over ' + str(MAX_WORDS_PER_PAGE) + ')' if n > MAX_WORDS_PER_PAGE else ''}")
    print(f"{sum(found.values()):6d}  in all (budget {MAX_WORDS})")
