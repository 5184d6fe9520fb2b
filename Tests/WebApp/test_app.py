"""The web app in a real headless Chromium against a real `imjoy serve` (native-python plugins on): open it with the
token, install and run a plugin from the project's repository, see its window and message, see a failing plugin's
traceback, use the engine panel and the workspace menu, by mouse and by keyboard, at desktop and phone sizes.
Screenshots of each step go to test-artifacts/."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    ElementNotInteractableException, NoSuchElementException, StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from webapp_helpers import Engine

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

FAILING = '''<config lang="json">{"name": "Faulty", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        raise ValueError("the threshold must be positive")

api.export(ImJoyPlugin())
</script>'''


@pytest.fixture(scope="module")
def app_engine(tmp_path_factory):
    """`imjoy serve` with native-python plugins, serving web/ and plugins/ from this checkout. Pyodide comes from a
    URL that cannot answer, so web-python plugins must fall back to the engine's Python."""
    cache = os.environ.get("IMJOY_TEST_CACHE_DIR") or str(tmp_path_factory.mktemp("app-cache"))
    engine = Engine(tmp_path_factory.mktemp("app-data"),
                    extra=("--cache-dir", cache, "--pyodide-url", "http://127.0.0.1:9/pyodide/"))
    yield {"url": engine.url, "token": engine.admin_token, "data_dir": engine.data_dir, "cache": cache}
    engine.stop()


def make_browser(width, height, *extra):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}", *extra]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    # Headless windows have a minimum width; emulate the exact viewport instead.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    return driver


@pytest.fixture
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    driver = make_browser(1280, 800)
    yield driver
    driver.quit()


def wait(driver, seconds=60):
    # Elements go stale when the app reloads (switching workspaces): look them up again.
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def open_app(driver, engine, query=""):
    driver.get(f"{engine['url']}/?token={engine['token']}{query}")
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")


def snackbar_text(driver, pattern, seconds=120):
    element = driver.find_element(By.ID, "snackbar")
    wait(driver, seconds).until(lambda d: re.search(pattern, element.text or ""))
    return element.text


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def shot(driver, name):
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_install_and_run_a_python_plugin_from_the_projects_repository(app_engine, browser):
    open_app(browser, app_engine)
    connection = browser.find_element(By.ID, "connection")
    assert connection.text == "connected: default"
    assert "token=" not in browser.current_url, "the token must not stay in the address bar"
    shot(browser, "01-connected")

    browser.find_element(By.ID, "open-install").click()
    card = wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'article.card[data-name="Python Hello"] button')))
    shot(browser, "02-install-dialog")
    card.click()
    snackbar_text(browser, r"Installed Python Hello")
    browser.find_element(By.CSS_SELECTOR, 'article.card[data-name="Image Window"] button').click()
    snackbar_text(browser, r"Installed Image Window")
    browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()
    run_from_menu(browser, "Python Hello")
    # Its `ui` string becomes a form: "Say hello to {id: 'name', type: 'string', placeholder: 'world'}".
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .op-form input")))
    assert field.get_attribute("value") == "world"
    assert "Say hello to" in browser.find_element(By.CSS_SELECTOR, "#dialog .op-form").text
    shot(browser, "03-op-form")
    field.clear()
    field.send_keys("Ada", Keys.ENTER)
    assert "Hello, Ada! (run 1)" in snackbar_text(browser, r"Hello, Ada!", seconds=180)
    result = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Python Hello: result"] pre')))
    assert '"greeting": "Hello, Ada!"' in result.text and '"runs": 1' in result.text
    shot(browser, "03b-plugin-ran")

    # The window plugin from the same repository: a sandboxed frame drawing its test pattern.
    run_from_menu(browser, "Image Window")
    result = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Image Window: result"] pre')))
    assert '"width": 64' in result.text and '"height": 64' in result.text
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#plugin-Image_Window iframe"))
    assert browser.find_element(By.ID, "caption").text == "64×64"
    browser.switch_to.default_content()

    browser.find_element(By.ID, "open-engine").click()
    state = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#engine-panel tr[data-name="Python Hello"] .state')))
    wait(browser).until(lambda d: state.text.startswith("running"))
    shot(browser, "04-engine-panel")
    assert console_errors(browser) == []


def test_a_plugin_that_throws_shows_its_error_and_traceback(app_engine, browser):
    open_app(browser, app_engine)
    browser.find_element(By.ID, "open-install").click()
    source = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'textarea[aria-label="Plugin source"]')))
    browser.execute_script("arguments[0].value = arguments[1]", source, FAILING)
    browser.find_element(By.XPATH, '//button[text()="Install source"]').click()
    snackbar_text(browser, r"Installed Faulty")
    browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()
    run_from_menu(browser, "Faulty")
    message = wait(browser, 180).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .error-message")))
    assert "the threshold must be positive" in message.text
    traceback = browser.find_element(By.CSS_SELECTOR, "#dialog pre.traceback").text
    assert "ValueError" in traceback and "line 7" in traceback, traceback
    shot(browser, "05-plugin-error")
    browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()
    assert console_errors(browser) == []


