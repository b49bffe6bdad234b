"""The ``ltc`` command and the orchestration of its work (harvest, then the derived
graph, then publication): the top layer, the only one that imports the harvester,
convergence and the web service together."""

from core import __version__

__all__ = ["__version__"]
