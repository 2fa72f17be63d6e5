"""Writing outputs safely: atomic file replacement and small JSON helpers."""

from astropipe.io.atomic import atomic_directory, atomic_output, write_json, write_table

__all__ = ["atomic_directory", "atomic_output", "write_json", "write_table"]