def test_workspaces_are_created_and_switched_from_the_menu_by_keyboard(app_engine, browser):
    open_app(browser, app_engine)
    browser.find_element(By.ID, "workspace-menu").send_keys(Keys.ENTER)
    wait(browser).until(EC.visibility_of_element_located((By.XPATH, '//dialog//button[text()="New workspace"]'))).send_keys(Keys.ENTER)
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog input[type=text]")))
    field.send_keys("lab", Keys.ENTER)
    wait(browser).until(lambda d: d.find_element(By.ID, "connection").text == "connected: lab")
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#workspace-select option")]
    assert "default" in options and "lab" in options
    # Escape closes a dialog; focus is usable throughout.
    browser.find_element(By.ID, "open-install").send_keys(Keys.ENTER)
    wait(browser).until(lambda d: d.find_element(By.ID, "dialog").get_attribute("open") is not None)
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(browser).until(lambda d: d.find_element(By.ID, "dialog").get_attribute("open") is None)
    shot(browser, "06-workspace-lab")
    assert console_errors(browser) == []


def test_the_app_fits_a_phone_screen(app_engine):
    driver = make_browser(390, 844)
    try:
        open_app(driver, app_engine)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        assert driver.find_element(By.ID, "open-install").is_displayed()
        ARTIFACTS.mkdir(exist_ok=True)
        shot(driver, "07-phone")
        assert console_errors(driver) == []
    finally:
        driver.quit()


IMAGE_MAKER = '''<config lang="json">{"name": "Image Maker", "type": "native-python", "version": "0.1.0",
 "requirements": ["numpy"]}</config>
<script lang="python">
import numpy as np
from imjoy import api

class ImJoyPlugin:
    def make(self, size=32):
        y, x = np.mgrid[0:size, 0:size]
        return ((x + y) * 4).astype("uint8")

api.export(ImJoyPlugin())
</script>'''

VIEWER = '''<config lang="json">{"name": "Viewer", "type": "window", "version": "0.1.0"}</config>
<window><p id="status">waiting</p><canvas id="view" width="32" height="32"></canvas></window>
<style>#view { width: 128px; image-rendering: pixelated; }</style>
<script lang="javascript">
class ImJoyPlugin {
  async setup() { document.getElementById("status").textContent = "ready"; }
  async run(ctx) {
    const maker = await api.getPlugin("Image Maker");
    const image = await maker.make(32);
    const context = document.getElementById("view").getContext("2d");
    const pixels = context.createImageData(32, 32);
    image.data.forEach((v, i) => pixels.data.set([v, v, v, 255], i * 4));
    context.putImageData(pixels, 0, 0);
    document.getElementById("status").textContent = `image ${image.shape.join("x")} ${image.dtype}`;
    return {shape: image.shape, dtype: image.dtype, corner: image.data[image.data.length - 1]};
  }
}
api.export(new ImJoyPlugin());
</script>'''

ESCAPER = '''<config lang="json">{"name": "Escaper", "type": "window", "version": "0.1.0"}</config>
<window><p>trying to get out</p></window>
<script lang="javascript">
class ImJoyPlugin {
  run() {
    const attempts = {};
    const attempt = (key, body) => { try { attempts[key] = "read: " + String(body()); } catch (e) { attempts[key] = "blocked: " + e.name; } };
    attempt("document", () => parent.document.title);
    attempt("storage", () => localStorage.getItem("imjoy-token"));
    attempt("session", () => sessionStorage.getItem("imjoy-token"));
    attempt("app", () => parent.imjoyApp.server.config.workspace);
    return attempts;
  }
}
api.export(new ImJoyPlugin());
</script>'''


def install_from_page(driver, source):
    driver.set_script_timeout(120)
    error = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.engine.install(arguments[0]).then(() => imjoyApp.plugins.refresh()).then(() => done(null), e => done(String(e)));",
        source)
    assert error is None, error


def canvas_pixel(driver, canvas, x, y):
    """[r, g, b, a] of one pixel of a canvas element."""
    return driver.execute_script(
        "return Array.from(arguments[0].getContext('2d').getImageData(arguments[1], arguments[2], 1, 1).data)", canvas, x, y)


def run_from_menu(driver, name):
    """Clicks a plugin's run button (the list is redrawn when plugins and ops come and go: find it again then)."""
    def click(d):
        try:
            d.find_element(By.CSS_SELECTOR, f'li.plugin[data-name="{name}"] button.run').click()
            return True
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    wait(driver).until(click)


def click_in_plugin_menu(driver, name, item):
    """Opens a plugin's ⋯ menu and clicks `item` (the list may be redrawn meanwhile, e.g. after a run: retry)."""
    def click(d):
        try:
            summary = d.find_element(By.CSS_SELECTOR, f'li.plugin[data-name="{name}"] summary')
            if not d.execute_script("return arguments[0].parentElement.open", summary):
                summary.click()
            d.find_element(By.XPATH, f'//li[@data-name="{name}"]//button[text()="{item}"]').click()
            return True
        except (StaleElementReferenceException, NoSuchElementException, ElementNotInteractableException):
            return False
    wait(driver).until(click)


