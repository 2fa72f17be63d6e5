"""Sphinx configuration of the documentation site (``make docs``; built with warnings as errors by the tests).

Sphinx rather than MkDocs: numpydoc reads the library's numpy-style docstrings as the astropy,
photutils and ccdproc sites do, autosummary generates the API reference from them, and MyST keeps
the pages Markdown, readable on the repository host as they are.
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))

project = "astropipe"
author = "The astropipe developers"
copyright = "2026, The astropipe developers"
extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "config_reference",
    "rule_map",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Validation figures are drawn from docs/plots/*.py at every build (never stale committed images).
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.max_open_warning": 0}
html_theme = "alabaster"
html_title = "astropipe"


def _literal_bars(app, what, name, obj, options, lines) -> None:
    """Docstrings write formulas in plain text (|V|, |b| < 15 deg); in reStructuredText a bar pair is a
    substitution, so bars outside table rows are escaped."""
    for i, line in enumerate(lines):
        if "|" in line and not line.lstrip().startswith(("|", "+")):
            lines[i] = line.replace("|", "\\|")


def setup(app):
    app.connect("autodoc-process-docstring", _literal_bars, priority=400)
