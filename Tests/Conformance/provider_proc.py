"""A hypha-rpc provider run as a separate process by the dead-peer tests (helpers.ProviderProcess).

    python provider_proc.py <server_url> <client_id> [--workspace WS --token TOKEN]

Registers the public service "slow" and prints `READY <workspace> <client_id> <token>`, where
<token> is a fresh generate_token() for its workspace (so a test can join that workspace).
When `slow.sleep` starts it prints `CALLED <seconds>`. Exits by itself after 120 s at most.
"""

import argparse
import asyncio

from hypha_rpc import connect_to_server


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server_url")
    ap.add_argument("client_id")
    ap.add_argument("--workspace")
    ap.add_argument("--token")
    args = ap.parse_args()
    cfg = {"server_url": args.server_url, "client_id": args.client_id}
    if args.workspace:
        cfg["workspace"] = args.workspace
    if args.token:
        cfg["token"] = args.token
    server = await asyncio.wait_for(connect_to_server(cfg), 30)

    async def sleep(seconds):
        print(f"CALLED {seconds}", flush=True)
        await asyncio.sleep(seconds)
        return "slept"

    await server.register_service({
        "id": "slow",
        "config": {"visibility": "public"},
        "sleep": sleep,
        "ping": lambda: "pong",
    })
    token = await server.generate_token()
    print(f"READY {server.config.workspace} {args.client_id} {token}", flush=True)
    await asyncio.sleep(120)


if __name__ == "__main__":
    asyncio.run(main())
