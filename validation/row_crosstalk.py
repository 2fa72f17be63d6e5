"""The SOFI array's row cross-talk on Object 11's default night: what it does to the stacks uncorrected, and what
the correction leaves.

Runs the workflow up to Object 11's stacks three times on the night of ``config.yaml``: as configured (the
cross-talk simulated and removed by the reduction), with the reduction's correction off
(``imaging.reduction.row_crosstalk: 0``) and with no cross-talk in the simulated frames either (both 0); the
raw frames of the first two are the same. Each other stack is compared with the configured one on its usable
pixels (at least half the full exposure): the rows' offsets (the median of each row of the difference) and,
for every injected star at least 40 pixels from the edges, the change of its flux in an aperture of radius
one FWHM (the photometry's starting FWHM) less the median of an annulus of 2-3 FWHM (a local background, as
aperture and PSF photometry take it), as a fraction of its true flux (its magnitude through the simulation's
zero point and extinction at the stack's airmass) and in units of the sky noise in the aperture. Prints one line per band and comparison and the stars' flux changes by
magnitude, and writes ``results/validation/row_crosstalk.ecsv``.

About 4 minutes per run with ``--cores 2``; a run already made is only brought up to date.

Run: python validation/row_crosstalk.py [--cores 2]
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when loaded as a module (the tests do)
from object11_nights import OUT
from workflow_runs import run_workflow, validated_config

BANDS = {"H": "H", "Ks": "K"}
EDGE_PX = 40
MAGNITUDE_BINS = ((14.0, 15.0), (15.0, 16.0), (16.0, 17.0))
USABLE_EXPOSURE = 0.5
VARIANTS = {
    "uncorrected": {"reduction": 0.0},
    "no_crosstalk": {"reduction": 0.0, "simulation": 0.0},
}


def run_variant(config: dict, name: str | None, cores: int) -> Path:
    """The workflow up to Object 11's stacks and the truth, as configured (``name`` None) or with the cross-talk
    switched off as :data:`VARIANTS` [``name``] says; returns its results directory."""
    config = copy.deepcopy(config)
    config["imaging"]["survey"]["n_fields"] = 0
    imaging = config["imaging"]
    for stage, coefficient in VARIANTS.get(name, {}).items():
        section = imaging["reduction"] if stage == "reduction" else imaging["simulation"]["detector"]
        section["row_crosstalk"] = coefficient
    night, field = imaging["night"], imaging["object"]["name"]
    targets = [f"results/truth/{night}/stars.ecsv"] + [
        f"results/imaging/{night}/{field}/{band}/{product}.fits" for band in BANDS for product in ("stack", "weight")
    ]
    return run_workflow(
        OUT / f"seed{imaging['seed']}_crosstalk{'' if name is None else '_' + name}", config, targets, cores
    )


def stack_changes(reference: Path, other: Path, truth: Table, band: str, imaging: dict) -> dict[str, float]:
    """Row offsets and stars' aperture-flux changes of ``other``'s stack of ``band`` against ``reference``'s."""
    night, field, column = imaging["night"], imaging["object"]["name"], BANDS[band]
    base = fits.open(reference / "imaging" / night / field / band / "stack.fits")[0]
    changed = fits.getdata(other / "imaging" / night / field / band / "stack.fits")
    weight = fits.getdata(reference / "imaging" / night / field / band / "weight.fits")
    usable = np.isfinite(base.data) & np.isfinite(changed) & (weight >= USABLE_EXPOSURE * np.nanmax(weight))
    difference = np.where(usable, changed - base.data, np.nan)
    row_offsets = np.nanmedian(difference[usable.any(axis=1)], axis=1)
    pixel_noise = 1.4826 * np.median(np.abs(np.diff(base.data[usable]))) / np.sqrt(2.0)
    x, y = WCS(base.header).world_to_pixel_values(truth["ra"], truth["dec"])
    ny, nx = base.data.shape
    inside = (x > EDGE_PX) & (x < nx - 1 - EDGE_PX) & (y > EDGE_PX) & (y < ny - 1 - EDGE_PX)
    inside[inside] = usable[np.round(y[inside]).astype(int), np.round(x[inside]).astype(int)]
    stars, positions = truth[inside], np.column_stack([x[inside], y[inside]])
    fwhm = imaging["photometry"]["fwhm_guess_arcsec"] / float(base.header["PIXSCALE"])
    aperture = CircularAperture(positions, r=fwhm)
    annulus = CircularAnnulus(positions, r_in=2.0 * fwhm, r_out=3.0 * fwhm)
    filled = np.nan_to_num(difference)
    change = (
        np.asarray(aperture_photometry(filled, aperture)["aperture_sum"])
        - ApertureStats(filled, annulus).median * aperture.area
    )
    simulation = imaging["simulation"]
    zero_point = simulation["zero_points"][band] - simulation["extinction"][band] * float(base.header["AIRMASS"])
    relative = np.abs(change) / 10 ** (-0.4 * (np.asarray(stars[column]) - zero_point))
    result = {
        "band": band,
        "row_offset_rms": float(np.nanstd(row_offsets)),
        "row_offset_max": float(np.nanmax(np.abs(row_offsets))),
        "pixel_noise": float(pixel_noise),
        "aperture_change_rms_in_noise": float(np.std(change) / (pixel_noise * np.sqrt(aperture.area))),
    }
    for low, high in MAGNITUDE_BINS:
        chosen = relative[(stars[column] >= low) & (stars[column] < high)]
        statistics = (
            (np.median(chosen), np.percentile(chosen, 90), np.mean(chosen > 0.05)) if chosen.size else (np.nan,) * 3
        )
        for name, value in zip(("median", "p90", "over_5pc"), statistics, strict=True):
            result[f"{column}{low:g}-{high:g}_{name}"] = float(value)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    config = validated_config()
    imaging = config["imaging"]
    reference = run_variant(config, None, args.cores)
    truth = Table.read(reference / "truth" / imaging["night"] / "stars.ecsv", format="ascii.ecsv")
    truth = truth[truth["field"] == imaging["object"]["name"]]
    rows = []
    for name in VARIANTS:
        other = run_variant(config, name, args.cores)
        for band, column in BANDS.items():
            row = {"comparison": f"{name} - configured"} | stack_changes(reference, other, truth, band, imaging)
            rows.append(row)
            print(
                f"{row['comparison']}, {band}: row offsets rms {row['row_offset_rms']:.3f}, max "
                f"{row['row_offset_max']:.3f} (pixel noise {row['pixel_noise']:.3f}, stack units); aperture-flux "
                f"change rms {row['aperture_change_rms_in_noise']:.2f} x the sky noise in the aperture; "
                + "; ".join(
                    f"{column} {low:g}-{high:g}: |change| median {row[f'{column}{low:g}-{high:g}_median']:.2%}, 90th "
                    f"{row[f'{column}{low:g}-{high:g}_p90']:.2%}, above 5 % on {row[f'{column}{low:g}-{high:g}_over_5pc']:.0%}"
                    for low, high in MAGNITUDE_BINS
                ),
                flush=True,
            )
    Table(rows).write(OUT / "row_crosstalk.ecsv", format="ascii.ecsv", overwrite=True)


if __name__ == "__main__":
    main()