def test_a_window_plugin_calls_a_python_plugin_and_shows_the_image_it_returned(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, IMAGE_MAKER)
    install_from_page(browser, VIEWER)
    run_from_menu(browser, "Viewer")
    result = wait(browser, 180).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Viewer: result"] pre')))
    assert '"shape": [\n    32,\n    32\n  ]' in result.text and '"dtype": "uint8"' in result.text and '"corner": 248' in result.text
    frame = browser.find_element(By.CSS_SELECTOR, "#plugin-Viewer iframe")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    browser.switch_to.frame(frame)
    assert browser.find_element(By.ID, "status").text == "image 32x32 uint8"
    corner = browser.execute_script(
        "return Array.from(document.getElementById('view').getContext('2d').getImageData(31, 31, 1, 1).data)")
    assert corner == [248, 248, 248, 255]
    browser.switch_to.default_content()
    shot(browser, "08-window-plugin-image")
    assert console_errors(browser) == []


def test_a_sandboxed_plugin_cannot_reach_the_app_or_its_storage(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, ESCAPER)
    run_from_menu(browser, "Escaper")
    result = wait(browser, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Escaper: result"] pre')))
    for key in ["document", "storage", "session", "app"]:
        assert f'"{key}": "blocked: SecurityError"' in result.text, result.text
    shot(browser, "09-sandbox")
    assert console_errors(browser) == []


def step_plugin(name, expression):
    return f'''<config lang="json">{{"name": "{name}", "type": "native-python", "version": "0.1.0"}}</config>
<script lang="python">
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        value = (ctx.data or {{}}).get("value", 0)
        return {{"value": {expression}}}

api.export(ImJoyPlugin())
</script>'''


def test_a_workflow_of_two_ops_runs_is_saved_and_reloaded(app_engine, browser):
    open_app(browser, app_engine, "&workspace=default")
    install_from_page(browser, step_plugin("Add Three", "value + 3"))
    install_from_page(browser, step_plugin("Double", "value * 2"))
    browser.find_element(By.ID, "open-workflow").click()
    # The panel's window appears first; its form follows once the saved workflows are listed.
    name = wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, '#workflow-panel input[aria-label="Workflow name"]')))
    name.clear()
    name.send_keys("add then double")
    step_items = "#workflow-panel ol.steps li"
    for count, plugin in enumerate(["Add Three", "Double"], start=1):
        picker = browser.find_element(By.CSS_SELECTOR, '#workflow-panel select[aria-label="Plugin to add"]')
        browser.execute_script("arguments[0].value = arguments[1]", picker, plugin)
        browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Add step"]').click()
        # Each step re-renders the panel (after an RPC round trip): wait for it before the next one.
        wait(browser).until(lambda d, n=count: len(d.find_elements(By.CSS_SELECTOR, step_items)) == n)
    steps = [li.get_attribute("data-plugin") for li in browser.find_elements(By.CSS_SELECTOR, step_items)]
    assert steps == ["Add Three", "Double"]
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Run workflow"]').click()
    result = wait(browser, 180).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#workflow-result pre")))
    assert '"value": 6' in result.text
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Save"]').click()
    snackbar_text(browser, "Saved workflow add then double")
    shot(browser, "10-workflow")

    open_app(browser, app_engine)  # a fresh page: nothing in memory
    browser.find_element(By.ID, "open-workflow").click()
    saved = '#workflow-panel select[aria-label="Saved workflows"]'
    wait(browser).until(lambda d: "add then double" in d.find_element(By.CSS_SELECTOR, saved).text)
    browser.execute_script("arguments[0].value = 'add then double'; arguments[0].dispatchEvent(new Event('change'))",
                           browser.find_element(By.CSS_SELECTOR, saved))
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#workflow-panel ol.steps li")) == 2)
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Run workflow"]').click()
    wait(browser, 120).until(lambda d: '"value": 6' in d.find_element(By.CSS_SELECTOR, "#workflow-result pre").text)
    assert console_errors(browser) == []


WORKER_PROBE = '''<config lang="json">{"name": "Worker Probe", "type": "web-worker", "version": "0.1.0"}</config>
<script lang="javascript">
class ImJoyPlugin {
  run(ctx) {
    return {
      hasDocument: typeof document !== "undefined",
      inWorker: typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope,
      sum: [1, 2, 3].reduce((a, b) => a + b),
    };
  }
}
api.export(new ImJoyPlugin());
</script>'''


