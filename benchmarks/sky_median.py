"""The running sky's per-pixel median against numpy.nanmedian.

Peer: ``numpy.nanmedian(cube, axis=0)``, which for a short reduced axis goes
through numpy's masked-array median. Ours:
:func:`astropipe.reduce.sky.median_of_frames` (sort along the frame axis, NaN
last, take the middle of the finite values). The data: a sky window as
``running_sky`` sees it - ``window`` float32 frames of 1024 x 1024 with the
object mask's NaN (30 % of the pixels), as in a crowded field. Both must give
the same numbers bit for bit; best of three runs each.

Run: python benchmarks/sky_median.py [window]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from astropipe.reduce.sky import median_of_frames


def best_time(function, cube: np.ndarray, repeats: int = 3) -> tuple[float, np.ndarray]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(cube)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    window = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    rng = np.random.default_rng(2002)
    cube = rng.normal(1.0, 0.01, size=(window, 1024, 1024)).astype(np.float32)
    cube[rng.random(cube.shape) < 0.3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        peer_time, expected = best_time(lambda c: np.nanmedian(c, axis=0), cube)
    ours_time, found = best_time(median_of_frames, cube)
    if not np.array_equal(found, expected, equal_nan=True):
        raise SystemExit("median_of_frames differs from numpy.nanmedian")
    print(f"sky window: {window} frames of 1024 x 1024, 30 % masked; identical results")
    print(f"ours (median_of_frames): {ours_time:.3f} s; peer (numpy.nanmedian): {peer_time:.3f} s")
    print(
        f"sky_median: frames/s {window / ours_time:.1f} vs numpy-nanmedian {window / peer_time:.1f}, "
        f"ratio {peer_time / ours_time:.2f}"
    )


if __name__ == "__main__":
    main()
