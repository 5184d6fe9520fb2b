"""numpy arrays round-trip bit-exact through an echo service in another workspace.

Both directions cross the server; anything above 256 KiB is chunked by the client through the
receiver's `message_cache` service (create / set x N / process), i.e. many ~256 KiB frames.
The provider also returns a SHA-256 of what it received, so each direction is checked on its own.
Float data is random *bit patterns* (NaNs with payloads, infinities, -0.0, subnormals included).
"""

import hashlib

import numpy as np
import pytest

from helpers import scenario, uid

DTYPES = ["float32", "uint16", "uint8", "int64", "bool"]
KIB, MIB = 1024, 1024 * 1024
SIZES = [("1KiB", KIB), ("1MiB", MIB), ("64MiB", 64 * MIB)]


def make_array(dtype: str, nbytes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    n = nbytes // dt.itemsize
    if dtype == "bool":
        arr = rng.integers(0, 2, n, dtype=np.uint8).view(np.bool_)
    elif dtype == "float32":
        arr = rng.integers(0, 2**32, n, dtype=np.uint32).view(np.float32)
    else:
        info = np.iinfo(dt)
        arr = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    if nbytes >= MIB:  # also check that the shape survives
        arr = arr.reshape(-1, 256) if nbytes < 64 * MIB else arr.reshape(64, -1, 128)
    assert arr.nbytes == nbytes
    return arr


def echo(x):
    return {"array": x, "sha256": hashlib.sha256(x.tobytes()).hexdigest(),
            "dtype": str(x.dtype), "shape": list(x.shape)}


CASES = [pytest.param(dtype, nbytes, id=f"{dtype}-{label}",
                      marks=[pytest.mark.timeout(240), pytest.mark.slow] if nbytes >= 64 * MIB else [])
         for label, nbytes in SIZES for dtype in DTYPES]


@pytest.mark.parametrize("dtype,nbytes", CASES)
@scenario(timeout=220)
async def test_array_round_trip(p, dtype, nbytes):
    prov = await p.connect(client_id=uid("arrays"))
    await prov.register_service({"id": "echo", "config": {"visibility": "public"}, "echo": echo})
    cons = await p.connect()
    assert cons.config.workspace != prov.config.workspace
    svc = await cons.get_service(f"{prov.config.workspace}/{prov.config.client_id}:echo")
    arr = make_array(dtype, nbytes, seed=DTYPES.index(dtype) * 1000 + nbytes % 997)
    result = await svc.echo(arr)
    # consumer -> provider
    assert result["dtype"] == dtype and tuple(result["shape"]) == arr.shape
    assert result["sha256"] == hashlib.sha256(arr.tobytes()).hexdigest(), "corrupted on the way in"
    # provider -> consumer
    back = result["array"]
    assert isinstance(back, np.ndarray)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes(), "corrupted on the way back"
    if dtype != "float32":  # NaN != NaN, the byte comparison above covers float32
        assert np.array_equal(back, arr)