def test_a_web_worker_plugin_runs_in_a_real_worker(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, WORKER_PROBE)
    run_from_menu(browser, "Worker Probe")
    result = wait(browser, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Worker Probe: result"] pre')))
    assert '"hasDocument": false' in result.text and '"inWorker": true' in result.text and '"sum": 6' in result.text
    assert console_errors(browser) == []


WEB_PYTHON = '''<config lang="json">{"name": "Web Python Probe", "type": "web-python", "version": "0.1.0"}</config>
<script lang="python">
import sys
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        return {"where": "pyodide" if sys.platform == "emscripten" else "engine", "total": sum(range(5))}

api.export(ImJoyPlugin())
</script>'''


def test_web_python_falls_back_to_the_engines_python_when_pyodide_cannot_load(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, WEB_PYTHON)
    run_from_menu(browser, "Web Python Probe")
    notice = snackbar_text(browser, r"Pyodide could not be loaded", seconds=60)
    assert "http://127.0.0.1:9/pyodide/" in notice and "runs on the engine's Python instead" in notice
    result = wait(browser, 180).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, 'section.window[aria-label="Web Python Probe: result"] pre')))
    assert '"where": "engine"' in result.text and '"total": 10' in result.text
    # The only console line allowed is the failed probe of the unreachable Pyodide URL.
    assert [e for e in console_errors(browser) if "127.0.0.1:9/pyodide" not in e["message"]] == []


SIZER = '''<config lang="json">{"name": "Sizer", "type": "window", "version": "0.1.0"}</config>
<window><p id="hello">resize me</p></window>
<script lang="javascript">
class ImJoyPlugin { run() { return null; } }
api.export(new ImJoyPlugin());
</script>'''


def test_windows_move_and_resize_and_the_layout_is_restored(app_engine, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    open_app(browser, app_engine)
    install_from_page(browser, SIZER)
    run_from_menu(browser, "Sizer")
    window = wait(browser).until(EC.presence_of_element_located((By.ID, "plugin-Sizer")))
    assert window.get_attribute("data-size") == "6x5"
    window.send_keys(Keys.ALT, Keys.ARROW_RIGHT)
    window.send_keys(Keys.ALT, Keys.ARROW_RIGHT)
    window.send_keys(Keys.ALT, Keys.ARROW_DOWN)
    assert window.get_attribute("data-size") == "8x6"
    browser.execute_script("imjoyApp.windows.create({id: 'notes', type: 'imjoy/markdown', name: 'Notes', data: '# Notes'})")
    notes_title = browser.find_element(By.CSS_SELECTOR, "#notes .window-title span")
    ActionChains(browser).click_and_hold(notes_title).move_to_element(window).release().perform()
    order = [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "#workspace > section.window")]
    assert order.index("notes") < order.index("plugin-Sizer"), order
    shot(browser, "11-layout")
    browser.set_script_timeout(30)
    wait(browser).until(lambda d: d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.engine.get_layout().then(l => done(JSON.stringify(l)), e => done(String(e)))").find('"w":8') > 0)

    open_app(browser, app_engine)  # a new page restores sizes and places by window id
    run_from_menu(browser, "Sizer")
    window = wait(browser).until(EC.presence_of_element_located((By.ID, "plugin-Sizer")))
    assert window.get_attribute("data-size") == "8x6"
    assert console_errors(browser) == []


EDITABLE = '''<config lang="json">{"name": "Editable", "type": "window", "version": "0.1.0"}</config>
<window><p id="version">v1</p></window>
<script lang="javascript">
class ImJoyPlugin { run() { return document.getElementById("version").textContent; } }
api.export(new ImJoyPlugin());
</script>'''


def test_the_plugin_editor_saves_and_hot_reloads_a_plugin(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, EDITABLE)
    run_from_menu(browser, "Editable")
    wait(browser).until(lambda d: '"v1"' in d.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Editable: result"] pre').text)
    click_in_plugin_menu(browser, "Editable", "Edit")
    text = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#editor-Editable textarea")))
    tags = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#editor-Editable .tok-tag")]
    assert '<config lang="json">' in tags and "<window>" in tags, tags
    browser.execute_script(
        "arguments[0].value = arguments[0].value.replace('>v1<', '>v2<').replace('0.1.0', '0.2.0');"
        "arguments[0].dispatchEvent(new Event('input'))", text)
    assert '"0.2.0"' in browser.find_element(By.CSS_SELECTOR, "#editor-Editable .editor-highlight").text
    shot(browser, "12-editor")
    browser.find_element(By.XPATH, '//section[@id="editor-Editable"]//button[text()="Run"]').click()
    snackbar_text(browser, "Saved Editable 0.2.0")
    wait(browser).until(lambda d: '"v2"' in d.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Editable: result"] pre').text)
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#plugin-Editable iframe"))
    assert browser.find_element(By.ID, "version").text == "v2"
    browser.switch_to.default_content()
    assert console_errors(browser) == []


CELL_PAINTER = '''<config lang="json">{"name": "Cell Painter", "type": "native-python", "version": "0.1.0",
 "requirements": ["numpy"]}</config>
<script lang="python">
import numpy as np
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        image = np.zeros((40, 40), dtype="float32")
        image[15:25, 15:25] = 100.0
        mask = (image > 50).astype("uint8")
        await api.createWindow(type="imjoy/image", name="Cells", data={"image": image, "mask": mask})
        return "shown"

api.export(ImJoyPlugin())
</script>'''


def test_the_image_viewer_shows_a_python_image_with_mask_colormap_contrast_and_zoom(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, CELL_PAINTER)
    run_from_menu(browser, "Cell Painter")
    canvas = wait(browser, 180).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Cells"] canvas')))
    pixel = lambda x, y: canvas_pixel(browser, canvas, x, y)
    assert pixel(5, 5) == [0, 0, 0, 255]
    inside = pixel(20, 20)
    assert inside[3] == 255 and len(set(inside[:3])) > 1, f"the mask should tint the object: {inside}"
    shot(browser, "13-image-viewer")
    browser.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Cells"] input[aria-label="Show mask"]').click()
    assert pixel(20, 20) == [255, 255, 255, 255]
    colormap = browser.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Cells"] select[aria-label="Colour map"]')
    browser.execute_script("arguments[0].value = 'viridis'; arguments[0].dispatchEvent(new Event('change'))", colormap)
    assert pixel(5, 5) == [68, 1, 84, 255]
    maximum = browser.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Cells"] input[aria-label="max"]')
    browser.execute_script("arguments[0].value = '200'; arguments[0].dispatchEvent(new Event('input'))", maximum)
    assert pixel(20, 20) != [253, 231, 37, 255], "contrast: 100 of 0–200 is no longer the top of the map"
    assert canvas.value_of_css_property("width") == "320px", "a 40 px image starts enlarged 8×"
    browser.find_element(By.CSS_SELECTOR, 'section.window[aria-label="Cells"] button[aria-label="Zoom in"]').click()
    assert canvas.value_of_css_property("width") == "640px"
    assert console_errors(browser) == []


TIFF_PAINTER = '''<config lang="json">{"name": "TIFF Painter", "type": "native-python", "version": "0.1.0",
 "requirements": ["numpy==2.4.6", "tifffile==2025.12.20"]}</config>
<script lang="python">
import io
import numpy as np
import tifffile
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        image = np.zeros((32, 48), dtype="uint16")
        image[8:24, 30:46] = 1000
        out = io.BytesIO()
        tifffile.imwrite(out, image, compression="zlib", predictor=True)
        await api.createWindow(type="imjoy/image", name="TIFF", data={"image": out.getvalue()})
        return "shown"

api.export(ImJoyPlugin())
</script>'''


def test_the_image_viewer_decodes_tiff_bytes_from_python(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, TIFF_PAINTER)
    run_from_menu(browser, "TIFF Painter")
    canvas = wait(browser, 180).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, 'section.window[aria-label="TIFF"] canvas[aria-label="image 48×32"]')))
    pixel = lambda x, y: canvas_pixel(browser, canvas, x, y)
    assert pixel(2, 2) == [0, 0, 0, 255]
    assert pixel(40, 16) == [255, 255, 255, 255], "the 16-bit square is the top of the display range"
    assert pixel(20, 16) == [0, 0, 0, 255], "left of the square (a swapped width and height would not be)"
    shot(browser, "13b-image-viewer-tiff")
    assert console_errors(browser) == []


