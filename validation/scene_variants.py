"""Simulated scenes that break one of the pipeline's assumptions, for the validation scripts that draw Object 11
scenes (``decontamination_axis.py``, ``mixture_operating_point.py``).

* ``--reddening-shape gaussian`` or ``exponential``: the members' differential reddening drawn from a Gaussian or
  a one-sided exponential tail of the same rms instead of the uniform band the mixture's member model assumes
  (:func:`astropipe.simulate.populations.differential_reddening`);
* ``--screen-rms X [--screen-correlation L]``: a patchy foreground extinction screen of E(H - K) rms X (mag) and
  correlation length L (arcsec) in front of the background stars, so that the field region beyond the object disc
  no longer stands exactly for the field stars in it, as both decontaminations assume
  (:mod:`astropipe.simulate.extinction_screen`);

and the decontamination's answer to the screen: ``--background-reddening always`` or ``never`` in place of the
configuration's ``imaging.cmd.decontamination.background_reddening.mode`` (``auto``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from astropipe.simulate.extinction_screen import ExtinctionScreen
from astropipe.simulate.populations import DIFFERENTIAL_REDDENING_SHAPES
from astropipe.simulate.scene import FieldSpec

__all__ = ["add_scene_arguments", "decontamination_settings", "scene_meta", "scene_suffix", "scene_variant"]


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose a scene variant."""
    parser.add_argument(
        "--reddening-shape",
        choices=DIFFERENTIAL_REDDENING_SHAPES,
        default="uniform",
        help="the simulated members' differential reddening about the cluster's E(H - K) (same rms for every shape)",
    )
    parser.add_argument(
        "--screen-rms",
        type=float,
        default=0.0,
        help="E(H - K) rms (mag) of a patchy foreground screen in front of the background stars (default: none)",
    )
    parser.add_argument(
        "--screen-correlation",
        type=float,
        default=ExtinctionScreen().correlation_arcsec,
        help="the screen's correlation length (arcsec)",
    )
    parser.add_argument(
        "--background-reddening",
        choices=("auto", "always", "never"),
        default=None,
        help="the decontamination's background dereddening (default: the configuration's mode)",
    )


def scene_variant(spec: FieldSpec, args: argparse.Namespace) -> FieldSpec:
    """``spec`` with the chosen members' reddening shape and foreground screen."""
    cluster = replace(spec.cluster, differential_e_hk_shape=args.reddening_shape)
    screen = replace(spec.screen, e_hk_rms=args.screen_rms, correlation_arcsec=args.screen_correlation)
    return replace(spec, cluster=cluster, screen=screen)


def decontamination_settings(settings: dict, args: argparse.Namespace) -> dict:
    """``imaging.cmd.decontamination`` with the chosen background dereddening."""
    if args.background_reddening is None:
        return settings
    return settings | {"background_reddening": settings["background_reddening"] | {"mode": args.background_reddening}}


def scene_suffix(args: argparse.Namespace) -> str:
    """The output file's suffix of a scene variant ('' for the default scenes and settings)."""
    suffix = "" if args.reddening_shape == "uniform" else f"_reddening_{args.reddening_shape}"
    if args.screen_rms > 0:
        suffix += f"_screen{args.screen_rms:g}_{args.screen_correlation:g}arcsec"
    if args.background_reddening is not None:
        suffix += f"_background_{args.background_reddening}"
    return suffix


def scene_meta(args: argparse.Namespace) -> dict:
    """The scene variant, for the output table's metadata."""
    return {
        "reddening_shape": args.reddening_shape,
        "screen_e_hk_rms": args.screen_rms,
        "screen_correlation_arcsec": args.screen_correlation,
        "background_reddening": args.background_reddening,
    }
