"""The Python side of the Swift ⇄ Python interop tests (real hypha-rpc client).

    interop.py call-swift URL SERVICE_ID          call the Swift service, print results
    interop.py serve-python URL WORKSPACE TOKEN   serve 'python-tools' until its stop() is called
"""
import asyncio
import sys

import numpy as np
from hypha_rpc import connect_to_server


def http(url):
    return url.replace("ws://", "http://").removesuffix("/ws")


async def call_swift(url, service_id):
    client = await connect_to_server({"server_url": http(url)})
    tools = await client.get_service(service_id)
    print(f"add={await tools.add(1, b=2)}", flush=True)
    array = np.arange(120_000, dtype="float32").reshape(300, 400)
    scaled = await tools.scale(array, 3)
    ok = scaled.dtype == np.float32 and scaled.shape == (300, 400) and np.array_equal(scaled, array * 3)
    print(f"scale={'ok' if ok else 'wrong'}", flush=True)
    print(f"countdown={await tools.countdown(lambda i: i * 10, 3)}", flush=True)
    await client.disconnect()


async def serve_python(url, workspace, token):
    client = await connect_to_server({"server_url": http(url), "workspace": workspace, "token": token})
    done = asyncio.Event()

    async def steps(progress, n):
        for i in range(n):
            await progress(i)
        return "done"

    await client.register_service({
        "id": "python-tools",
        "total": lambda a: int(a.astype("int64").sum()),
        "double": lambda a: (a * 2).astype(a.dtype),
        "steps": steps,
        "stop": lambda: done.set(),
    })
    await asyncio.wait_for(done.wait(), 60)
    await asyncio.sleep(0.2)
    await client.disconnect()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    main = call_swift if command == "call-swift" else serve_python
    asyncio.run(asyncio.wait_for(main(*args), 90))