def test_workflow_steps_take_parameters_from_their_form_and_workflows_are_shared_by_link(app_engine, browser):
    from urllib.parse import urlencode

    open_app(browser, app_engine)
    install_from_page(browser, (REPO / "plugins" / "Python-Hello.imjoy.html").read_text())
    browser.find_element(By.ID, "open-workflow").click()
    picker = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, '#workflow-panel select[aria-label="Plugin to add"]')))
    browser.execute_script("arguments[0].value = 'Python Hello'", picker)
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Add step"]').click()
    wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, '#workflow-panel button[aria-label="Edit step 1"]'))).click()
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .op-form input")))
    field.clear()
    field.send_keys("Bob", Keys.ENTER)
    wait(browser).until(lambda d: '{"name":"Bob"}' in d.find_element(By.CSS_SELECTOR, "#workflow-panel ol.steps li").text)
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Run workflow"]').click()
    wait(browser, 180).until(lambda d: '"greeting": "Hello, Bob!"' in d.find_element(By.CSS_SELECTOR, "#workflow-result pre").text)
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Share"]').click()
    link = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#dialog input[aria-label="Workflow link"]')))
    shared = link.get_attribute("value")
    assert "workflow=" in shared
    browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()

    browser.get(shared)  # the token stays in this tab's session
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    step = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#workflow-panel ol.steps li")))
    assert step.get_attribute("data-plugin") == "Python Hello" and '{"name":"Bob"}' in step.text
    assert console_errors(browser) == []


WORD_COUNTER = '''<config lang="json">{"name": "Word Counter", "type": "native-python", "version": "0.1.0",
 "inputs": {"type": "object", "properties": {"type": {"enum": ["text/plain"]}}}}</config>
<script lang="python">
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        file = ctx.data["file"]
        return {"name": file["name"], "words": len(bytes(file["bytes"]).decode().split())}

api.export(ImJoyPlugin())
</script>'''

DROP_FILE = """
const area = document.getElementById('workspace');
const transfer = new DataTransfer();
transfer.items.add(new File(['the quick brown fox jumps'], 'note.txt', {type: 'text/plain'}));
area.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
"""


