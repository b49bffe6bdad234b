"""The foundation every other layer stands on: settings, the data folder, the catalog
and the takedown list, the store interface and its backends, the vocabulary and the
IRIs the registry mints, and the reader of what the harvester leaves for each source.

It imports nothing of the harvester, convergence, the web service or the commands.
"""

__version__ = "0.1.0"
