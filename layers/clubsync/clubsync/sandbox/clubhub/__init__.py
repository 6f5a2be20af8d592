"""The Club Hub sandbox: a SandboxRoutes plug-in for the sandbox core (server.py)."""

from clubsync.sandbox.clubhub.server import ClubHubSandbox

__all__ = ["ClubHubSandbox"]