def test_a_dropped_file_runs_through_the_plugin_whose_inputs_accept_it_or_a_workflow(app_engine, browser):
    open_app(browser, app_engine)
    install_from_page(browser, WORD_COUNTER)
    browser.execute_script(DROP_FILE)
    choices = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#dialog select[aria-label="Run the file with"]')))
    assert choices.get_attribute("value") == "plugin:Word Counter", "the plugin whose inputs accept text/plain comes first"
    browser.find_element(By.XPATH, '//dialog//button[text()="Run"]').click()
    result = wait(browser, 180).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Word Counter: result"] pre')))
    assert '"words": 5' in result.text and '"name": "note.txt"' in result.text

    browser.set_script_timeout(30)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.engine.save_workflow({name: 'count words', steps: [{plugin: 'Word Counter'}]}).then(done, done)")
    browser.execute_script(DROP_FILE)
    choices = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#dialog select[aria-label="Run the file with"]')))
    browser.execute_script("arguments[0].value = 'workflow:count words'", choices)
    browser.find_element(By.XPATH, '//dialog//button[text()="Run"]').click()
    wait(browser, 120).until(lambda d: '"words": 5' in d.find_element(By.CSS_SELECTOR, "#workflow-result pre").text)
    assert console_errors(browser) == []


@pytest.mark.parametrize("kind", ["window", "iframe", "web-worker", "web-python"])
def test_plugins_made_by_imjoy_new_start_and_run_in_the_app(app_engine, browser, tmp_path, kind):
    """`imjoy new` for each browser type: the file it writes installs, starts and runs (its run scales [1, 2, 3]
    by the form's default factor 2). web-python runs on the engine's Python here (no Pyodide)."""
    binary = os.environ.get("IMJOY_BIN") or str(REPO / ".build" / "debug" / "imjoy")
    name = f"New {kind}"
    made = subprocess.run([binary, "new", kind, name, "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    source = (tmp_path / f"New-{kind}.imjoy.html").read_text()
    open_app(browser, app_engine)
    install_from_page(browser, source)
    run_from_menu(browser, name)
    # Its `ui` becomes a form with the factor's default, 2; Enter runs it.
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .op-form input")))
    assert field.get_attribute("value") == "2"
    field.send_keys(Keys.ENTER)
    result = wait(browser, 100).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f'section.window[aria-label="{name}: result"] pre')))
    assert '"values": [\n    2,\n    4,\n    6\n  ]' in result.text, result.text
    assert '"factor": 2' in result.text
    snackbar_text(browser, r"scaled 3 values by 2", seconds=60)
    if kind == "window":
        frame = browser.find_element(By.CSS_SELECTOR, f'#plugin-New_{kind} iframe')
        browser.switch_to.frame(frame)
        assert browser.find_element(By.ID, "result").text == "[2,4,6]"
        browser.switch_to.default_content()
    shot(browser, f"14-imjoy-new-{kind}")
    assert [e for e in console_errors(browser) if "127.0.0.1:9/pyodide" not in e["message"]] == []


def test_the_count_nuclei_workflow_file_runs_unchanged_in_the_app(app_engine, browser):
    """plugins/workflows/count-nuclei.imjoy.json (the file `imjoy run` uses) opened by link: its steps run in the app
    on the scikit-image sample the reader falls back to without an input, and the table window shows the
    measurements. The screenshot is the README's demo picture."""
    import json
    from urllib.parse import quote

    open_app(browser, app_engine)
    for name in ["Image-Reader", "Nuclei-Counter", "Table-Window"]:
        install_from_page(browser, (REPO / "plugins" / f"{name}.imjoy.html").read_text())
    workflow = json.loads((REPO / "plugins" / "workflows" / "count-nuclei.imjoy.json").read_text())
    browser.get(f"{app_engine['url']}/?workflow={quote(json.dumps(workflow))}")
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    steps = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#workflow-panel ol.steps li")
                                if len(d.find_elements(By.CSS_SELECTOR, "#workflow-panel ol.steps li")) == 2 else False)
    assert [s.get_attribute("data-plugin") for s in steps] == ["Image Reader", "Nuclei Counter"]
    browser.find_element(By.XPATH, '//section[@id="workflow-panel"]//button[text()="Run workflow"]').click()
    result = wait(browser, 100).until(lambda d: (lambda t: t if '"count": ' in t else False)(
        d.find_element(By.CSS_SELECTOR, "#workflow-result pre").text))
    assert '"count": 22' in result and '"name": "coins"' in result and '"data": "<Uint16Array × 116352>"' in result, result
    # The measurements of the same run in the demo's table window.
    browser.set_script_timeout(100)
    shown = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.workflows.run({}).then((data) => imjoyApp.plugins.execute('Table Window', {table: data.table}, {}))"
        ".then(() => done(true), (e) => done(String(e)));")
    assert shown is True, shown
    frame = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#plugin-Table_Window iframe")))
    browser.switch_to.frame(frame)
    wait(browser).until(lambda d: d.find_element(By.ID, "caption").text == "22 rows")
    assert [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#table th")][:3] == ["label", "area", "mean_intensity"]
    browser.switch_to.default_content()
    # The same nuclei over the image in the viewer (the plugin's "Count and Show Nuclei" op as a workflow step).
    shown = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.workflows.show({name: 'count and show', steps: [{plugin: 'Image Reader', config: {grayscale: 'yes'}},"
        " {plugin: 'Nuclei Counter', op: 'Count and Show Nuclei'}]})"
        ".then(() => imjoyApp.workflows.run({})).then((data) => done(data.count), (e) => done(String(e)));")
    assert shown == 22, shown
    try:
        viewer = wait(browser, 30).until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, 'section.window[aria-label="coins: 22 nuclei"] canvas')))
    except Exception:
        logs = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "imjoyApp.engine.logs('Nuclei Counter').then((rows) => done(rows.map((r) => r.text).slice(-20)), (e) => done(String(e)));")
        windows = browser.execute_script(
            "return Array.from(document.querySelectorAll('section.window')).map((w) => w.getAttribute('aria-label'))")
        raise AssertionError(f"no viewer window; windows: {windows}; plugin log: {logs}")
    assert browser.find_element(By.CSS_SELECTOR, 'section.window[aria-label="coins: 22 nuclei"] input[aria-label="Show mask"]').is_selected()
    assert viewer.get_attribute("width") == "384" and viewer.get_attribute("height") == "303"
    shot(browser, "15-demo-count-nuclei")
    assert console_errors(browser) == []


