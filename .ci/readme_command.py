"""Print the README's command marked ``<!-- ci: NAME -->`` (the bash block after the marker).

CI runs what this prints, and tests/test_layout.py checks it, so the README's promise and what
CI does cannot drift apart."""
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_command(name, readme=README):
    block = re.search(r"<!-- ci: %s -->\s*```bash\n(.*?)\n\s*```" % re.escape(name), Path(readme).read_text(), re.S)
    if not block:
        raise ValueError(f"README.md has no '<!-- ci: {name} -->' command")
    return block.group(1).strip()


if __name__ == "__main__":
    try:
        print(readme_command(sys.argv[1]))
    except (IndexError, ValueError) as error:
        sys.exit(str(error) if isinstance(error, ValueError) else "usage: readme_command.py NAME")
