"""Speed and accuracy of the exact deflection against the textbook evaluation.

Peer: the direct quadrature alpha = 2 * quad(1/sqrt(F(u)), 0, u0) - pi with
scipy.integrate.quad (the integrand has an inverse-square-root end point, which
quad's QAGS handles by extrapolation). Ours: the cancellation-free form of
astropipe.lensing.deflection_angle. Reference for accuracy: the mpmath
closed form at 40 digits.

Run: python benchmarks/lensing_deflection.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import quad

from astropipe.lensing import closest_approach, critical_impact_parameter, deflection_angle, deflection_angle_elliptic


def textbook_deflection(b: float, v: float) -> float:
    x0 = float(closest_approach(b, v))
    m = 1.0 / b
    beta = 2.0 * m * (1.0 - v * v) / (v * v)
    value, _ = quad(lambda x: 1.0 / np.sqrt(((2.0 * m * x - 1.0) * x + beta) * x + 1.0), 0.0, x0, limit=400)
    return 2.0 * value - np.pi


def main() -> None:
    speeds = np.array([1.0, 0.5, 0.1, 0.01])
    b = np.concatenate([critical_impact_parameter(v) * np.geomspace(1.05, 1e6, 25) for v in speeds])
    v = np.repeat(speeds, 25)
    reference = deflection_angle_elliptic(b, v)

    start = time.perf_counter()
    ours = deflection_angle(b, v)
    ours_time = time.perf_counter() - start

    start = time.perf_counter()
    peer = np.array([textbook_deflection(bi, vi) for bi, vi in zip(b, v, strict=True)])
    peer_time = time.perf_counter() - start

    ours_err = np.max(np.abs(ours / reference - 1))
    peer_err = np.max(np.abs(peer / reference - 1))
    print(f"points: {b.size}; b from 1.05 b_c to 1e6 b_c; v in {speeds.tolist()}")
    print(f"ours (cancellation-free quadrature): {b.size / ours_time:.0f} points/s, max relative error {ours_err:.2e}")
    print(f"peer (textbook quad of 1/sqrt(F)):   {b.size / peer_time:.0f} points/s, max relative error {peer_err:.2e}")
    print(
        f"lensing_deflection: points/s {b.size / ours_time:.0f} vs textbook-quad {b.size / peer_time:.0f}, "
        f"ratio {peer_time / ours_time:.2f} (accuracy ratio {peer_err / ours_err:.2g})"
    )


if __name__ == "__main__":
    main()