WHERE_AM_I = '''<config lang="json">{"name": "Where Am I", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
import os, sys
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        print(f"Where Am I ran in process {os.getpid()}", flush=True)
        return {"prefix": sys.prefix, "pid": os.getpid()}

api.export(ImJoyPlugin())
</script>'''


def test_native_python_plugins_run_on_the_worker_picked_in_the_engine_panel(app_engine, browser, tmp_path):
    """Issue 9: an `imjoy worker` joins the engine; the engine panel lists it with its resources, and a plugin run
    from the menu after picking the worker runs in the worker's environment folder."""
    import asyncio
    import time

    from hypha_rpc import connect_to_server
    from selenium.webdriver.support.ui import Select

    binary = os.environ.get("IMJOY_BIN") or str(REPO / ".build" / "debug" / "imjoy")
    token = subprocess.run(
        [binary, "token", "--worker", "--workspace", "default", "--data-dir", str(app_engine["data_dir"])],
        capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    worker_dir = tmp_path / "worker"
    worker = subprocess.Popen(
        [binary, "worker", "--server", app_engine["url"], "--token", token, "--name", "web-gpu",
         "--data-dir", str(worker_dir), "--cache-dir", app_engine["cache"]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    import threading
    lines = []
    threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while not any("imjoy worker web-gpu connected to" in line for line in lines):
            assert time.monotonic() < deadline and worker.poll() is None, "".join(lines[-20:])
            time.sleep(0.1)

        async def install():
            client = await connect_to_server({"server_url": app_engine["url"], "token": app_engine["token"]})
            await (await client.get_service("public/plugin-engine")).install(WHERE_AM_I)
            await client.disconnect()
        asyncio.run(install())

        open_app(browser, app_engine)
        browser.find_element(By.ID, "open-engine").click()
        wait(browser).until(
            lambda d: d.find_element(By.CSS_SELECTOR, '#engine-panel tr[data-host="web-gpu"] .state').text == "online")
        row = browser.find_element(By.CSS_SELECTOR, '#engine-panel tr[data-host="web-gpu"]').text
        assert re.search(r"web-gpu online \d+ [\d.]+ GiB", row), row
        Select(browser.find_element(By.ID, "engine-host")).select_by_value("web-gpu")
        run_from_menu(browser, "Where Am I")
        result = wait(browser, 180).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'section.window[aria-label="Where Am I: result"] pre')))
        assert str(worker_dir / "envs") in result.text, result.text
        browser.find_element(By.ID, "open-engine").click()
        wait(browser).until(
            lambda d: d.find_element(By.CSS_SELECTOR, '#engine-panel tr[data-name="Where Am I"] .host').text == "web-gpu")
        # The panel redraws on every live plugin_status event: read the state through a wait that retries.
        wait(browser).until(
            lambda d: d.find_element(By.CSS_SELECTOR, '#engine-panel tr[data-name="Where Am I"] .state').text == "running")
        # The plugin's output on the worker reached the app as a live plugin_log event (nothing polls for it).
        wait(browser).until(lambda d: "Where Am I ran in process" in d.find_element(
            By.CSS_SELECTOR, '#engine-panel tr[data-name="Where Am I"] .last-line').text)
        shot(browser, "17-worker-host")
        assert console_errors(browser) == []
    except BaseException:
        print("worker output:\n" + "".join(lines[-30:]))
        raise
    finally:
        worker.terminate()
        assert worker.wait(20) == 0, "the worker did not stop cleanly on SIGTERM"


