"""The IRIs the registry mints, all under the configurable public base (``base_iri``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Iris:
    base: str

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            object.__setattr__(self, "base", self.base + "/")

    @property
    def registry(self) -> str:
        return self.base + "registry"

    @property
    def meta_graph(self) -> str:
        """Harvest provenance (PROV-O) and the description of every source."""
        return self.base + "graph/meta"

    @property
    def derived_graph(self) -> str:
        """Facts the registry derives (convergence, identity links)."""
        return self.base + "graph/derived"

    def source_graph(self, source: str) -> str:
        return f"{self.base}graph/source/{source}"

    def report_graph(self, source: str) -> str:
        return f"{self.base}graph/report/{source}"

    def source(self, source: str) -> str:
        return f"{self.base}source/{source}"

    def harvest(self, source: str, started: datetime) -> str:
        return f"{self.base}harvest/{source}/{started.strftime('%Y%m%dT%H%M%S%fZ')}"
