"""The Mindbody sandbox: Public API v6 over the sandbox core (docs/sandbox.md, "Mindbody")."""

from clubsync.sandbox.mindbody.server import MindbodySandbox

__all__ = ["MindbodySandbox"]
