"""The workflow's one seeding scheme (astropipe.random_streams)."""

import zlib

import numpy as np
import pytest

from astropipe.random_streams import random_stream


def test_a_stream_is_the_seed_sequence_of_the_seed_and_its_keys():
    # strings enter as their CRC-32, integers as themselves
    expected = np.random.default_rng(np.random.SeedSequence([7, zlib.crc32(b"frame/object11/H/3"), 12]))
    assert random_stream(7, "frame/object11/H/3", 12).random(5).tolist() == expected.random(5).tolist()
    assert random_stream(7).random(3).tolist() == np.random.default_rng(7).random(3).tolist()


def test_streams_of_different_keys_or_seeds_differ_and_repeat_exactly():
    draws = {key: random_stream(1, *key).random() for key in [("a",), ("b",), ("a", 1), ("a", 2), (3, "a")]}
    assert len(set(draws.values())) == len(draws)
    assert random_stream(1, "a", 1).random() == draws[("a", 1)]
    assert random_stream(2, "a").random() != draws[("a",)]


def test_a_trailing_zero_key_names_the_stream_without_it():
    """numpy pads the entropy with zeros: why each purpose keeps a fixed number of keys."""
    assert random_stream(1, "a", 0).random() == random_stream(1, "a").random()


@pytest.mark.parametrize("key", [-1, 1.5, True, None])
def test_a_key_that_is_neither_a_string_nor_a_non_negative_integer_is_refused(key):
    with pytest.raises(TypeError, match="random stream key"):
        random_stream(1, key)
