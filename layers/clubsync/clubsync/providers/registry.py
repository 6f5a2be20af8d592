"""Every billing provider clubsync knows, by the name a location gives (`LocationSettings.
provider`), and the composition root that connects a location to its provider.

Adding a provider is one folder under providers/ (a class with the `Provider` shape) and one
line in REGISTRY (docs/providers.md). Nothing else chooses a provider: the sync Lambdas, the
prospect push, local runs and `clubsync locations apply` all come through here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.abc.provider import AbcProvider
from clubsync.providers.base import (
    CallLedger,
    Capabilities,
    ConnectContext,
    Connection,
    MemberSource,
    Provider,
    ProviderRefused,
    RecordSource,
)
from clubsync.providers.clubhub.provider import ClubHubProvider
from clubsync.providers.contact_logs import ContactLogTarget
from clubsync.providers.feed.provider import FeedProvider
from clubsync.providers.mindbody.provider import MindbodyProvider
from clubsync.providers.moso.provider import MosoProvider
from clubsync.providers.prospects import ProspectRules, ProspectTarget

REGISTRY: dict[str, type[Provider]] = {
    AbcProvider.name: AbcProvider,
    ClubHubProvider.name: ClubHubProvider,
    FeedProvider.name: FeedProvider,
    MindbodyProvider.name: MindbodyProvider,
    MosoProvider.name: MosoProvider,
}

# The secret of a location, parsed (a JSON object), or None when it has none. Lambda reads the
# one `billing_secret_name` names (`named_secret`); local runs answer the sandbox's for all.
SecretReader = Callable[[LocationSettings], Mapping[str, Any] | None]


def named_secret(read: Callable[[str], Any]) -> SecretReader:
    """A SecretReader over `read(secret name)`, None for a location that names no secret."""

    def reader(settings: LocationSettings) -> Mapping[str, Any] | None:
        if not settings.billing_secret_name:
            return None
        secret: Mapping[str, Any] = read(settings.billing_secret_name)
        return secret

    return reader


def provider_named(name: str) -> type[Provider]:
    provider = REGISTRY.get(name)
    if provider is None:
        raise ProviderRefused(
            f"unknown provider {name!r}; registered providers: {', '.join(sorted(REGISTRY))}"
        )
    return provider


def prospect_rules_for(settings: LocationSettings) -> ProspectRules:
    """What the location's billing system refuses in a prospect before one is sent (the
    prospect push and intake's preview)."""
    return provider_named(settings.provider).prospect_rules


def offered_sync_types(settings: LocationSettings) -> frozenset[SyncType]:
    """The sync types the location's provider can pull (what its schedules and its full sync
    should run); none for an unknown provider."""
    provider = REGISTRY.get(settings.provider)
    return provider.capabilities.pulls if provider is not None else frozenset()


