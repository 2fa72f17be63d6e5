"""The exact deflection against its weak-field series: the error of the order-n series falls as (M/b)^(n+1).

A check of the exact integral against an analytic limit, drawn when the documentation is built.
"""

import matplotlib.pyplot as plt
import numpy as np

from astropipe.lensing.approximations import weak_field_deflection
from astropipe.lensing.deflection import deflection_angle

b = np.logspace(1.0, 4.0, 25)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
for ax, v in zip(axes, (1.0, 0.5), strict=True):
    exact = deflection_angle(b, v)
    for order in (1, 2, 3):
        error = np.abs(weak_field_deflection(b, v, order=order) - exact) / exact
        ax.loglog(b, error, "o", ms=3, color=f"C{order - 1}", label=f"series to order {order}")
        ax.loglog(b, error[12] * (b / b[12]) ** -order, "-", lw=0.7, color=f"C{order - 1}")
    ax.set_xlabel("impact parameter b / M")
    ax.set_title(f"v = {v:g} c; lines: relative error ~ (M/b)^n, the first neglected term", fontsize=9)
axes[0].set_ylabel("|series - exact| / exact")
axes[0].legend(fontsize=8)
fig.tight_layout()
