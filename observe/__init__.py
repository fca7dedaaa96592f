"""observe: Istio metrics and traces merged into one live service topology."""

__version__ = "0.1.0"
