"""The workflow's one seeding scheme: a random stream per (config seed, purpose, wildcard values).

Every random number the workflow draws comes from :func:`random_stream`: numpy's
``SeedSequence`` of the configured seed followed by keys that name the stream - what it is for and
the wildcard values of the job that draws it (a string enters as its CRC-32, an integer as itself).
A job's numbers therefore depend only on the seed and on what the job is, never on which jobs ran
before it, how work was split into chunks, or how many cores or cluster jobs ran it.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["random_stream"]


def _entropy(key: str | int) -> int:
    if isinstance(key, str):
        return zlib.crc32(key.encode())
    if isinstance(key, int | np.integer) and not isinstance(key, bool) and key >= 0:
        return int(key)
    raise TypeError(f"random stream key {key!r}: expected a string or a non-negative integer")


def random_stream(seed: int, *keys: str | int) -> np.random.Generator:
    """Independent random generator for ``seed`` and the keys naming the stream.

    Parameters
    ----------
    seed : int
        The configured seed (non-negative).
    *keys : str or int
        What the stream is for and the job's wildcard values, e.g. ``("dither/object11/H",)`` or
        ``("recovery", 17)``. Strings enter the seed sequence as their CRC-32, integers as themselves.

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence([seed, *keys]))``; without keys the same stream as
        ``default_rng(seed)``.

    Notes
    -----
    numpy's seed sequence pads short entropy with zeros, so a trailing key 0 names the same stream as
    no key there: ``(seed, "recovery", 0)`` is ``(seed, "recovery")``. Each purpose therefore uses a
    fixed number of keys.

    Examples
    --------
    >>> a = random_stream(2002, "recovery", 3).normal()
    >>> b = random_stream(2002, "recovery", 3).normal()
    >>> a == b, a == random_stream(2002, "recovery", 4).normal()
    (True, False)
    """
    return np.random.default_rng(np.random.SeedSequence([_entropy(seed), *(_entropy(key) for key in keys)]))
