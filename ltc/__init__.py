"""LTC Registry: the federated registry of the Lieux de Convergence de la Transition."""

__version__ = "0.1.0"
