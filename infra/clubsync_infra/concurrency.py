"""Reserved concurrency against the account's Lambda quota.

Lambda keeps 100 of an account's concurrent executions unreserved, so a stack whose functions
reserve R slots deploys only into an account (and region) whose concurrency quota is at least
R + 100. New accounts start far lower (often 10), and the deploy then fails late, in
CloudFormation, on the first function. The stack's total is checked at synth against the quota
the operator states (context `accountConcurrency`, default 1,000: the usual quota once raised),
and a small or new account can deploy with no reservations at all (`reserveConcurrency=false`:
every function then shares the account's pool, and a burst of syncs can starve the prospect
URLs, which is what the reservations prevent)."""

from __future__ import annotations

import jsii
from aws_cdk import IAspect, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

UNRESERVED_MINIMUM = 100
DEFAULT_ACCOUNT_CONCURRENCY = 1000


class ConcurrencyQuotaTooLow(ValueError):
    """The functions reserve more than the account's quota leaves them (one line)."""


def reserved_concurrency(stack: Stack) -> int:
    """The concurrent executions the stack's functions reserve, summed."""
    total = 0
    for construct in stack.node.find_all():
        if isinstance(construct, lambda_.CfnFunction):
            reserved = construct.reserved_concurrent_executions
            total += reserved if isinstance(reserved, int) else 0
    return total


def check_quota(stack: Stack, account_concurrency: int) -> int:
    """The stack's reserved total; raises when the quota cannot hold it and the 100 slots Lambda
    keeps unreserved."""
    reserved = reserved_concurrency(stack)
    needed = reserved + UNRESERVED_MINIMUM
    if needed > account_concurrency:
        raise ConcurrencyQuotaTooLow(
            f"{stack.stack_name}: its functions reserve {reserved} concurrent executions, which "
            f"needs a Lambda concurrency quota of at least {needed} (Lambda keeps "
            f"{UNRESERVED_MINIMUM} unreserved) and accountConcurrency says {account_concurrency}: "
            "ask AWS Support / Service Quotas to raise it and pass -c accountConcurrency=N, or "
            "deploy with -c reserveConcurrency=false (docs/operations.md, 'Concurrency')"
        )
    return reserved


@jsii.implements(IAspect)
class WithoutReservedConcurrency:
    """Removes every function's reservation (`reserveConcurrency=false`)."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.CfnFunction):
            node.reserved_concurrent_executions = None
