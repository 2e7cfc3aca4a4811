"""The demo page (book/try_it.md) in a real browser: headless Chromium, driven by Selenium,
against the built book served on 127.0.0.1. What the page shows must be what lib computes with
Keras for the same input. Needs a built book (scripts/build_book.sh) and Debian's chromium and
chromium-driver; CI has both, elsewhere the tests are skipped without them."""
import os
import shutil

import numpy as np
import pytest
import statistics

from lib import classifiers, data, inpainting, mask_head
from lib.publish import site
from lib.inpainting import inpaint, load_inpainter
from lib.shipped import INPAINTERS

PAGE = site.BUILT / "book" / "try_it.html"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
missing = [what for what, found in (("a built book", PAGE.is_file()), ("chromium", CHROMIUM),
                                    ("chromedriver", DRIVER)) if not found]
if missing and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the browser tests, but this machine lacks {', '.join(missing)}")
pytestmark = pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}")
MAX_FILL_MS = 50


def headless_chromium(window_size="1200,1400", *flags):
    """Debian's Chromium, headless and offline, driven through its chromedriver: the browser
    test's, and `scripts/demo_screenshot.py`'s."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={window_size}", *flags):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(120)
    return driver


@pytest.fixture(scope="module")
def page():
    server = site.start_server()
    driver = headless_chromium()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    driver.get(f"{origin}/book/try_it.html")
    started = driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                          "window.inpaintDemo.ready.then(() => done('ready'), (e) => done(String(e)));")
    assert started == "ready", started
    yield driver, origin
    driver.quit()
    server.shutdown()


def fresh_fill(driver):
    return driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                       "window.inpaintDemo.fill().then(done, (e) => done({error: String(e)}));")


def erase_with_the_mouse(driver, rows, columns, brush="demo-erase"):
    """Drag across the enlarged digit, one stroke per row of digit pixels."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("id", "demo-damaged")
    # The whole canvas in view: an action's pointer outside the viewport draws nothing.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    cell = canvas.size["width"] / 28

    def offset(index):  # Selenium measures from the element's centre
        return int((index + 0.5) * cell - canvas.size["width"] / 2)

    driver.find_element("id", brush).click()
    for row in rows:
        actions = ActionChains(driver).move_to_element_with_offset(canvas, offset(columns[0]), offset(row)).click_and_hold()
        for column in columns[1:]:
            actions = actions.move_to_element_with_offset(canvas, offset(column), offset(row))
        actions.release().perform()


def keras_answer(result, name):
    pixels = np.asarray(result["pixels"], np.float32).reshape(1, 28, 28)
    masks = np.asarray(result["mask"], bool).reshape(1, 28, 28)
    generator, config = load_inpainter(name)
    filled = inpaint(generator, config, data.apply_mask(pixels, masks), masks)
    return filled, int(classifiers.classify(classifiers.load_classifier(), filled)[0])


def test_the_page_loads_everything_from_its_own_origin(page):
    driver, origin = page
    resources = driver.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert any(name.endswith(".onnx") for name in resources) and any(name.endswith(".wasm") for name in resources)
    assert [name for name in resources if not name.startswith(origin)] == []


@pytest.mark.parametrize("name", INPAINTERS)
def test_a_digit_erased_with_the_mouse_is_filled_as_lib_fills_it(page, name):
    from selenium.webdriver.support.select import Select

    driver, _ = page
    Select(driver.find_element("id", "demo-model")).select_by_value(name)
    driver.find_elements("css selector", "#demo-strip canvas")[3].click()  # the fourth test digit, a 0
    erase_with_the_mouse(driver, rows=(11, 14, 17), columns=range(9, 19))
    result = fresh_fill(driver)
    assert result["model"] == name and result["digit"] == 3
    assert sum(result["mask"]) >= 60  # a real hole: three strokes of a 3-pixel brush
    (_, _), (x_test, _) = data.load_mnist()
    np.testing.assert_array_equal(np.round((np.asarray(result["pixels"]) + 1) * 127.5), x_test[3].reshape(-1))
    filled, label = keras_answer(result, name)
    page_grey = data.rescale(np.clip(np.asarray(result["filled"], np.float32).reshape(28, 28), -1, 1))
    keras_grey = data.rescale(filled[0, ..., 0])
    assert int(np.abs(page_grey.astype(int) - keras_grey.astype(int)).max()) <= 2
    assert result["label"] == label
    shown = driver.find_element("css selector", "#demo-bars .demo-bar-row.top .demo-bar-label").text
    assert shown == str(label)


