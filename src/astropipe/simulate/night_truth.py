"""What a simulated night knows and a real one would not: a 2MASS-like reference catalogue of each field
(:func:`reference_catalogue`) and the truth the pipeline is checked against (:func:`truth`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import astropy.units as u
import numpy as np
from astropy.table import Table

from astropipe.random_streams import random_stream
from astropipe.simulate.observation import PIXEL_SCALES

if TYPE_CHECKING:
    from astropipe.simulate.night import NightSimulation

__all__ = ["reference_catalogue", "truth"]


def reference_catalogue(night: NightSimulation, field: str) -> Table:
    """A 2MASS-like catalogue of the field: shallow, blended at 2MASS resolution, offset (Dutra et al. 2003, §3.2).

    Stars closer than ``resolution_arcsec`` are merged into the brighter one
    (fluxes summed); each band is kept to its limit; magnitudes get the
    linear offset m_2MASS = m + offset + slope (m - 12) and noise.
    """
    ref = night.sim["twomass"]
    stars = night.scene(field).stars
    order = np.argsort(np.asarray(stars["K"]))
    xi, eta = np.asarray(stars["xi"])[order], np.asarray(stars["eta"])[order]
    flux = {b: 10 ** (-0.4 * np.asarray(stars[c])[order]) for b, c in (("H", "H"), ("Ks", "K"))}
    alive = np.ones(order.size, dtype=bool)
    bright = np.flatnonzero(np.asarray(stars["K"])[order] < ref["limit_Ks"] + 2.5)
    for i in bright:
        if not alive[i]:
            continue
        near = alive & (np.hypot(xi - xi[i], eta - eta[i]) < ref["resolution_arcsec"])
        near[i] = False
        for band in flux:
            flux[band][i] += flux[band][near].sum()
        alive[near] = False
    rng = random_stream(night.seed, f"twomass/{field}")
    table = Table()
    keep = alive & (-2.5 * np.log10(flux["Ks"]) < ref["limit_Ks"]) | alive & (
        -2.5 * np.log10(flux["H"]) < ref["limit_H"]
    )
    table["ra"] = np.asarray(stars["ra"])[order][keep] * u.deg
    table["dec"] = np.asarray(stars["dec"])[order][keep] * u.deg
    for band in ("H", "Ks"):
        m = -2.5 * np.log10(flux[band][keep])
        error = 0.02 + 0.08 * 10 ** (0.4 * (m - ref[f"limit_{band}"]))
        observed = m + ref["offset"][band] + ref["slope"][band] * (m - 12.0) + error * rng.standard_normal(m.size)
        table[band] = np.where(m < ref[f"limit_{band}"], observed, np.nan) * u.mag
        table[f"e_{band}"] = np.where(m < ref[f"limit_{band}"], error, np.nan) * u.mag
    table.meta["description"] = f"2MASS-like reference catalogue of {field} (simulated)"
    return table


def truth(night: NightSimulation) -> dict[str, Any]:
    """Tables and documents of the truth: stars, scene, instrument, survey labels, response map."""
    fields = night.fields()
    scenes = {name: night.scene(name) for name in fields}
    stars = Table(np.concatenate([s.stars.as_array() for s in scenes.values()]))
    for column in ("xi", "eta"):
        stars[column].unit = u.arcsec
    for column in ("ra", "dec"):
        stars[column].unit = u.deg
    for column in ("H", "K", "absolute_k", "intrinsic_hk", "distance_modulus", "e_hk"):
        stars[column].unit = u.mag
    survey = [s for s in fields.values() if s.kind != "object"]
    labels = Table(
        {
            "field": [s.name for s in survey],
            "l": [s.l_deg for s in survey] * u.deg,
            "b": [s.b_deg for s in survey] * u.deg,
            "class": [s.kind for s in survey],
        }
    )
    obj = night.config["object"]["name"]
    scene = {
        "night": night.config["night"],
        "seed": night.seed,
        "extinction_law_ak_per_ehk": night.ak_per_ehk,
        "zero_points": night.sim["zero_points"],
        "colour_terms": night.sim["colour_terms"],
        "extinction_coefficients": night.sim["extinction"],
        "object_field": obj,
        "fields": {name: s.meta for name, s in scenes.items()},
        "bulge": {
            "e_hk_mean": fields[obj].bulge_e_hk,
            "e_hk_sigma": fields[obj].bulge_e_hk_sigma,
            "distance_modulus": fields[obj].bulge_distance_modulus,
        },
    }
    cluster = scene["fields"][obj].get("cluster", {})
    scene.update(
        {
            "cluster_e_hk": cluster.get("e_hk"),
            "cluster_distance_kpc": cluster.get("distance_kpc"),
            "cluster_k10": cluster.get("k10"),
        }
    )
    instrument = {
        "detector": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(night.detector).items()},
        "n_hot_pixels": int(night.maps.hot.sum()),
        "n_dead_pixels": int(night.maps.dead.sum()),
        "pixel_scales_arcsec": PIXEL_SCALES,
        "seeing_arcsec": night.sim["seeing_arcsec"],
        "seeing_jitter": night.sim["seeing_jitter"],
        "seeing_drift_rms": night.sim["seeing_drift_rms"],
        "seeing_drift_minutes": night.sim["seeing_drift_minutes"],
        "psf": dict(night.sim["psf"]),
        "transparency_rms": night.sim["transparency_rms"],
        "sky_mag_arcsec2": night.sim["sky_mag_arcsec2"],
    }
    return {
        "stars": stars,
        "labels": labels,
        "scene": scene,
        "instrument": instrument,
        "response": night.maps.sky_response.astype(np.float32),
    }
