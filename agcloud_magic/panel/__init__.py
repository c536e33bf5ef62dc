"""The chat panel face: an ipywidgets widget on the kernel's session."""

from agcloud_magic.panel.panel import Panel

__all__ = ["Panel"]
