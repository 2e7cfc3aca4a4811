"""The README's picture of the demo page, taken from the built book in headless Chromium: test
digit 7 (a 9) with a square at its centre erased by the mouse, filled by the default model.

    bash scripts/build_book.sh && python scripts/demo_screenshot.py web/demo/screenshot.png
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from lib import artifacts, site  # noqa: E402  (the repository's lib, not an installed copy)
from test_browser import erase_with_the_mouse, headless_chromium  # noqa: E402  (the browser test's own)

DIGIT, HOLE = 7, range(9, 19)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    if args.output.suffix != ".png":
        parser.error(f"the screenshot is a PNG file, got {args.output}")
    server = site.start_server()
    driver = headless_chromium("1000,1300", "--hide-scrollbars")
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/book/try_it.html")
        wait = "const done = arguments[arguments.length - 1]; "
        driver.execute_async_script(wait + "window.inpaintDemo.ready.then(() => done(1));")
        driver.execute_async_script(wait + f"window.inpaintDemo.selectDigit({DIGIT}).then(() => done(1));")
        erase_with_the_mouse(driver, HOLE, list(HOLE))
        driver.execute_async_script(wait + "window.inpaintDemo.fill().then(() => done(1));")
        demo = driver.find_element("id", "inpaint-demo")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", demo)
        time.sleep(1)  # let the page settle after scrolling
        with artifacts.atomic_path(args.output) as temporary:
            Path(temporary).write_bytes(demo.screenshot_as_png)
        print(f"{args.output}: digit {DIGIT}, model {driver.execute_script('return window.inpaintDemo.state.model')}")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
