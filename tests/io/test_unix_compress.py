"""The .Z writer: its output is read back exactly by an independent decoder and by astropy."""

import io

import numpy as np
import pytest
import uncompresspy
from astropy.io import fits

from astropipe.io.unix_compress import lzw_compress, write_unix_compressed


@pytest.mark.parametrize(
    "data",
    [
        b"a",
        b"abababab" * 2000,  # repeats: long dictionary strings, the code-not-yet-in-the-table case
        np.random.default_rng(1).integers(0, 256, 50000, dtype=np.uint8).tobytes(),  # many CLEAR segments
        np.repeat(np.random.default_rng(2).integers(0, 4, 20000, dtype=np.uint8), 9).tobytes(),
    ],
    ids=["one byte", "periodic", "random", "runs"],
)
def test_the_independent_decoder_reads_back_every_byte(data):
    compressed = lzw_compress(data)
    assert compressed[:3] == b"\x1f\x9d\x90"  # magic, block mode, 16-bit maximum
    assert uncompresspy.LZWFile(io.BytesIO(compressed)).read() == data


def test_runs_are_compressed():
    data = np.repeat(np.random.default_rng(2).integers(0, 4, 20000, dtype=np.uint8), 9).tobytes()
    assert len(lzw_compress(data)) < len(data) / 4


def test_astropy_reads_a_compressed_frame(tmp_path):
    image = np.arange(64 * 48, dtype=np.float32).reshape(48, 64)
    fits.PrimaryHDU(image, header=fits.Header({"OBJECT": "object11"})).writeto(tmp_path / "frame.fits")
    path = write_unix_compressed(tmp_path / "frame.fits.Z", (tmp_path / "frame.fits").read_bytes())
    with fits.open(path) as hdul:
        assert hdul[0].header["OBJECT"] == "object11"
        np.testing.assert_array_equal(hdul[0].data, image)
