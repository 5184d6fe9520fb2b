"""web/lib/tiff.js (the image viewer's TIFF reader) in the browser, checked against files written by Python's tifffile
and Pillow: every compression, layout and sample type it claims, and clear errors for what it does not read."""

import base64
import io

import numpy as np
import pytest
import tifffile
from PIL import Image

DECODE = """
const { decodeTIFF } = await import('/lib/tiff.js');
const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
const array = await decodeTIFF(bytes);
return { shape: array.shape, dtype: array.dtype, values: Array.from(array.data, Number) };
"""

RNG = np.random.default_rng(7)


def tifffile_bytes(array, **options):
    out = io.BytesIO()
    tifffile.imwrite(out, array, **options)
    return out.getvalue()


def pillow_bytes(array, compression):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="TIFF", compression=compression)
    return out.getvalue()


U16 = (RNG.random((37, 53)) * 60000).astype(np.uint16)
F32 = RNG.random((70, 90)).astype(np.float32)
RGB = (RNG.random((20, 30, 3)) * 255).astype(np.uint8)
PLANAR = (RNG.random((3, 20, 30)) * 255).astype(np.uint8)
I16 = (RNG.random((10, 12)) * 2000 - 1000).astype(np.int16)
STRIPES = np.tile((np.arange(200) % 256).astype(np.uint8), (150, 1))
STRIPES[::3] = RNG.integers(0, 255, (50, 200))
NOISE = (RNG.random((300, 400)) * 255).astype(np.uint8)  # enough distinct codes for LZW's 12-bit codes and resets
RUNS = np.tile(np.arange(64, dtype=np.uint8), (40, 2))
RUNS[5:9] = 7

CASES = {
    "uncompressed uint16": (tifffile_bytes(U16), U16),
    "deflate uint16": (tifffile_bytes(U16, compression="zlib"), U16),
    "deflate with predictor": (tifffile_bytes(U16, compression="zlib", predictor=True), U16),
    "tiled float32": (tifffile_bytes(F32, tile=(32, 32)), F32),
    "rgb, chunky": (tifffile_bytes(RGB), RGB),
    "rgb, planar": (tifffile_bytes(PLANAR, planarconfig="separate", photometric="rgb"), np.moveaxis(PLANAR, 0, -1)),
    "big-endian int16": (tifffile_bytes(I16.astype(">i2"), byteorder=">"), I16),
    "strips of 7 rows": (tifffile_bytes(NOISE[:100, :64], rowsperstrip=7), NOISE[:100, :64]),
    "LZW (Pillow)": (pillow_bytes(STRIPES, "tiff_lzw"), STRIPES),
    "LZW, large (Pillow)": (pillow_bytes(NOISE, "tiff_lzw"), NOISE),
    "PackBits (Pillow)": (pillow_bytes(RUNS, "packbits"), RUNS),
    "first page of a stack": (tifffile_bytes(np.stack([U16, U16 // 2])), U16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_tiff_decodes_to_the_array_python_wrote(js, name):
    data, expected = CASES[name]
    result = js(DECODE, base64.b64encode(data).decode())
    assert result["shape"] == list(expected.shape)
    assert result["dtype"] == expected.dtype.name
    np.testing.assert_array_equal(np.array(result["values"], dtype=expected.dtype), expected.ravel())


def with_compression(data, code):
    """A little-endian TIFF from tifffile with its Compression tag (259) set to `code`."""
    raw = bytearray(data)
    directory = int.from_bytes(raw[4:8], "little")
    for i in range(int.from_bytes(raw[directory:directory + 2], "little")):
        at = directory + 2 + i * 12
        if int.from_bytes(raw[at:at + 2], "little") == 259:
            raw[at + 8:at + 10] = code.to_bytes(2, "little")
            return bytes(raw)
    raise AssertionError("no Compression tag")


@pytest.mark.parametrize("data, message", [
    (b"GIF89a, not a TIFF", "not a TIFF file"),
    (with_compression(tifffile_bytes(U16), 7), "TIFF compression 7 is not supported"),
    (tifffile_bytes(np.zeros((4, 4), np.complex64)), "TIFF sample format 6 is not supported"),
])
def test_what_it_cannot_read_is_a_clear_error(js, data, message):
    with pytest.raises(Exception, match=message):
        js(DECODE, base64.b64encode(data).decode())
