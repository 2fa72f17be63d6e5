"""Master darks (per DIT), flats and illumination corrections (per filter) and the bad-pixel mask of the night."""

from astropy.table import Table

from astropipe.io import atomic_directory
from astropipe.io.rule_log import rule_logger
from astropipe.reduce.cosmic_rays import DetectorNoise
from astropipe.reduce.masters import build_masters

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = rule_logger(snakemake.log[0], "imaging_masters")
frames = Table.read(snakemake.input.frames, format="ascii.ecsv")
with atomic_directory(snakemake.output[0]) as directory:
    for path in build_masters(
        frames,
        directory,
        snakemake.params.aperture_radius_arcsec,
        snakemake.params.linearity,
        DetectorNoise(**snakemake.params.detector),
        snakemake.params.crosstalk,
    ):
        log.info("wrote %s", path.name)
