"""The billing sandbox: a local fake of the ABC DataTrak member API with generated data,
a controllable clock, record modification and fault injection (see docs/sandbox.md)."""

from clubsync.sandbox.generator import generate_members, make_malformed_member
from clubsync.sandbox.server import BillingSandbox, Fault, FaultKind

__all__ = ["BillingSandbox", "Fault", "FaultKind", "generate_members", "make_malformed_member"]
