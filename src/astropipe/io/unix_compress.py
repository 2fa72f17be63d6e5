"""Writing Unix ``compress`` (``.Z``) files, the compression of many ESO archive frames.

Reading ``.fits.Z`` is astropy's (with the ``uncompresspy`` package); this writes the same format,
so that tests and simulated nights can hold frames as the archive delivers them.

The format (``compress`` 4.0, block mode): the magic bytes ``1f 9d``, a flags byte (block mode and the
largest code width), then LZW codes packed least-significant bit first. This writer keeps every code
9 bits wide: after at most 255 codes it emits the CLEAR code (256), which empties the dictionary, and
pads the stream to the end of the current block of eight codes, as ``compress`` does and as every
decoder expects. The ratio is that of LZW with a 512-entry dictionary: fine for the smooth or
constant images of tests, less than ``compress -b16`` would reach on noisy data.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["lzw_compress", "write_unix_compressed"]

_MAGIC = b"\x1f\x9d"
_BLOCK_MODE = 0x80
_MAX_BITS = 16
_CLEAR = 256
_FIRST = 257
_WIDTH = 9
_CODES_PER_SEGMENT = 255  # before the CLEAR: a decoder widens its codes after 256 of them


class _BitWriter:
    """Codes packed least-significant bit first."""

    def __init__(self) -> None:
        self.value = 0
        self.bits = 0

    def write(self, code: int) -> None:
        self.value |= code << self.bits
        self.bits += _WIDTH

    def pad_to(self, multiple: int) -> None:
        self.bits += -self.bits % multiple

    def to_bytes(self) -> bytes:
        return self.value.to_bytes((self.bits + 7) // 8, "little")


def lzw_compress(data: bytes) -> bytes:
    """``data`` in the Unix ``compress`` (``.Z``) format (9-bit codes, CLEAR every 255 codes)."""
    stream = _BitWriter()
    position = 0
    while position < len(data):
        table: dict[tuple[int, int], int] = {}
        next_code, emitted = _FIRST, 0
        prefix = data[position]
        position += 1
        while position < len(data) and emitted < _CODES_PER_SEGMENT - 1:
            key = (prefix, data[position])
            position += 1
            if key in table:
                prefix = table[key]
                continue
            stream.write(prefix)
            emitted += 1
            table[key] = next_code
            next_code += 1
            prefix = key[1]
        stream.write(prefix)
        if position < len(data):
            stream.write(_CLEAR)
            # the decoder resumes at the next block of eight codes (every segment starts on such a block)
            stream.pad_to(8 * _WIDTH)
    return _MAGIC + bytes([_BLOCK_MODE | _MAX_BITS]) + stream.to_bytes()


def write_unix_compressed(path: str | Path, data: bytes) -> Path:
    """Write ``data`` compressed to ``path`` (conventionally ending in ``.Z``); returns the path."""
    path = Path(path)
    path.write_bytes(lzw_compress(data))
    return path