def field_problems(error: ValidationError, prefix: str) -> list[str]:
    """One line per field at fault, never the value (an account or a secret may hold one)."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join([prefix, *(str(part) for part in problem["loc"])])
        problems.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}")
    return problems


def account_problems(settings: LocationSettings) -> list[str]:
    """Why the location's provider refuses it, one line each: an unknown provider (listing
    the registered ones), or the account's field errors from the provider's account model.
    Empty when it is fine (`clubsync locations apply`)."""
    try:
        provider = provider_named(settings.provider)
    except ProviderRefused as refused:
        return [f"provider: {refused}"]
    try:
        provider.account_model.model_validate(settings.account)
    except ValidationError as error:
        return field_problems(error, "account")
    return []


def connect_location(
    settings: LocationSettings,
    read_secret: SecretReader,
    *,
    client_options: Mapping[str, Mapping[str, Any]] | None = None,
    seconds_left: Callable[[], float] | None = None,
    transport: Any = None,
    call_ledger: CallLedger | None = None,
    clock: Callable[[], datetime] | None = None,
) -> CheckedConnection:
    """The location's connection to its billing system: its provider from the registry, its
    account and its secret validated by the provider's models, and only what the provider's
    capabilities declare (anything else is refused with the reason, never a crash inside).

    `client_options`: per provider name, its client's options (ABC: base_url and pacing from
    the environment, or the sandbox's). Raises ProviderRefused for a location that cannot be
    connected as configured."""
    provider = provider_named(settings.provider)
    try:
        account = provider.account_model.model_validate(settings.account)
    except ValidationError as error:
        raise ProviderRefused(
            f"location {settings.location_id!r}: its {provider.name} account is invalid: "
            + "; ".join(field_problems(error, "account"))
        ) from error
    credentials = _credentials(settings, provider.credentials_model, read_secret)
    context = ConnectContext(
        location=settings,
        options=dict((client_options or {}).get(provider.name, {})),
        seconds_left=seconds_left,
        transport=transport,
        call_ledger=call_ledger,
        clock=clock,
    )
    opened = provider().connect(account, credentials, context)
    return CheckedConnection(settings, provider.capabilities, opened)


def _credentials(
    settings: LocationSettings, model: type[BaseModel], read_secret: SecretReader
) -> BaseModel:
    secret = read_secret(settings)
    try:
        return model.model_validate(secret if secret is not None else {})
    except ValidationError as error:
        if secret is None:
            # A provider whose credentials need nothing (Club Hub today) takes no secret.
            raise ProviderRefused(
                f"location {settings.location_id!r} has no billing_secret_name: add the "
                "Secrets Manager secret of its billing account with `clubsync locations apply`"
            ) from error
        raise ProviderRefused(
            f"location {settings.location_id!r}: secret {settings.billing_secret_name!r} does "
            f"not hold {settings.provider} credentials: "
            + "; ".join(field_problems(error, "secret"))
        ) from error


class CheckedConnection:
    """A provider's connection that gives only what the provider declares it offers, so a
    Club Hub location asked for check-ins is refused with a reason (InvalidEvent in a sync)."""

    def __init__(
        self, settings: LocationSettings, capabilities: Capabilities, connection: Connection
    ) -> None:
        self.settings = settings
        self.capabilities = capabilities
        self.connection = connection
        self.provider = connection.provider

    def _require(self, what: str, offered: bool) -> None:
        if not offered:
            raise ProviderRefused(
                f"location {self.settings.location_id!r} is on {self.provider}, which offers "
                f"no {what} ({self.provider} {self.capabilities.describe()})"
            )

    def member_source(self) -> MemberSource:
        self._require("members pull", SyncType.MEMBERS in self.capabilities.pulls)
        return self.connection.member_source()

    def record_source(self, sync_type: SyncType) -> RecordSource:
        self._require(f"{sync_type.value} pull", sync_type in self.capabilities.pulls)
        return self.connection.record_source(sync_type)

    def prospect_target(self) -> ProspectTarget:
        self._require("prospect push", self.capabilities.prospect_push)
        return self.connection.prospect_target()

    # -- initial integration: optional hooks (providers/base.py, IntegrationHooks) ---------
    def check_zone(self) -> str | None:
        """The provider's zone check, or None when it has none (nothing to compare with)."""
        check = getattr(self.connection, "check_zone", None)
        result: str | None = check() if check is not None else None
        return result

    def prospect_source(self) -> RecordSource | None:
        """The billing system's own prospects, or None when the provider offers none."""
        source = getattr(self.connection, "prospect_source", None)
        found: RecordSource | None = source() if source is not None else None
        return found

    def contact_log_target(self) -> ContactLogTarget | None:
        """Where follow-up contacts are recorded in billing, or None when the provider has no
        such place (ABC, Club Hub)."""
        target = getattr(self.connection, "contact_log_target", None)
        found: ContactLogTarget | None = target() if target is not None else None
        return found

    def close(self) -> None:
        self.connection.close()
