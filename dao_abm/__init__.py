"""dao-abm: agent-based simulation of two-level auctions whose bidders are groups (DAOs)."""

__version__ = "0.1.0"
