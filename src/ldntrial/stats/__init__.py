"""Statistics on TrialData: the protocol's end points (the analyses grow here)."""

from ldntrial.stats.endpoints import condition_endpoints, summarise_endpoints

__all__ = ["condition_endpoints", "summarise_endpoints"]
