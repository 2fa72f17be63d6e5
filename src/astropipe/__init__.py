"""astropipe: the library behind the workflow.

Subpackages, one concept per module:

- :mod:`astropipe.lensing` - lensing of massive particles in Schwarzschild (Joshi).
- :mod:`astropipe.io` - atomic writes of tables, JSON and figures.
"""

__version__ = "0.1.0"
