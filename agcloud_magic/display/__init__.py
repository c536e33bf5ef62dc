"""Showing answers: safe Markdown, the notebook and terminal renderers.  A leaf: imports nothing
of the package but :mod:`agcloud_magic.errors`, and neither IPython nor ipywidgets."""
