"""The scheduled Club Hub reconciliation pull as Lambda runs it: functions/clubhub_pull over moto,
the Club Hub sandbox over HTTP; runs recorded like any sync, failures raised for the alarm."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import ModuleType

import pytest

from clubsync.domain.runs import RunStatus, SyncKind, SyncType
from clubsync.providers.clubhub.wire import ClubHubMember
from clubsync.runtime.local import Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from clubsync.sandbox.clubhub import ClubHubSandbox
from clubsync.store.tables import ENTITIES, STATE


@pytest.fixture
def clubhub() -> Iterator[ClubHubSandbox]:
    sandbox = ClubHubSandbox(club_id="0451")
    for account in ("CH-A", "CH-B"):  # the article's duplicate active accounts of one person
        sandbox.add_account(
            ClubHubMember(
                member_id=account, first_name="Mary", last_name="Member", email="mary@example.org"
            )
        )
    sandbox.sell_pending("CH-A", "111", date(2022, 1, 1))
    sandbox.sell_pending("CH-B", "456", date(2022, 1, 1))
    sandbox.replace_pending("CH-A", "111", "123", date(2022, 1, 1))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def function(
    repos: Repositories, monkeypatch: pytest.MonkeyPatch, clubhub: ClubHubSandbox
) -> ModuleType:
    # What the stack sets on the function (infra/clubsync_infra/clubhub_pull.py).
    monkeypatch.setenv(ENTITIES.env_var, ENTITIES.default_name)
    monkeypatch.setenv(STATE.env_var, STATE.default_name)
    monkeypatch.setenv("CLUBSYNC_CLUBHUB_BASE_URL", clubhub.start())
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ClubSync")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-clubhub-pull")
    return load_function("clubhub_pull")


def test_a_named_location_is_pulled_as_an_engine_run(
    function: ModuleType, repos: Repositories
) -> None:
    answer = function.lambda_handler({"location_id": "springfield"}, LocalLambdaContext())
    assert answer == {"runs": {"springfield": "succeeded"}, "pending": []}
    (run,) = repos.state.runs("springfield", SyncType.MEMBERS)
    assert (run.kind, run.status, run.counts.fetched) == (SyncKind.FULL, RunStatus.SUCCEEDED, 2)
    assert [a.system_id for a in repos.entities.agreements("springfield") if not a.archived] == [
        "123"
    ]
    assert repos.state.watermark("springfield", SyncType.MEMBERS) is not None


def test_the_schedule_pulls_only_club_hub_locations(function: ModuleType) -> None:
    """`{}`: every Club Hub location that is due. The registered location is an ABC one."""
    assert function.lambda_handler({}, LocalLambdaContext()) == {"runs": {}, "pending": []}


def test_a_failed_pull_is_recorded_and_raised_for_the_alarm(
    function: ModuleType, repos: Repositories, clubhub: ClubHubSandbox
) -> None:
    clubhub.stop()  # Club Hub unreachable
    with pytest.raises(RuntimeError, match="Club Hub pull failed for springfield"):
        function.lambda_handler({"location_id": "springfield"}, LocalLambdaContext())
    (run,) = repos.state.runs("springfield", SyncType.MEMBERS)
    assert run.status is RunStatus.FAILED and "Club Hub pull failed" in run.message
    assert repos.state.watermark("springfield", SyncType.MEMBERS) is None


def test_a_bad_event_is_refused_naming_the_shape(function: ModuleType) -> None:
    with pytest.raises(ValueError, match="location_id"):
        function.lambda_handler({"location": "springfield"}, LocalLambdaContext())
