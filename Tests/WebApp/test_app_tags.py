"""Plugin tags (configuration modes, IMJOY-PLUGINS.md §1.5) in the web app: the install dialog's tag selector, the
tag shown in the plugin list and seen by the plugin as api.TAG, and the editor's selector that re-saves a plugin in
another tag. A real `imjoy serve` whose repository (--plugins-dir) holds a plugin with tags."""
import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from test_app import browser, click_in_plugin_menu, console_errors, open_app, run_from_menu, shot, snackbar_text, wait  # noqa: F401 (fixture)
from webapp_helpers import Engine

TAGGED = '''<config lang="json">{"name": "Tagged", "type": "window", "version": "0.1.0", "tags": ["stable", "dev"],
 "ui": {"stable": "the stable mode", "dev": "dev level {id: 'level', type: 'number', placeholder: 3}"}}</config>
<window><p id="mode">?</p></window>
<script lang="javascript">
class ImJoyPlugin {
  async setup() { document.getElementById("mode").textContent = `mode ${api.TAG}`; }
  async run(ctx) { return {tag: api.TAG, config_tag: api.config.tag, level: ctx.config?.level ?? null}; }
}
api.export(new ImJoyPlugin());
</script>'''


@pytest.fixture(scope="module")
def tagged_engine(tmp_path_factory):
    repository = tmp_path_factory.mktemp("tagged-repository")
    (repository / "Tagged.imjoy.html").write_text(TAGGED)
    (repository / "manifest.imjoy.json").write_text(json.dumps({
        "name": "Tagged plugins", "version": "0.1.0", "uri_root": "",
        "plugins": [{"name": "Tagged", "type": "window", "version": "0.1.0", "description": "modes",
                     "tags": ["stable", "dev"], "uri": "Tagged.imjoy.html"}]}))
    engine = Engine(tmp_path_factory.mktemp("tagged-data"), extra=("--no-plugins", "--plugins-dir", str(repository)))
    yield {"url": engine.url, "token": engine.admin_token}
    engine.stop()


def result_text(driver, name):
    return wait(driver).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, f'section.window[aria-label="{name}: result"] pre'))).text


def test_a_plugin_is_installed_in_the_tag_picked_in_the_dialog_and_resaved_in_another_from_the_editor(
        tagged_engine, browser):
    open_app(browser, tagged_engine)
    browser.find_element(By.ID, "open-install").click()
    picker = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'select[aria-label="Tag for Tagged"]')))
    assert [o.text for o in Select(picker).options] == ["stable", "dev"]
    assert Select(picker).first_selected_option.text == "stable", "the first tag is the default"
    Select(picker).select_by_value("dev")
    shot(browser, "30-install-tag")
    browser.find_element(By.CSS_SELECTOR, 'article.card[data-name="Tagged"] button[aria-label="Install Tagged"]').click()
    assert "Installed Tagged" in snackbar_text(browser, r"Install")
    browser.find_element(By.CSS_SELECTOR, "#dialog menu button").click()

    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'li.plugin[data-name="Tagged"] [aria-label="tag dev"]')))
    run_from_menu(browser, "Tagged")
    # The dev tag's `ui` (a per-tag field) has a form field; the stable one has none.
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#dialog .op-form input")))
    assert "dev level" in browser.find_element(By.CSS_SELECTOR, "#dialog .op-form").text
    field.send_keys(Keys.ENTER)
    text = result_text(browser, "Tagged")
    assert '"tag": "dev"' in text and '"config_tag": "dev"' in text and '"level": 3' in text, text
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#plugin-Tagged iframe"))
    assert browser.find_element(By.ID, "mode").text == "mode dev"
    browser.switch_to.default_content()

    click_in_plugin_menu(browser, "Tagged", "Edit")
    tag = Select(wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#editor-Tagged select[aria-label="Tag"]'))))
    assert tag.first_selected_option.text == "dev", "the editor shows the tag the plugin is installed in"
    tag.select_by_value("stable")
    shot(browser, "31-editor-tag")
    browser.find_element(By.XPATH, '//section[@id="editor-Tagged"]//button[text()="Save"]').click()
    snackbar_text(browser, "Saved Tagged 0.1.0")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'li.plugin[data-name="Tagged"] [aria-label="tag stable"]')))
    # Run in the editor reloads the running instance in its new tag (whose `ui` has no fields: it runs at once).
    browser.find_element(By.XPATH, '//section[@id="editor-Tagged"]//button[text()="Run"]').click()
    wait(browser).until(lambda d: '"tag": "stable"' in result_text(d, "Tagged"))
    assert '"level": null' in result_text(browser, "Tagged")
    assert console_errors(browser) == []
