"""Object 11's photometry across each stack against the injected stars: does the error depend on position?

For every night of ``object11_nights.py`` (run, or brought up to date, in the same directories) and each
band, the catalogue's unflagged stars are matched to the injected ones (nearest within 0.4 arcsec) and
these are printed and written to ``results/validation/photometry_maps.ecsv``:

- ``map_rms`` and ``map_worst``: the error map's rms and its point furthest from zero. The stars from the tenth-brightest
  matched unflagged one to 1.5 mag fainter (bright, unsaturated: their photon noise is small; from the tenth, so that
  one bright star that a change of the photometry flags or unflags does not move the range) give PSF magnitude minus
  true magnitude, less its median; its median within 200 px of each of 25 points (the centres of a 5 x 5 division
  of the catalogue's extent, each with at least 5 stars) is the map. A PSF that does not follow the image's
  distortion, or a stack whose depth or seeing differ across it, shows here (SOFI's edge distortion
  made the edges of the worst-seeing stacks 0.04-0.16 mag faint).
- ``scatter``: robust scatter (1.4826 MAD) of PSF minus true magnitude of the stars of true magnitude
  10-13 (crowding and the PSF's errors; their photon noise is below 0.01 mag).
- ``matched`` and ``unmatched``: the unflagged detections with an injected star within 0.4 arcsec, and
  those without (spurious detections: residuals of bright stars, noise peaks).

Run: python validation/photometry_maps.py [--seeds 404 505 ...] [--cores 2] [--forcerun imaging_photometry]
(default: the held-out and fresh nights, as ``object11_nights.py``; add the tuning nights with ``--seeds``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml
from astropy.coordinates import SkyCoord
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from object11_nights import OUT, add_night_arguments, run_night
from workflow_runs import REPO

MATCH_ARCSEC = 0.4
MAP_START_RANK, MAP_DEPTH_MAG, MAP_POINTS, MAP_RADIUS_PX, MAP_MIN_STARS = 10, 1.5, 5, 200.0, 5
SCATTER_RANGE_MAG = (10.0, 13.0)


def matched_offsets(catalog: Table, truth: Table, band: str) -> dict[str, np.ndarray | int]:
    """PSF minus true magnitude (``offset``), true magnitude and position of the unflagged detections matched to
    an injected star of ``truth`` within ``MATCH_ARCSEC``, and the number of unflagged ones without one."""
    unflagged = catalog[np.asarray(catalog["flags"]) == 0]
    index, separation, _ = SkyCoord(unflagged["ra"], unflagged["dec"], unit="deg").match_to_catalog_sky(
        SkyCoord(truth["ra"], truth["dec"], unit="deg")
    )
    matched = separation.arcsec < MATCH_ARCSEC
    true_mag = np.asarray(truth["K" if band == "Ks" else band], float)[index[matched]]
    return {
        "x": np.asarray(unflagged["x"], float)[matched],
        "y": np.asarray(unflagged["y"], float)[matched],
        "true_mag": true_mag,
        "offset": np.asarray(unflagged["mag_inst"], float)[matched] - true_mag,
        "unmatched": int((~matched).sum()),
    }


def error_map(x: np.ndarray, y: np.ndarray, offset: np.ndarray, true_mag: np.ndarray) -> np.ndarray:
    """(``MAP_POINTS``, ``MAP_POINTS``) median error (mag) of the bright stars near each point (NaN with too few)."""
    start = np.sort(true_mag)[min(MAP_START_RANK, true_mag.size) - 1]
    bright = (true_mag >= start) & (true_mag <= start + MAP_DEPTH_MAG)
    x, y, error = x[bright], y[bright], offset[bright] - np.median(offset[bright])
    fractions = (np.arange(MAP_POINTS) + 0.5) / MAP_POINTS
    points_x = x.min() + fractions * (x.max() - x.min())
    points_y = y.min() + fractions * (y.max() - y.min())
    result = np.full((MAP_POINTS, MAP_POINTS), np.nan)
    for row, py in enumerate(points_y):
        for column, px in enumerate(points_x):
            near = np.hypot(x - px, y - py) <= MAP_RADIUS_PX
            if near.sum() >= MAP_MIN_STARS:
                result[row, column] = np.median(error[near])
    return result


def robust_scatter(offset: np.ndarray, true_mag: np.ndarray) -> float:
    """1.4826 MAD of the offsets of stars with true magnitude in ``SCATTER_RANGE_MAG``."""
    selected = offset[(true_mag >= SCATTER_RANGE_MAG[0]) & (true_mag < SCATTER_RANGE_MAG[1])]
    return float(1.4826 * np.median(np.abs(selected - np.median(selected))))


def measure(results: Path, night: str, band: str) -> dict[str, float | int]:
    """The numbers of one stack (module notes)."""
    truth = Table.read(results / "truth" / night / "stars.ecsv", format="ascii.ecsv")
    catalog = Table.read(results / "imaging" / night / "object11" / band / "catalog.ecsv", format="ascii.ecsv")
    stars = matched_offsets(catalog, truth[truth["field"] == "object11"], band)
    grid = error_map(stars["x"], stars["y"], stars["offset"], stars["true_mag"])
    return {
        "map_rms": float(np.sqrt(np.nanmean(grid**2))),
        "map_worst": float(np.nanmax(np.abs(grid))),
        "scatter": robust_scatter(stars["offset"], stars["true_mag"]),
        "matched": int(stars["offset"].size),
        "unmatched": stars["unmatched"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_night_arguments(parser)
    args = parser.parse_args()
    night = yaml.safe_load((REPO / "config.yaml").read_text())["imaging"]["night"]
    rows = []
    for seed in args.seeds:
        results = run_night(seed, args.cores, forcerun=args.forcerun)
        for band in ("H", "Ks"):
            row = {"seed": seed, "band": band} | measure(results, night, band)
            rows.append(row)
            print(
                f"seed {seed} {band}: error map rms {row['map_rms']:.3f} (worst point {row['map_worst']:.3f}) mag, "
                f"scatter {row['scatter']:.3f} mag, {row['matched']} matched, {row['unmatched']} unmatched",
                flush=True,
            )
    Table(rows).write(OUT / "photometry_maps.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