def test_the_app_works_over_https_and_wss_from_a_tls_engine(tmp_path):
    """Issue 9: `imjoy serve --tls-cert --tls-key` serves the app over https and its RPC over wss (the browser is
    told to accept the self-signed test certificate, as a user would after trusting it)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    engine = Engine(tmp_path / "data", extra=("--no-plugins", "--tls-cert", str(cert), "--tls-key", str(key)))
    driver = make_browser(1280, 800, "--ignore-certificate-errors")
    try:
        assert engine.url.startswith("https://")
        open_app(driver, {"url": engine.url, "token": engine.admin_token})
        assert wait(driver).until(lambda d: d.find_element(By.ID, "connection").text == "connected: default")
        assert driver.execute_script("return location.protocol") == "https:"
        shot(driver, "18-https")
        assert console_errors(driver) == []
    finally:
        driver.quit()
        engine.stop()


def test_a_swift_programs_op_is_listed_and_runs_from_the_menu_and_in_a_workflow(app_engine, browser):
    """Issue 8: Examples/SwiftHistogram (an ImJoyClient program) offers an op the web app lists with the plugins,
    runs from its form (its Swift error comes back), and runs as a workflow step after the Image Reader."""
    import json
    import time

    binary = os.environ.get("IMJOY_BIN") or str(REPO / ".build" / "debug" / "imjoy")
    example = Path(binary).parent / "swift-histogram"
    assert example.exists(), f"{example} is built by `swift build` (the swift-histogram product)"
    program = subprocess.Popen([str(example), "--server", app_engine["url"], "--token", app_engine["token"]],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "Swift Histogram is ready" in program.stdout.readline()
        open_app(browser, app_engine)
        install_from_page(browser, (REPO / "plugins" / "Image-Reader.imjoy.html").read_text())
        run_from_menu(browser, "Swift Histogram")
        field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .op-form input")))
        field.clear()
        field.send_keys("4", Keys.ENTER)
        message = wait(browser, 60).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .error-message")))
        assert "Swift Histogram needs a numeric image" in message.text
        browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()

        browser.set_script_timeout(120)
        result = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "imjoyApp.workflows.show({name: 'histogram', steps: [{plugin: 'Image Reader'},"
            " {plugin: 'Swift Histogram', config: {bins: 4}}]})"
            ".then(() => imjoyApp.workflows.run({})).then((data) => done(JSON.stringify(data)), (e) => done(String(e)));")
        data = json.loads(result)
        assert data["bins"] == 4 and len(data["histogram"]) == 4 and sum(data["histogram"]) == 303 * 384, data
        assert data["name"] == "coins"
        # The Swift op's histogram in the Chart Window plugin (a sandboxed window drawing SVG bars).
        install_from_page(browser, (REPO / "plugins" / "Chart-Window.imjoy.html").read_text())
        drawn = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "imjoyApp.plugins.run('Chart Window', {histogram: arguments[0]}).then(() => done(true), (e) => done(String(e)));",
            data["histogram"])
        assert drawn is True, drawn
        browser.switch_to.frame(wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#plugin-Chart_Window iframe"))))
        wait(browser).until(lambda d: d.find_element(By.ID, "caption").text == f"histogram: 4 bars, max {max(data['histogram'])}")
        heights = [float(bar.get_attribute("height")) for bar in browser.find_elements(By.CSS_SELECTOR, "#chart rect")]
        assert len(heights) == 4 and max(heights) == 180
        assert [round(h) for h in heights] == [round(v / max(data["histogram"]) * 180) for v in data["histogram"]]
        browser.switch_to.default_content()
        shot(browser, "19-swift-op")
        assert console_errors(browser) == []
    finally:
        program.terminate()
        program.wait(20)


def test_a_workflow_step_naming_an_op_runs_that_op(app_engine, browser):
    """A step's `op` (an op the plugin registered with api.register) is kept when a workflow is loaded and is the
    function that runs: Image Filters' Otsu Threshold turns the coins sample into a 0/1 mask."""
    import json

    open_app(browser, app_engine)
    for name in ["Image-Reader", "Image-Filters"]:
        install_from_page(browser, (REPO / "plugins" / f"{name}.imjoy.html").read_text())
    browser.set_script_timeout(240)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "imjoyApp.workflows.show({name: 'threshold', steps: [{plugin: 'Image Reader', config: {grayscale: 'yes'}},"
        " {plugin: 'Image Filters', op: 'Otsu Threshold'}]})"
        ".then(() => imjoyApp.workflows.run({}))"
        ".then((data) => done(JSON.stringify({keys: Object.keys(data ?? {}), threshold: data?.threshold,"
        " steps: imjoyApp.workflows.document().steps})), (e) => done(String(e)));")
    assert result.startswith("{"), result
    data = json.loads(result)
    assert data["steps"][1] == {"plugin": "Image Filters", "op": "Otsu Threshold", "config": {}}
    step = browser.find_elements(By.CSS_SELECTOR, "#workflow-panel ol.steps li")[1]
    assert step.get_attribute("data-op") == "Otsu Threshold" and step.text.startswith("Image Filters / Otsu Threshold")
    # What Otsu Threshold returns (the plugin's own run would return a filtered image and no mask).
    assert "mask" in data["keys"] and 0 < data["threshold"] < 255, data
    assert console_errors(browser) == []
