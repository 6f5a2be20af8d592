"""Mindbody (MBO) Public API v6 as a clubsync provider (docs/providers/mindbody.md)."""
