"""The billing sandbox: a provider-neutral core (core.py: server, clock, faults, request log,
control API) and one plug-in per billing system it fakes (abc/, clubhub/); see docs/sandbox.md."""

from clubsync.sandbox.abc.generator import generate_members, make_malformed_member
from clubsync.sandbox.abc.server import BillingSandbox
from clubsync.sandbox.core import Fault, FaultKind

__all__ = ["BillingSandbox", "Fault", "FaultKind", "generate_members", "make_malformed_member"]
