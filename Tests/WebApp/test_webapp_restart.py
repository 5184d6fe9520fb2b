"""The engine goes away and comes back on the same port: the page reconnects by itself."""

import time

import pytest

from webapp_helpers import Engine, free_port, run_js


@pytest.fixture
def restartable(tmp_path):
    data_dir = tmp_path / "imjoy-data"
    data_dir.mkdir()
    port = free_port()
    engines = [Engine(data_dir, port=port)]
    try:
        yield engines, data_dir, port
    finally:
        for engine in engines:
            engine.stop()


# Chromium itself logs each refused WebSocket attempt while the engine is down.
@pytest.mark.console_allows(r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws' failed")
def test_the_page_reconnects_after_an_engine_restart(page, restartable):
    engines, data_dir, port = restartable
    first = engines[0]
    before = run_js(page, """
        const { connectToServer } = await import('/lib/hypha.js');
        window.states = [];
        window.server = await connectToServer({ server_url: args[0], token: args[1], workspace: "default",
                                                on_state_change: (d) => window.states.push(d) });
        await server.registerService({ id: "kept", config: { visibility: "public" }, hi: () => "hi" });
        return { workspace: server.config.workspace, client: server.config.client_id, manager: server.config.manager_id };
    """, first.url, first.admin_token)
    first.stop()
    run_js(page, """
        for (let i = 0; i < 50 && server.state !== "reconnecting"; i++) await new Promise((r) => setTimeout(r, 100));
        // A call made while the engine is away waits for the connection to come back.
        window.during = server.echo("sent while down").then((v) => ({ value: v }), (e) => ({ error: e.message }));
    """)
    time.sleep(1.5)
    engines.append(Engine(data_dir, port=port))
    after = run_js(page, """
        for (let i = 0; i < 300 && server.state !== "connected"; i++) await new Promise((r) => setTimeout(r, 100));
        const during = await window.during;
        const svc = await server.getService("kept");
        return { state: server.state, states: window.states.map((s) => s.state), during,
                 workspace: server.config.workspace, client: server.config.client_id,
                 manager: server.config.manager_id, echo: await server.echo("after"), hi: await svc.hi() };
    """, timeout=60)
    assert after["state"] == "connected"
    assert after["states"][:3] == ["connecting", "connected", "reconnecting"]
    assert after["states"][-1] == "connected"
    assert (after["workspace"], after["client"]) == (before["workspace"], before["client"])
    assert after["echo"] == "after" and after["hi"] == "hi"
    # The call made during the outage either went through or failed with a clear reason.
    assert after["during"].get("value") == "sent while down" or "engine restarted" in after["during"]["error"] \
        or "not connected" in after["during"]["error"], after["during"]
