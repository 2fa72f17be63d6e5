"""The Persson et al. (1998) standard stars: the catalogue, and which star a standard-star frame shows.

Observers name standards in many ways: the Persson number (``9135``, ``P9135``, ``sj9135``) or the
HST name (``S705-D``, as ESO's calibration plan writes it in ``OBS TARG NAME``). A frame is matched
by its name where the name is one of these, and the telescope pointing (``RA``/``DEC``) must then be
near that star; a frame whose name is none of them is matched by its pointing alone, as ESO's
zero-point recipes do.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

__all__ = ["StandardIdentification", "identify_standard", "read_persson_standards"]

#: pointing to star: a standard is placed within SOFI's field (4.9 arcmin across in the small field)
MAX_SEPARATION_ARCMIN = 3.0


def read_persson_standards(path: str | Path) -> Table:
    """Persson et al. (1998) standards: number, HST name, RA, Dec, J, H, K, Ks (mag) and their errors."""
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if not parts or line.startswith("#") or not parts[0].isdigit():
            continue
        value = [np.nan if p == "&" else p for p in parts]
        rows.append((int(value[0]), value[1], value[2], value[3], *map(float, value[4:12])))
    names = ("number", "name", "ra", "dec", "J", "e_J", "H", "e_H", "K", "e_K", "Ks", "e_Ks")
    return Table(rows=rows, names=names)


def _normalised(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def _names(catalogue: Table) -> dict[str, int]:
    names = {}
    for number, hst in zip(catalogue["number"], catalogue["name"], strict=True):
        for alias in (str(number), f"P{number}", f"SJ{number}", f"PERSSON{number}", hst):
            names[_normalised(alias)] = int(number)
    return names


class StandardIdentification(NamedTuple):
    """Which Persson standard a frame shows, how it was told, and the pointing's distance to it."""

    number: int
    identified_by: str  # "name" or "position"
    separation_arcmin: float


def identify_standard(
    target: str,
    pointing: SkyCoord,
    catalogue: Table,
    *,
    frame: str = "",
    max_separation_arcmin: float = MAX_SEPARATION_ARCMIN,
) -> StandardIdentification:
    """The Persson number of the star a standard-star frame shows.

    Parameters
    ----------
    target : str
        The frame's target name (``OBS TARG NAME`` or ``OBJECT``).
    pointing : astropy.coordinates.SkyCoord
        The telescope pointing of the frame.
    catalogue : astropy.table.Table
        :func:`read_persson_standards`.
    frame : str
        The frame's path, for messages.
    max_separation_arcmin : float
        Largest pointing-to-star distance accepted, arcmin.

    Returns
    -------
    StandardIdentification
        ``(number, "name" or "position", separation in arcmin)``.

    Raises
    ------
    ValueError
        If the name is a catalogue star far from the pointing, or no star is near the pointing.

    Examples
    --------
    >>> from astropy.table import Table
    >>> catalogue = Table({"number": [9135], "name": ["S705-D"], "ra": ["08:36:12.5"], "dec": ["-10:13:39"]})
    >>> here = SkyCoord("08:36:13.0", "-10:13:20", unit=("hourangle", "deg"))
    >>> identify_standard("S705D", here, catalogue)[:2]
    (9135, 'name')
    >>> identify_standard("STD", here, catalogue)[:2]
    (9135, 'position')
    """
    stars = SkyCoord(catalogue["ra"], catalogue["dec"], unit=(u.hourangle, u.deg))
    separations = pointing.separation(stars).to_value(u.arcmin)
    number = _names(catalogue).get(_normalised(target))
    if number is not None:
        separation = float(separations[np.flatnonzero(catalogue["number"] == number)[0]])
        if separation > max_separation_arcmin:
            raise ValueError(
                f"{frame}: target {target!r} is Persson standard {number}, but the telescope pointed "
                f"{separation:.1f} arcmin from it (at most {max_separation_arcmin} expected)"
            )
        return StandardIdentification(number, "name", separation)
    nearest = int(np.argmin(separations))
    if separations[nearest] > max_separation_arcmin:
        raise ValueError(
            f"{frame}: target {target!r} is not a Persson et al. (1998) standard by name, and no standard "
            f"is within {max_separation_arcmin} arcmin of the pointing {pointing.to_string('hmsdms')} "
            f"(nearest: {int(catalogue['number'][nearest])}, {separations[nearest]:.1f} arcmin)"
        )
    return StandardIdentification(int(catalogue["number"][nearest]), "position", float(separations[nearest]))
