"""clubsync: keeps a fitness club's CRM in sync with its billing system."""

__version__ = "0.1.0"
