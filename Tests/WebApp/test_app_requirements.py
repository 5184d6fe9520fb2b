"""JS and CSS requirements of browser plugins (IMJOY-PLUGINS.md §1.3): a window plugin's script and stylesheet URLs
load inside its sandboxed frame before its code runs; one that cannot load stops the plugin at once with the URL in
the message (not a 30 s wait for an API that never comes). Served from a second local HTTP server (offline)."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from test_app import app_engine, browser, console_errors, open_app, run_from_menu, shot, wait  # noqa: F401 (fixtures)
from test_app import install_from_page
from webapp_helpers import StaticServer

PLUGIN = '''<config lang="json">{"name": "%(name)s", "type": "window", "version": "0.1.0",
 "requirements": ["%(base)s/tiny-lib.js", "%(base)s/tiny.css"]}</config>
<window><div id="box">box</div></window>
<script lang="javascript">
class ImJoyPlugin {
  async run(ctx) {
    return {doubled: tinyLib.double(21), width: getComputedStyle(document.getElementById("box")).width};
  }
}
api.export(new ImJoyPlugin());
</script>'''


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("requirements")
    (root / "tiny-lib.js").write_text("window.tinyLib = { double: (x) => 2 * x };\n")
    (root / "tiny.css").write_text("#box { width: 123px; }\n")
    server = StaticServer(root)
    yield server.url
    server.stop()


def test_a_window_plugin_gets_its_js_and_css_requirements(app_engine, browser, assets):
    open_app(browser, app_engine)
    install_from_page(browser, PLUGIN % {"name": "Required", "base": assets})
    run_from_menu(browser, "Required")
    result = wait(browser, 60).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, 'section.window[aria-label="Required: result"] pre')))
    assert '"doubled": 42' in result.text and '"width": "123px"' in result.text, result.text
    shot(browser, "32-requirements")
    assert console_errors(browser) == []


def test_a_requirement_that_does_not_load_stops_the_plugin_with_its_url(app_engine, browser, assets):
    open_app(browser, app_engine)
    source = PLUGIN.replace("tiny-lib.js", "missing-lib.js") % {"name": "Unmet", "base": assets}
    install_from_page(browser, source)
    run_from_menu(browser, "Unmet")
    dialog = wait(browser, 20).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .error-message")))
    assert "Unmet failed to start: cannot load" in dialog.text and f"{assets}/missing-lib.js" in dialog.text, dialog.text
    assert not browser.find_elements(By.CSS_SELECTOR, 'section.window[aria-label="Unmet"]'), "its window is closed"
    unexpected = [e for e in console_errors(browser) if "missing-lib.js" not in e["message"]]
    assert unexpected == []
