"""Connecting from the browser: anonymous, with the admin token, refused tokens, manager methods."""

import pytest

from webapp_helpers import JSError

CONNECT = "const { connectToServer } = await import('/lib/hypha.js');\n"


def test_connect_anonymous(js, engine):
    info = js(CONNECT + """
        const states = [];
        const server = await connectToServer({ server_url: args[0], on_state_change: (d) => states.push(d.state) });
        const c = server.config;
        const echoed = await server.echo("hello");
        const result = { workspace: c.workspace, client_id: c.client_id, manager_id: c.manager_id,
                         public_base_url: c.public_base_url, anonymous: c.user && c.user.is_anonymous,
                         state: server.state, states: [...states], echoed };
        await server.disconnect();
        result.after = server.state;
        result.finalStates = states;
        return result;
    """, engine.url)
    assert info["workspace"].startswith("ws-user-"), info
    assert info["client_id"].startswith("js-")
    assert info["manager_id"]
    assert info["public_base_url"] == engine.url
    assert info["anonymous"] is True
    assert info["echoed"] == "hello"
    assert info["state"] == "connected"
    assert info["states"] == ["connecting", "connected"]
    assert info["after"] == "disconnected"
    assert info["finalStates"] == ["connecting", "connected", "disconnected"]


def test_connect_with_the_admin_token_and_call_manager_methods(js, engine):
    info = js(CONNECT + """
        const server = await connectToServer({ server_url: args[0], token: args[1], workspace: "default" });
        const snake = await server.list_workspaces();
        const camel = await server.listWorkspaces();
        const generic = await server.call("list_workspaces");
        const registered = await server.registerService({ id: "listed", f: () => 1 });
        const services = await server.listServices();
        const token = await server.generateToken({ workspace: "default", permission: "read_write" });
        const missing = await server.call("no_such_method").then(() => "resolved", (e) => e.message);
        // A second client joins the workspace with the generated token.
        const peer = await connectToServer({ server_url: args[0], token, workspace: "default" });
        const clients = await server.list_clients();
        const result = {
            workspace: server.config.workspace, user: server.config.user, snake, camel, generic,
            services: services.map((s) => s.id), registered: registered.id, token_type: typeof token, missing,
            peer_workspace: peer.config.workspace, peer_id: peer.config.client_id,
            clients: clients.map((c) => c.id), has_list_tokens: typeof server.listTokens,
        };
        await peer.disconnect();
        await server.disconnect();
        return result;
    """, engine.url, engine.admin_token)
    assert info["workspace"] == "default"
    assert info["user"]["is_anonymous"] is False
    assert info["snake"] == info["camel"] == info["generic"]
    assert any((w.get("id") if isinstance(w, dict) else w) == "default" or
               (isinstance(w, dict) and w.get("name") == "default") for w in info["snake"]), info["snake"]
    assert info["registered"].startswith("default/js-") and info["registered"].endswith(":listed")
    assert info["registered"] in info["services"], info["services"]
    assert info["token_type"] == "string"
    assert 'no method "no_such_method"' in info["missing"]
    assert info["peer_workspace"] == "default"
    assert f"default/{info['peer_id']}" in info["clients"]
    assert info["has_list_tokens"] == "function"


def test_a_refused_token_rejects_with_the_engines_message(js, engine):
    err = js(CONNECT + """
        const states = [];
        try {
            await connectToServer({ server_url: args[0], token: "not-a-valid-token", workspace: "default",
                                    on_state_change: (d) => states.push(d) });
        } catch (e) {
            return { name: e.name, message: e.message, states };
        }
        throw new Error("connected with a bad token");
    """, engine.url)
    assert err["name"] == "ConnectionAbortedError"
    assert "Authentication error" in err["message"], err
    assert [s["state"] for s in err["states"]] == ["connecting", "disconnected"]
    assert err["states"][-1]["reason"] == err["message"]


def test_an_unreachable_server_url_is_rejected(js):
    err = js(CONNECT + """
        try { await connectToServer({ server_url: "ftp://127.0.0.1:1" }); }
        catch (e) { return e.message; }
        throw new Error("accepted an ftp URL");
    """)
    assert "server_url must start with http://" in err


def test_websocket_url_rules(js):
    urls = js("""
        const { toWebSocketUrl } = await import('/lib/connection.js');
        return ["http://h:1", "https://h/prefix/", "ws://h:2/ws", "wss://x/y/ws"].map(toWebSocketUrl);
    """)
    assert urls == ["ws://h:1/ws", "wss://h/prefix/ws", "ws://h:2/ws", "wss://x/y/ws"]