def test_the_draw_brush_paints_white_strokes_that_the_models_keep(page):
    driver, _ = page
    driver.find_elements("css selector", "#demo-strip canvas")[1].click()
    erase_with_the_mouse(driver, rows=(2,), columns=range(2, 8), brush="demo-draw")
    result = fresh_fill(driver)
    pixels, mask = np.asarray(result["pixels"]).reshape(28, 28), np.asarray(result["mask"]).reshape(28, 28)
    assert (pixels[1:4, 2:8] == 1).sum() >= 12 and not mask.any()  # a 3-pixel brush, nothing missing
    driver.find_element("id", "demo-erase").click()
    driver.find_element("id", "demo-reset").click()
    restored = fresh_fill(driver)
    (_, _), (x_test, _) = data.load_mnist()
    np.testing.assert_array_equal(np.round((np.asarray(restored["pixels"]) + 1) * 127.5), x_test[1].reshape(-1))


def test_one_fill_takes_at_most_50_ms_after_warm_up(page):
    driver, _ = page
    for _ in range(5):
        fresh_fill(driver)
    times = [fresh_fill(driver)["totalMs"] for _ in range(20)]
    assert statistics.median(times) <= MAX_FILL_MS, times


def test_find_the_damage_finds_a_scribble_and_fills_it_as_lib_corrects_it(page):
    from selenium.webdriver.support.select import Select

    from lib.shipped import DEFAULT_INPAINTER

    driver, _ = page
    Select(driver.find_element("id", "demo-model")).select_by_value(DEFAULT_INPAINTER)
    driver.find_elements("css selector", "#demo-strip canvas")[3].click()  # a 0
    driver.find_element("id", "demo-blind").click()
    erase_with_the_mouse(driver, rows=(2,), columns=range(3, 25), brush="demo-draw")  # a stroke above it
    result = fresh_fill(driver)
    assert result["blind"] and not any(result["mask"])  # nothing marked: the page had to find it
    pixels = np.asarray(result["pixels"], np.float32).reshape(1, 28, 28)
    (_, _), (x_test, _) = data.load_mnist()
    scribbled = np.round((pixels[0] + 1) * 127.5) != x_test[3]
    assert scribbled.sum() >= 20
    corrected, found = inpainting.correct_digits(pixels)
    head, threshold = mask_head.load_mask_head()
    near_threshold = np.abs(mask_head.damage_probabilities(head, pixels)[0] - threshold) < 1e-4  # rounding may flip these
    page_found = np.asarray(result["found"], bool).reshape(28, 28)
    np.testing.assert_array_equal(page_found[~near_threshold], found[0][~near_threshold])
    assert found[0][scribbled].mean() >= 0.5  # most of what was drawn is found
    page_grey = data.rescale(np.clip(np.asarray(result["filled"], np.float32).reshape(28, 28), -1, 1))
    assert int(np.abs(page_grey.astype(int) - data.rescale(corrected[0]).astype(int)).max()) <= 2
    assert driver.find_element("id", "demo-found").is_displayed()
    driver.find_element("id", "demo-blind").click()  # back to marking holes
    assert not driver.find_element("id", "demo-found").is_displayed()


def test_a_chapters_formulas_are_typeset_with_the_network_blocked():
    """MathJax comes from the book's own site (mathjax/), so formulas render offline: every host but
    127.0.0.1 is unresolvable for this browser, and the page asks no other host for anything."""
    server = site.start_server()
    driver = headless_chromium("1200,1400", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        driver.get(f"{origin}/book/03_training.html")
        typeset = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;"
            "const wait = (tries) => ready() ? MathJax.startup.promise.then("
            "  () => done(document.querySelectorAll('mjx-container').length), (e) => done(String(e)))"
            "  : tries ? setTimeout(() => wait(tries - 1), 100) : done('MathJax never loaded');"
            "wait(100);")
        assert isinstance(typeset, int) and typeset >= 2, typeset  # L_D and L_G at least
        assert not driver.find_elements("css selector", "mjx-merror")
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert resources and all(name.startswith(origin) for name in resources), \
            [name for name in resources if not name.startswith(origin)]
    finally:
        driver.quit()
        server.shutdown()


def test_the_page_refuses_a_model_file_that_does_not_match_its_checksum(tmp_path):
    """models.json records each ONNX file's sha256; the page checks it before it runs the file,
    so a damaged or swapped model stops the demo with its name instead of answering wrongly."""
    copy = tmp_path / "html"
    shutil.copytree(site.BUILT, copy)
    model = copy / "demo" / "models" / "book_inpainter.onnx"
    damaged = bytearray(model.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    model.write_bytes(bytes(damaged))
    server = site.start_server(copy)
    driver = headless_chromium()
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/book/try_it.html")
        outcome = driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                              "window.inpaintDemo.ready.then(() => done('ready'), (e) => done(String(e)));")
        assert "book_inpainter.onnx does not match its checksum in models.json" in outcome, outcome
    finally:
        driver.quit()
        server.shutdown()
