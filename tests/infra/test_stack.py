"""The synthesized CloudFormation templates: resources, IAM, tables from the one definition,
cdk-nag (AwsSolutions + Serverless) and cfn-lint. The app is synthesized once for the module,
without bundling (no pip, no layer build), with a dev and a prod stack."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clubsync.domain.runs import SyncType
from clubsync.engine.sync_types import FULL_SYNC_STAGES, SYNC_TYPES, SyncTypeSpec
from clubsync.features.scheduling import (
    CHECKINS_TARGET_ENV,
    FULL_SYNC_TARGET_ENV,
    FULL_SYNC_WINDOW_ENV,
    FULL_SYNC_WINDOW_MINUTES,
    partial_target_env,
)
from clubsync.store.tables import ALL_TABLES, ENTITIES, STATE, TableSpec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from aws_cdk.assertions import Match, Template  # noqa: E402
from clubsync_infra.full_sync import RETRY_ATTEMPTS  # noqa: E402
from clubsync_infra.transitions import continuation_transitions, night_transitions  # noqa: E402

from clubsync.engine.full_sync import result_from_step_output  # noqa: E402
from clubsync.engine.sync_types import FULL_SYNC_ORDER, write_units_per_second  # noqa: E402
from clubsync.runtime.sync_lambda import WRITE_PACE_ENV, SyncEnvironment  # noqa: E402
from clubsync.store.items import PARTITION_WRITE_UNITS_PER_SECOND  # noqa: E402
from tests.infra.asl import Execution, TaskError  # noqa: E402

Resources = dict[str, dict[str, Any]]
# Actions whose AWS API has no resource-level permission: "*" is the only possible resource.
RESOURCE_STAR_ALLOWED = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
    # The state machine's X-Ray tracing and its CloudWatch Logs delivery.
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    infra_app = _load("clubsync_cdk_app", ROOT / "infra" / "app.py")
    outdir = tmp_path_factory.mktemp("cdk.out")
    # As the CDK CLI does with a configured region: ARNs (and nag finding ids) then name it.
    saved = os.environ.get("CDK_DEFAULT_REGION")
    os.environ["CDK_DEFAULT_REGION"] = "eu-west-1"
    try:
        # cdk.json's context (its feature flags above all): what `cdk deploy` synthesizes.
        app = infra_app.build_app(
            {**cdk_json_context(), "aws:cdk:bundling-stacks": []},
            outdir=str(outdir),
            stages=("dev", "prod"),
        )
    finally:
        if saved is None:
            os.environ.pop("CDK_DEFAULT_REGION")
        else:
            os.environ["CDK_DEFAULT_REGION"] = saved
    try:
        app.synth()
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        details = report.read_text() if report.exists() else ""
        pytest.fail(f"synth failed: {error}\n{_violations(details)}")
    yield outdir


def _violations(report_text: str) -> str:
    if not report_text:
        return ""
    lines = []
    for plugin in json.loads(report_text)["pluginReports"]:
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                lines.append(f"{violation['ruleName']} at {construct['constructPath']}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def dev(assembly: Path) -> dict[str, Any]:
    return json.loads((assembly / "Clubsync-dev.template.json").read_text())


@pytest.fixture(scope="module")
def prod(assembly: Path) -> dict[str, Any]:
    return json.loads((assembly / "Clubsync-prod.template.json").read_text())


def of_type(template: dict[str, Any], kind: str) -> Resources:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in of_type(template, "AWS::IAM::Policy").values():
        found += resource["Properties"]["PolicyDocument"]["Statement"]
    for resource in of_type(template, "AWS::IAM::Role").values():
        for policy in resource["Properties"].get("Policies", []):
            found += policy["PolicyDocument"]["Statement"]
    return found


def table(template: dict[str, Any], spec: TableSpec, stage: str) -> dict[str, Any]:
    matches = [
        resource
        for resource in of_type(template, "AWS::DynamoDB::Table").values()
        if resource["Properties"]["TableName"] == f"{spec.default_name}-{stage}"
    ]
    assert len(matches) == 1, f"table {spec.default_name}-{stage}"
    return matches[0]


# -- security baseline -----------------------------------------------------------------------
def test_cdk_nag_aws_solutions_and_serverless_have_no_unacknowledged_findings(
    assembly: Path,
) -> None:
    report = assembly / "validation-report.json"
    assert not report.exists() or _violations(report.read_text()) == ""


ACKNOWLEDGED = {
    "AwsSolutions-SQS3",
    "Serverless-SQSRedrivePolicy",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-L1",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaAsyncFailureDestination",
    "Serverless-LambdaDLQ",
    "AwsSolutions-SMG4",
    # The feed bucket's access-log bucket is not logged itself.
    "AwsSolutions-S1",
    # The feed import reads any file under incoming/ of the feed bucket.
    "AwsSolutions-IAM5[Resource::<FeedsDeliveriesFE2E43E4.Arn>/incoming/*]",
}


def test_every_acknowledged_finding_is_known_and_has_a_reason(assembly: Path) -> None:
    metadata = json.loads((assembly / "Clubsync-dev.metadata.json").read_text())
    acknowledged: dict[str, str] = {}
    for entries in metadata.values():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                acknowledged.update(entry["data"])
    rules = {rule.removeprefix("Annotation::") for rule in acknowledged}
    # Resource-specific IAM5 findings (the clubsync secret prefix, the schedule group).
    specific = {rule for rule in rules if rule.startswith("AwsSolutions-IAM5[Resource::arn")}
    # The state machine may invoke each Lambda function it runs and its versions (CDK's
    # LambdaInvoke grant): one finding per function, the member sync and the seven new ones.
    invoke_versions = {
        rule
        for rule in rules
        if rule.startswith("AwsSolutions-IAM5[Resource::<") and rule.endswith(".Arn>:*]")
    }
    assert rules - specific - invoke_versions == ACKNOWLEDGED
    assert len(specific) == 2
    # (12: the eleven above and the Club Hub reconciliation pull's schedule.)
    assert len(invoke_versions) == 12
    for rule, reason in acknowledged.items():
        assert len(reason) > 40, rule


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_no_iam_statement_has_a_wildcard_action(
    stage: str, dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    template = dev if stage == "dev" else prod
    for statement in statements(template):
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement
        if statement["Effect"] == "Allow" and "*" in _as_list(statement.get("Resource")):
            assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ALLOWED, statement


def test_no_managed_policies_and_no_secrets_in_environment(dev: dict[str, Any]) -> None:
    for role in of_type(dev, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    for function in of_type(dev, "AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        for name in variables:
            assert not any(word in name.upper() for word in ("SECRET_VALUE", "APP_KEY", "PASSWORD"))
        assert "sandbox" not in json.dumps(variables)


def test_cfn_lint_is_clean(assembly: Path) -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    if not Path(cfn_lint).exists():
        pytest.skip("cfn-lint is not installed (pip install cfn-lint)")
    # W3005: CDK's own DependsOn on a function's role, which a GetAtt already implies;
    # harmless and generated by aws-cdk-lib, not by this app.
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", "W3005", "--", *map(str, assembly.glob("*.template.json"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- storage ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.logical_id)
def test_tables_are_built_from_the_library_definition(spec: TableSpec, dev: dict[str, Any]) -> None:
    properties = table(dev, spec, "dev")["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": spec.partition_key, "KeyType": "HASH"},
        {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
    ]
    assert sorted(a["AttributeName"] for a in properties["AttributeDefinitions"]) == sorted(
        spec.key_attributes
    )
    assert {a["AttributeType"] for a in properties["AttributeDefinitions"]} == {"S"}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    indexes = {index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.global_indexes}
    for index in spec.global_indexes:
        deployed = indexes[index.name]
        assert deployed["KeySchema"][0]["AttributeName"] == index.partition_key
        assert deployed["KeySchema"][1]["AttributeName"] == index.sort_key
        assert sorted(deployed["Projection"].get("NonKeyAttributes", [])) == sorted(
            index.projected_attributes
        )
    if spec.stream:
        assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    else:
        assert "StreamSpecification" not in properties
    if spec.ttl_attribute:
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }


def test_production_tables_are_protected_and_dev_tables_are_not(
    dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    for spec in ALL_TABLES:
        prod_table = table(prod, spec, "prod")
        assert prod_table["Properties"]["DeletionProtectionEnabled"] is True
        assert prod_table["DeletionPolicy"] == "Retain"
        dev_table = table(dev, spec, "dev")
        assert dev_table["Properties"].get("DeletionProtectionEnabled") in (None, False)
        assert dev_table["DeletionPolicy"] == "Delete"


# -- functions --------------------------------------------------------------------------------
def _function(template: dict[str, Any], code_dir: str) -> dict[str, Any]:
    for resource in of_type(template, "AWS::Lambda::Function").values():
        if resource["Properties"]["Environment"]["Variables"].get("POWERTOOLS_SERVICE_NAME") == (
            f"clubsync-{code_dir}"
        ):
            return resource
    raise AssertionError(f"no function for {code_dir}")


def test_functions_are_arm64_on_a_current_python_with_both_layers_and_tracing(
    dev: dict[str, Any],
) -> None:
    functions = of_type(dev, "AWS::Lambda::Function")
    # (19 with the Club Hub reconciliation pull, the feed import and the Mindbody webhook.)
    assert len(functions) == 19
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["Handler"].startswith("handler.")
        assert len(properties["Layers"]) == 2
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "ClubSync"
    for layer in of_type(dev, "AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_every_function_handler_names_a_function_in_its_handler_file(dev: dict[str, Any]) -> None:
    """Each deployed function's Handler must name a real top-level function in its
    functions/<dir>/handler.py (the prospect handlers call theirs `lambda_handler`)."""
    checked = set()
    for function in of_type(dev, "AWS::Lambda::Function").values():
        properties = function["Properties"]
        service = properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        directory = service.removeprefix("clubsync-").replace("-", "_")
        source = (ROOT / "functions" / directory / "handler.py").read_text()
        entry = properties["Handler"].removeprefix("handler.")
        assert f"\ndef {entry}(" in source, (directory, entry)
        checked.add(directory)
    assert {"members_sync", "location_registry", "prospect_push", "prospect_intake"} <= checked
    assert set(FULL_SYNC_FUNCTIONS) <= checked
    # Every function folder is deployed.
    folders = {path.parent.name for path in (ROOT / "functions").glob("*/handler.py")}
    assert folders == checked


def test_the_layer_build_targets_the_function_runtime_and_architecture() -> None:
    build = _load("clubsync_layer_build", ROOT / "layers" / "build.py")
    from clubsync_infra.runtime import LAMBDA_PYTHON_VERSION

    assert build.PYTHON_VERSION == LAMBDA_PYTHON_VERSION
    assert build.PLATFORMS["arm64"] == "manylinux2014_aarch64"
    assert not any(r.startswith(("boto3", "botocore")) for r in build.requirements())


def test_member_sync_function_reads_tables_from_the_spec_env_vars_and_has_a_dlq(
    dev: dict[str, Any],
) -> None:
    properties = _function(dev, "members-sync")["Properties"]
    variables = properties["Environment"]["Variables"]
    assert {ENTITIES.env_var, STATE.env_var} <= set(variables)
    assert properties["Timeout"] == 900
    assert properties["ReservedConcurrentExecutions"] >= 1
    assert "DeadLetterConfig" in properties
    Template.from_json(dev).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3 * 3600},
    )


def test_the_sync_may_invoke_itself_and_read_only_clubsync_secrets(dev: dict[str, Any]) -> None:
    actions = {a for s in statements(dev) for a in _as_list(s["Action"])}
    assert "lambda:InvokeFunction" in actions
    granted = _granted(dev, _function(dev, "members-sync"))
    assert json.dumps(granted["secretsmanager:GetSecretValue"]).endswith(
        ':secret:clubsync/dev/*"]]}]'
    )


def _granted(template: dict[str, Any], function: dict[str, Any]) -> dict[str, list[Any]]:
    """Action -> resources granted to the function's own role (its inline policies)."""
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    granted: dict[str, list[Any]] = {}
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"]):
                granted.setdefault(action, []).extend(_as_list(statement["Resource"]))
    return granted


# -- scheduling -------------------------------------------------------------------------------
def test_location_schedules_are_data_not_stack_resources(dev: dict[str, Any]) -> None:
    # The stack's own schedules run over every location at once (the weekly duplicate report,
    # the hourly follow-up due lists, the hourly staleness check, the hourly Club Hub pull);
    # per-location schedules are created by the registry.
    schedules = of_type(dev, "AWS::Scheduler::Schedule")
    assert sorted(name.rstrip("0123456789ABCDEF") for name in schedules) == [
        "ClubHubPullHourly",
        "DuplicatesWeeklyReport",
        "FollowUpsHourly",
        "StalenessHourly",
    ]
    groups = of_type(dev, "AWS::Scheduler::ScheduleGroup")
    assert [g["Properties"]["Name"] for g in groups.values()] == ["clubsync-dev"]


def test_scheduler_role_can_only_invoke_the_syncs_start_the_full_sync_and_use_the_dlq(
    dev: dict[str, Any],
) -> None:
    template = Template.from_json(dev)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": Match.any_value()}},
                        }
                    )
                ]
            }
        },
    )
    roles = [
        name
        for name, role in of_type(dev, "AWS::IAM::Role").items()
        if "scheduler.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
        and name.startswith("Scheduling")
    ]
    assert len(roles) == 1
    policies = [
        p
        for p in of_type(dev, "AWS::IAM::Policy").values()
        if {"Ref": roles[0]} in p["Properties"]["Roles"]
    ]
    granted: dict[str, list[Any]] = {}
    for p in policies:
        for s in p["Properties"]["PolicyDocument"]["Statement"]:
            for action in _as_list(s["Action"]):
                granted.setdefault(action, []).extend(_as_list(s["Resource"]))
    assert set(granted) == {"lambda:InvokeFunction", "states:StartExecution", "sqs:SendMessage"}
    # Partial syncs: the member and the check-in sync functions, nothing else.
    invoked = {_ref_of(resource) for resource in granted["lambda:InvokeFunction"]}
    assert invoked == {
        _logical_id(dev, _function(dev, "members-sync")),
        _logical_id(dev, _function(dev, "checkins-sync")),
    }
    # The 21:00 full sync: this state machine only.
    machine = _logical_id(dev, _state_machine(dev))
    assert granted["states:StartExecution"] == [{"Ref": machine}]


def test_registry_function_follows_registry_items_on_the_state_stream(dev: dict[str, Any]) -> None:
    mappings = [
        m
        for m in of_type(dev, "AWS::Lambda::EventSourceMapping").values()
        if "StorageState" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert len(mappings) == 1
    properties = mappings[0]["Properties"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in properties["DestinationConfig"]
    pattern = json.loads(properties["FilterCriteria"]["Filters"][0]["Pattern"])
    assert pattern == {"dynamodb": {"Keys": {"pk": {"S": ["LOCATIONS"]}}}}
    variables = _function(dev, "location-registry")["Properties"]["Environment"]["Variables"]
    assert variables["CLUBSYNC_SCHEDULE_GROUP"] == "clubsync-dev"
    assert {
        "CLUBSYNC_SYNC_FUNCTION_ARN",
        "CLUBSYNC_SCHEDULER_ROLE_ARN",
        "CLUBSYNC_SCHEDULE_DLQ_ARN",
    } <= set(variables)
    # What clubsync.features.scheduling.desired_schedules reads for the full and check-in targets.
    assert variables[FULL_SYNC_TARGET_ENV] == {"Ref": _logical_id(dev, _state_machine(dev))}
    assert variables[CHECKINS_TARGET_ENV] == {
        "Fn::GetAtt": [_logical_id(dev, _function(dev, "checkins-sync")), "Arn"]
    }


def test_queues_and_topic_are_encrypted_and_tls_only(dev: dict[str, Any]) -> None:
    queues = of_type(dev, "AWS::SQS::Queue")
    # Member sync, registry, prospect push, weekly duplicate report, hourly due lists, hourly
    # staleness check, hourly Club Hub pull, feed import.
    assert len(queues) == 8
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for policy in of_type(dev, "AWS::SQS::QueuePolicy").values():
        assert "aws:SecureTransport" in json.dumps(policy)
    topic = next(iter(of_type(dev, "AWS::SNS::Topic").values()))
    assert "KmsMasterKeyId" in topic["Properties"]
    for key in of_type(dev, "AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


# -- observability ----------------------------------------------------------------------------
ALARMS = {
    "member-sync-errors",
    "failed-syncs",
    "invalid-sync-events",
    "member-sync-throttles",
    "sync-dead-letters",
    "registry-dead-letters",
    "registry-errors",
    "full-sync-executions-failed",
    "full-sync-executions-timed-out",
    "full-sync-partly-failed",
    "full-sync-failed",
    "stale-locations",
    "prospect-push-errors",
    "prospect-push-iterator-age",
    "prospect-dead-letters",
    "prospect-intake-errors",
    "prospect-intake-unauthorized",
    "clubhub-webhook-errors",
    "clubhub-webhook-unauthorized",
    "mindbody-webhook-errors",
    "mindbody-webhook-unauthorized",
    "mindbody-webhook-deferred",
    "duplicates-report-failed",
    "clubhub-pull-errors",
    "clubhub-pull-dead-letters",
    "feed-import-errors",
    "feed-import-refused",
    "feed-import-dead-letters",
    "followups-due-errors",
    "followups-due-dead-letters",
}


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alarm properties by alarm name."""
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
    }


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    if "MetricName" in alarm:
        return [
            {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm.get("Dimensions", []),
            }
        ]
    return [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_alarm_set_is_exactly_this_each_named_with_alarm_and_ok_actions(
    stage: str, dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    template = dev if stage == "dev" else prod
    alarms = _alarms(template)
    assert set(alarms) == {f"clubsync-{stage}-{name}" for name in ALARMS}
    topic = {
        "Ref": _logical_id(template, next(iter(of_type(template, "AWS::SNS::Topic").values())))
    }
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert len(alarm["AlarmDescription"]) > 40, name
        # Only the monitor of the monitors treats silence as trouble (below).
        expected = "breaching" if name.endswith("-stale-locations") else "notBreaching"
        assert alarm["TreatMissingData"] == expected, name


def test_functions_and_alarms_use_the_stack_namespace_and_no_location_dimension(
    dev: dict[str, Any],
) -> None:
    """The namespace is the stack's (POWERTOOLS_METRICS_NAMESPACE on every function), never
    one named in code (Powertools' `namespace=` overrides the variable); no metric anywhere
    has a location dimension (a billed custom metric per location)."""
    from clubsync_infra.runtime import METRICS_NAMESPACE

    assert METRICS_NAMESPACE == "ClubSync"
    for function in of_type(dev, "AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE
    sources = [*(ROOT / "functions").glob("*/handler.py"), *(ROOT / "layers").rglob("*.py")]
    for path in sources:
        text = path.read_text()
        # (Not in a `quoted` mention of the trap itself.)
        assert not re.search(r"(?<!`)(Metrics|single_metric)\([^)]*namespace\s*=", text), path
        assert not re.search(r"add_dimension\(\s*name=\"location", text), path
    for name, alarm in _alarms(dev).items():
        for read in _alarm_metrics(alarm):
            if not str(read["Namespace"]).startswith("AWS/"):
                assert read["Namespace"] == METRICS_NAMESPACE, name
            assert {d["Name"] for d in read["Dimensions"]} <= {
                "service",
                "FunctionName",
                "QueueName",
                "StateMachineArn",
            }, name
    dashboard = json.dumps(of_type(dev, "AWS::CloudWatch::Dashboard"))
    assert "location,service" not in dashboard and "SEARCH(" not in dashboard


def test_the_failed_syncs_alarm_sums_every_sync_type(dev: dict[str, Any]) -> None:
    from clubsync.engine.sync_types import FULL_SYNC_ORDER
    from clubsync.runtime.run_metrics import sync_service

    services = {sync_service(sync_type) for sync_type in FULL_SYNC_ORDER}
    # Every sync function reports under one of these services, and every one is summed.
    sync_functions = {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for f in of_type(dev, "AWS::Lambda::Function").values()
        if f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"].endswith("-sync")
    }
    assert sync_functions == services
    alarms = _alarms(dev)
    for name, metric in [("failed-syncs", "SyncFailed"), ("invalid-sync-events", "InvalidEvents")]:
        alarm = alarms[f"clubsync-dev-{name}"]
        read = _alarm_metrics(alarm)
        assert {m["MetricName"] for m in read} == {metric}
        assert {m["Dimensions"][0]["Value"] for m in read} == services
        [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
        assert expression.count("FILL(") == len(services)
        assert alarm["Threshold"] == 1


def test_summary_staleness_and_unauthorized_alarms(dev: dict[str, Any]) -> None:
    alarms = _alarms(dev)

    def reads(name: str) -> tuple[str, dict[str, Any]]:
        [metric] = _alarm_metrics(alarms[f"clubsync-dev-{name}"])
        return metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]}

    assert reads("full-sync-partly-failed") == (
        "FullSyncPartlyFailed",
        {"service": "clubsync-full-sync-summary"},
    )
    assert reads("full-sync-failed") == (
        "FullSyncFailed",
        {"service": "clubsync-full-sync-summary"},
    )
    assert reads("stale-locations") == ("StaleLocations", {"service": "clubsync-stale-locations"})
    stale = alarms["clubsync-dev-stale-locations"]
    assert stale["Period"] == 3600 and stale["Statistic"] == "Maximum"
    assert stale["EvaluationPeriods"] == 2 and stale["DatapointsToAlarm"] == 2
    for name, service in [
        ("prospect-intake-unauthorized", "clubsync-prospect-intake"),
        ("clubhub-webhook-unauthorized", "clubsync-clubhub-webhook"),
    ]:
        assert reads(name) == ("UnauthorizedRequests", {"service": service})
        alarm = alarms[f"clubsync-dev-{name}"]
        assert alarm["Threshold"] == 20 and alarm["Period"] == 300
        assert alarm["Statistic"] == "Sum"
    # The services the public URL functions report under are the ones alarmed.
    services = {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for f in of_type(dev, "AWS::Lambda::Function").values()
    }
    assert {"clubsync-prospect-intake", "clubsync-clubhub-webhook"} <= services


def test_the_staleness_check_runs_hourly_and_reads_only_the_state_table(
    dev: dict[str, Any],
) -> None:
    function = _function(dev, "stale-locations")
    granted = _granted(dev, function)
    assert _table_actions(dev, granted, ENTITIES, "dev") == set()
    assert _table_actions(dev, granted, STATE, "dev") == {
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
    }
    assert set(granted) == BASELINE | {
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
    }
    [schedule] = [
        s["Properties"]
        for name, s in of_type(dev, "AWS::Scheduler::Schedule").items()
        if name.startswith("StalenessHourly")
    ]
    assert schedule["ScheduleExpression"] == "cron(25 * * * ? *)"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [_logical_id(dev, function), "Arn"]}


def test_dashboard_shows_the_worst_locations_from_every_sync_log_group(dev: dict[str, Any]) -> None:
    dashboard = next(iter(of_type(dev, "AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Worst locations: failed runs",
        "Worst locations: quarantined records",
        "Latest run per location and type",
        "Stale locations",
        "Duplicate groups per location",
    ):
        assert title in body
    assert "stats latest(status)" in body and "by location_id, sync_type" in body
    # The queries read every sync function's log group.
    sync_groups = {
        function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for function in of_type(dev, "AWS::Lambda::Function").values()
        if function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"].endswith(
            "-sync"
        )
    }
    assert len(sync_groups) == 7
    for group in sync_groups:
        assert group in body
    for metric in ("SyncSucceeded", "SyncFailed", "Created", "Quarantined", "StaleLocations"):
        assert metric in body


# -- prospect push (issue 4) ------------------------------------------------------------------
BASELINE = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
STREAM_READ = {
    "dynamodb:ListStreams",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
}


def _logical_id(template: dict[str, Any], resource: dict[str, Any]) -> str:
    return str(next(k for k, v in template["Resources"].items() if v is resource))


def _ref_of(value: Any) -> str:
    """The logical id a Ref / Fn::GetAtt points to."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _table_actions(
    template: dict[str, Any], granted: dict[str, list[Any]], spec: TableSpec, stage: str
) -> set[str]:
    logical = _logical_id(template, table(template, spec, stage))
    return {
        action
        for action, resources in granted.items()
        if action.startswith("dynamodb:") and {"Fn::GetAtt": [logical, "Arn"]} in resources
    }


def _prospect_mapping(template: dict[str, Any]) -> dict[str, Any]:
    entities = _logical_id(template, table(template, ENTITIES, "dev"))
    mappings = [
        m["Properties"]
        for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [entities, "StreamArn"]}
    ]
    assert len(mappings) == 1
    found: dict[str, Any] = mappings[0]
    return found


def test_prospect_push_follows_prospect_records_on_the_entities_stream(dev: dict[str, Any]) -> None:
    from clubsync.features.prospect_push import DEFAULT_MAX_ATTEMPTS
    from clubsync.features.prospect_stream import PROSPECT_RECORD_FILTER

    mapping = _prospect_mapping(dev)
    push = _function(dev, "prospect-push")
    assert mapping["FunctionName"] == {"Ref": _logical_id(dev, push)}
    # One source of truth: the deployed filter is the library's pattern, nothing else.
    filters = mapping["FilterCriteria"]["Filters"]
    assert [json.loads(f["Pattern"]) for f in filters] == [PROSPECT_RECORD_FILTER]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["ParallelizationFactor"] == 1
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert 3600 <= mapping["MaximumRecordAgeInSeconds"] <= 12 * 3600
    # The handler gives up (DLQ message, shard moves on) before Lambda does.
    variables = push["Properties"]["Environment"]["Variables"]
    max_attempts = int(variables.get("CLUBSYNC_PROSPECT_PUSH_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    assert mapping["MaximumRetryAttempts"] > max_attempts
    dlq = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert dlq == {"Fn::GetAtt": [_ref_of(variables["CLUBSYNC_PROSPECT_PUSH_DLQ_URL"]), "Arn"]}
    queue = dev["Resources"][_ref_of(dlq)]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert {ENTITIES.env_var, STATE.env_var} <= set(variables)


def test_the_filter_lets_through_only_prospect_inserts_and_modifies() -> None:
    from clubsync.features.prospect_stream import PROSPECT_RECORD_FILTER, matches_filter

    def record(event: str, entity: str, kind: str) -> dict[str, Any]:
        image = {"entity": {"S": entity}, "kind": {"S": kind}}
        return {"eventName": event, "dynamodb": {"NewImage": image}}

    assert matches_filter(record("INSERT", "person", "prospect"), PROSPECT_RECORD_FILTER)
    assert matches_filter(record("MODIFY", "person", "prospect"), PROSPECT_RECORD_FILTER)
    assert not matches_filter(record("REMOVE", "person", "prospect"), PROSPECT_RECORD_FILTER)
    assert not matches_filter(record("MODIFY", "person", "member"), PROSPECT_RECORD_FILTER)
    assert not matches_filter(record("INSERT", "agreement", "prospect"), PROSPECT_RECORD_FILTER)


@pytest.mark.parametrize(
    ("service", "entities", "state", "other"),
    [
        (
            "prospect-push",
            {"dynamodb:GetItem", "dynamodb:UpdateItem"},
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
            STREAM_READ
            | {
                "secretsmanager:GetSecretValue",
                "sqs:SendMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            },
        ),
        (
            "prospect-reintegration",
            {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"},
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
            {"secretsmanager:GetSecretValue", "sqs:SendMessage"},
        ),
        (
            "prospect-intake",
            {
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:DeleteItem",
            },
            {"dynamodb:GetItem", "dynamodb:Query"},
            {"secretsmanager:GetSecretValue"},
        ),
    ],
)
def test_prospect_functions_have_exactly_the_rights_their_code_uses(
    service: str, entities: set[str], state: set[str], other: set[str], dev: dict[str, Any]
) -> None:
    granted = _granted(dev, _function(dev, service))
    assert _table_actions(dev, granted, ENTITIES, "dev") == entities
    assert _table_actions(dev, granted, STATE, "dev") == state
    table_actions = entities | state
    assert set(granted) == BASELINE | table_actions | other


def test_prospect_push_and_reintegration_read_billing_secrets_and_send_to_the_dlq(
    dev: dict[str, Any],
) -> None:
    push = _function(dev, "prospect-push")
    queue = _ref_of(
        push["Properties"]["Environment"]["Variables"]["CLUBSYNC_PROSPECT_PUSH_DLQ_URL"]
    )
    for service in ("prospect-push", "prospect-reintegration"):
        function = _function(dev, service)
        granted = _granted(dev, function)
        assert json.dumps(granted["secretsmanager:GetSecretValue"]).endswith(
            ':secret:clubsync/dev/*"]]}]'
        )
        assert granted["sqs:SendMessage"] == [{"Fn::GetAtt": [queue, "Arn"]}]
        variables = function["Properties"]["Environment"]["Variables"]
        assert _ref_of(variables["CLUBSYNC_PROSPECT_PUSH_DLQ_URL"]) == queue
        assert "CLUBSYNC_SANDBOX_CREDENTIALS" not in variables
    reintegration = _function(dev, "prospect-reintegration")["Properties"]
    assert reintegration["Timeout"] == 900
    assert reintegration["Handler"] == "handler.lambda_handler"


def test_prospect_intake_has_a_public_url_checked_against_its_own_secret(
    dev: dict[str, Any],
) -> None:
    intake = _function(dev, "prospect-intake")
    intake_id = _logical_id(dev, intake)
    urls = of_type(dev, "AWS::Lambda::Url")
    assert {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [intake_id, "Arn"]}} in [
        u["Properties"] for u in urls.values()
    ]
    secret_name = intake["Properties"]["Environment"]["Variables"]["CLUBSYNC_INTAKE_SECRET_NAME"]
    secrets = {
        name: secret
        for name, secret in of_type(dev, "AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Name"] == secret_name
    }
    ((secret_id, secret),) = secrets.items()
    assert secret["Properties"]["Name"] == secret_name
    assert "GenerateSecretString" in secret["Properties"]
    # Not under the billing prefix: the push and the sync cannot read it.
    assert not secret_name.startswith("clubsync/")
    granted = _granted(dev, intake)
    assert granted["secretsmanager:GetSecretValue"] == [{"Ref": secret_id}]
    assert intake["Properties"]["ReservedConcurrentExecutions"] >= 1
    assert any(
        name == "ProspectIntakeUrl" and "FunctionUrl" in json.dumps(output)
        for name, output in dev["Outputs"].items()
    )


def test_prospect_alarms_cover_dead_letters_errors_and_stream_lag(dev: dict[str, Any]) -> None:
    alarms = of_type(dev, "AWS::CloudWatch::Alarm").values()
    push_id = _logical_id(dev, _function(dev, "prospect-push"))
    mapping = _prospect_mapping(dev)
    queue_name = {
        "Fn::GetAtt": [
            _ref_of(mapping["DestinationConfig"]["OnFailure"]["Destination"]),
            "QueueName",
        ]
    }

    def alarm_on(metric: str, dimension: Any) -> bool:
        return any(
            a["Properties"].get("MetricName") == metric
            and dimension in [d["Value"] for d in a["Properties"].get("Dimensions", [])]
            and a["Properties"]["AlarmActions"]
            for a in alarms
        )

    assert alarm_on("Errors", {"Ref": push_id})
    assert alarm_on("IteratorAge", {"Ref": push_id})
    assert alarm_on("ApproximateNumberOfMessagesVisible", queue_name)
    dashboard = next(iter(of_type(dev, "AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "prospect push" in body and "IteratorAge" in body


# -- nightly full sync (issue 5) --------------------------------------------------------------
FULL_SYNC_FUNCTIONS = (
    "employees_sync",
    "checkins_sync",
    "events_sync",
    "pos_sync",
    "service_agreements_sync",
    "marketing_sources_sync",
    "full_sync_summary",
)
TYPE_TASKS = {
    "members": "members_sync",
    "employees": "employees_sync",
    "events": "events_sync",
    "checkins": "checkins_sync",
    "pos": "pos_sync",
    "service_agreements": "service_agreements_sync",
    "marketing_sources": "marketing_sources_sync",
}
PARALLEL_TYPES = ["events", "checkins", "pos", "service_agreements", "marketing_sources"]
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
}


def _state_machine(template: dict[str, Any]) -> dict[str, Any]:
    machines = list(of_type(template, "AWS::StepFunctions::StateMachine").values())
    assert len(machines) == 1
    return machines[0]


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    """The state machine's definition, each CloudFormation reference replaced by the logical
    id it points to (a function's Fn::GetAtt becomes its logical id)."""
    parts = _state_machine(template)["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else _ref_of(part) for part in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def _states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, branches included, by name."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_states(branch))
    return found


def _function_directory(template: dict[str, Any], logical_id: str) -> str:
    variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
    return str(variables["POWERTOOLS_SERVICE_NAME"]).removeprefix("clubsync-").replace("-", "_")


def test_the_full_sync_functions_run_their_type_with_the_rights_their_code_uses(
    dev: dict[str, Any],
) -> None:
    sync_actions = {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
    }
    for directory in FULL_SYNC_FUNCTIONS:
        function = _function(dev, directory.replace("_", "-"))
        properties = function["Properties"]
        assert properties["Handler"] == "handler.handler"
        variables = properties["Environment"]["Variables"]
        assert {ENTITIES.env_var, STATE.env_var} <= set(variables), directory
        granted = _granted(dev, function)
        if directory == "full_sync_summary":
            assert _table_actions(dev, granted, ENTITIES, "dev") == set()
            assert _table_actions(dev, granted, STATE, "dev") == {
                "dynamodb:GetItem",
                "dynamodb:PutItem",
            }
            assert set(granted) == BASELINE | {"dynamodb:GetItem", "dynamodb:PutItem"}
            continue
        assert properties["Timeout"] == 900
        assert _table_actions(dev, granted, ENTITIES, "dev") == sync_actions
        assert _table_actions(dev, granted, STATE, "dev") == sync_actions
        secrets = json.dumps(granted["secretsmanager:GetSecretValue"])
        assert secrets.endswith(':secret:clubsync/dev/*"]]}]'), directory
        other = {"secretsmanager:GetSecretValue"}
        if directory == "checkins_sync":
            # Scheduler invokes it asynchronously for partial syncs: failures go to the DLQ,
            # and a paused one continues by invoking this function (itself only).
            assert "DeadLetterConfig" in properties
            other |= {"sqs:SendMessage", "lambda:InvokeFunction"}
            assert granted["lambda:InvokeFunction"] == [
                {"Fn::GetAtt": [_logical_id(dev, function), "Arn"]}
            ]
        assert set(granted) == BASELINE | sync_actions | other, directory


def test_the_full_sync_is_a_logged_traced_standard_state_machine(dev: dict[str, Any]) -> None:
    properties = _state_machine(dev)["Properties"]
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
    log_group = dev["Resources"][_ref_of(group)]["Properties"]
    assert "KmsKeyId" in log_group and "RetentionInDays" in log_group
    assert _definition(dev)["TimeoutSeconds"] > 0


def test_members_and_employees_run_first_then_the_other_types_in_parallel_then_the_summary(
    dev: dict[str, Any],
) -> None:
    definition = _definition(dev)
    states = definition["States"]
    # Follow the main path from the start.
    path, name = [], definition["StartAt"]
    while name:
        path.append(name)
        name = states[name].get("Next") or states[name].get("Default")
    assert path.index("Sync members") < path.index("Sync employees") < path.index("Other types")
    assert path[-1] == "Summary"
    parallel = states["Other types"]
    assert parallel["Type"] == "Parallel"
    branch_tasks = [
        [name for name, state in branch["States"].items() if state["Type"] == "Task"]
        for branch in parallel["Branches"]
    ]
    assert branch_tasks == [
        [f"Sync {sync_type}", f"Continue {sync_type}"] for sync_type in PARALLEL_TYPES
    ]
    summary = states["Summary"]
    assert _function_directory(dev, summary["Parameters"]["FunctionName"]) == "full_sync_summary"
    payload = summary["Parameters"]["Payload"]
    assert payload["location.$"] == "$.location"
    assert payload["scheduled_time.$"] == "$.scheduled_time"
    assert payload["results.$"].startswith(
        "States.Array($.results.members.output, $.results.employees.output"
    )
    for sync_type in PARALLEL_TYPES:
        assert f"$.parallel_results.{sync_type}" in payload["results.$"]
        assert parallel["ResultSelector"][f"{sync_type}.$"].endswith(f".results.{sync_type}.output")


def test_the_state_machine_runs_exactly_the_registered_types_stage_by_stage(
    dev: dict[str, Any],
) -> None:
    """Derived from the sync-type registry: one Task per registered type on its own
    function, a stage of one type on the main path, a stage of several in one Parallel."""
    definition = _definition(dev)
    states = _states(definition)
    tasks = {
        name: state
        for name, state in states.items()
        if state["Type"] == "Task" and name != "Summary"
    }
    assert set(tasks) == {
        f"{step} {spec.name}" for spec in SYNC_TYPES for step in ("Sync", "Continue")
    }
    for spec in SYNC_TYPES:
        for step in ("Sync", "Continue"):
            function = tasks[f"{step} {spec.name}"]["Parameters"]["FunctionName"]
            assert _function_directory(dev, function) == spec.function_dir
    main, name = [], definition["StartAt"]
    while name:
        main.append(name)
        name = definition["States"][name].get("Next") or definition["States"][name].get("Default")
    stages = []
    for name in main:
        state = definition["States"][name]
        if state["Type"] == "Parallel":
            stages.append(
                tuple(
                    SyncType(task.removeprefix("Sync "))
                    for branch in state["Branches"]
                    for task, inner in branch["States"].items()
                    if inner["Type"] == "Task" and task.startswith("Sync ")
                )
            )
        elif name.startswith("Sync "):
            stages.append((SyncType(name.removeprefix("Sync ")),))
    assert tuple(stages) == FULL_SYNC_STAGES


@pytest.mark.parametrize("spec", SYNC_TYPES, ids=lambda spec: spec.name)
def test_each_registered_type_has_its_function_sized_by_the_registry(
    spec: SyncTypeSpec, dev: dict[str, Any]
) -> None:
    properties = _function(dev, spec.function_dir.replace("_", "-"))["Properties"]
    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Timeout"] == spec.timeout_seconds
    # Partial syncs are Scheduler's asynchronous invocations: failures go to the sync DLQ.
    assert ("DeadLetterConfig" in properties) is spec.partial


def test_scheduler_and_registry_function_reach_every_partial_sync_type(
    dev: dict[str, Any],
) -> None:
    """Derived from the registry: the registry function knows each partial type's function
    (members: CLUBSYNC_SYNC_FUNCTION_ARN) and Scheduler may invoke exactly those."""
    variables = _function(dev, "location-registry")["Properties"]["Environment"]["Variables"]
    expected = {
        "CLUBSYNC_SYNC_FUNCTION_ARN"
        if spec.sync_type is SyncType.MEMBERS
        else partial_target_env(spec.sync_type): spec.function_dir
        for spec in SYNC_TYPES
        if spec.partial
    }
    found = {
        name: _function_directory(dev, value["Fn::GetAtt"][0])
        for name, value in variables.items()
        if name.endswith("_SYNC_FUNCTION_ARN")
    }
    assert found == expected
    scheduler_role = next(
        name
        for name, role in of_type(dev, "AWS::IAM::Role").items()
        if name.startswith("Scheduling") and "scheduler.amazonaws.com" in json.dumps(role)
    )
    invoked = {
        _function_directory(dev, _ref_of(resource))
        for policy in of_type(dev, "AWS::IAM::Policy").values()
        if {"Ref": scheduler_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    assert invoked == set(expected.values())


@pytest.mark.parametrize("sync_type", list(TYPE_TASKS))
def test_every_type_task_retries_then_catches_into_a_result(
    sync_type: str, dev: dict[str, Any]
) -> None:
    states = _states(_definition(dev))
    task = states[f"Sync {sync_type}"]
    assert task["Type"] == "Task"
    assert task["Resource"].endswith(":states:::lambda:invoke")
    assert _function_directory(dev, task["Parameters"]["FunctionName"]) == TYPE_TASKS[sync_type]
    # The payload is the execution input plus the type, built by the Task itself (no Pass
    # state before it: one transition fewer per type).
    assert task["Parameters"]["Payload"] == {
        "location.$": "$.location",
        "kind.$": "$.kind",
        "scheduled_time.$": "$.scheduled_time",
        "sync_type": sync_type,
        # The state machine continues a paused run (the Choice loop below), not the function.
        "caller_continues": True,
    }
    assert task["ResultSelector"] == {"output.$": "$.Payload"}
    assert task["ResultPath"] == f"$.results.{sync_type}"
    retries = {tuple(retry["ErrorEquals"]): retry for retry in task["Retry"]}
    assert task["Retry"][0] == {"ErrorEquals": ["InvalidEvent"], "MaxAttempts": 0}
    failures = next(r for errors, r in retries.items() if "States.TaskFailed" in errors)
    assert set(failures["ErrorEquals"]) >= LAMBDA_SERVICE_ERRORS
    assert failures["MaxAttempts"] == 2 and failures["BackoffRate"] == 2
    assert retries[("Lambda.TooManyRequestsException",)]["JitterStrategy"] == "FULL"
    [catch] = task["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    failed = states[catch["Next"]]
    assert failed["Type"] == "Pass"
    assert failed["Parameters"] == {"output": {"sync_type": sync_type, "error.$": "$.caught"}}
    assert failed["ResultPath"] == f"$.results.{sync_type}"
    # The continuation's Task retries and catches the same way.
    again = states[f"Continue {sync_type}"]
    assert again["Retry"] == task["Retry"] and again["Catch"] == task["Catch"]


@pytest.mark.parametrize("sync_type", list(TYPE_TASKS))
def test_a_paused_run_loops_back_into_its_task_with_the_continuation(
    sync_type: str, dev: dict[str, Any]
) -> None:
    states = _states(_definition(dev))
    choice = states[states[f"Sync {sync_type}"]["Next"]]
    assert choice["Type"] == "Choice"
    [paused] = choice["Choices"]
    assert paused == {
        "Variable": f"$.results.{sync_type}.output.continuation",
        "IsPresent": True,
        "Next": f"Continue {sync_type}",
    }
    again = states[f"Continue {sync_type}"]
    assert again["Type"] == "Task"
    assert again["Parameters"]["Payload.$"] == f"$.results.{sync_type}.output.continuation"
    assert again["ResultPath"] == f"$.results.{sync_type}"
    assert states[again["Next"]] is choice
    # A finished run's answer stays where its Task put it: the Choice goes straight on.
    default = choice["Default"]
    if sync_type in PARALLEL_TYPES:
        assert states[default]["Type"] == "Succeed"
    else:
        assert default.startswith(("Sync ", "Other types", "Stage "))


def test_members_end_before_employees_start_and_their_result_is_a_type_result(
    dev: dict[str, Any],
) -> None:
    """A paused member run loops in the state machine (above) instead of invoking itself, so
    employees start only once members have ended; its result is the Task's own output (a
    TypeResult), stored like every type's."""
    states = _states(_definition(dev))
    choice = states[states["Sync members"]["Next"]]
    # Done (or caught) -> employees.
    assert choice["Default"] == "Sync employees"
    assert states[states["Sync members"]["Catch"][0]["Next"]]["Next"] == "Sync employees"
    assert _function_directory(dev, states["Sync members"]["Parameters"]["FunctionName"]) == (
        "members_sync"
    )


def test_the_state_machine_may_invoke_only_the_sync_functions(dev: dict[str, Any]) -> None:
    machine = _state_machine(dev)["Properties"]
    role = machine["RoleArn"]["Fn::GetAtt"][0]
    invoked = set()
    for policy in of_type(dev, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "lambda:InvokeFunction" in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    # The function's ARN, or it followed by ":*" (its versions).
                    target = resource["Fn::Join"][1][0] if "Fn::Join" in resource else resource
                    invoked.add(_function_directory(dev, _ref_of(target)))
    assert invoked == set(TYPE_TASKS.values()) | {"full_sync_summary"}


def test_full_sync_alarms_and_dashboard(dev: dict[str, Any]) -> None:
    machine = _logical_id(dev, _state_machine(dev))
    alarms = {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in of_type(dev, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/States"
    }
    assert set(alarms) == {"ExecutionsFailed", "ExecutionsTimedOut"}
    topic = _logical_id(dev, next(iter(of_type(dev, "AWS::SNS::Topic").values())))
    for alarm in alarms.values():
        assert alarm["Dimensions"][0]["Value"] == {"Ref": machine}
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    dashboard = next(iter(of_type(dev, "AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "Full sync executions" in body and "ExecutionsStarted" in body


# -- duplicates: the Club Hub webhook and the weekly report ------------------------------------
def test_clubhub_webhook_is_a_public_url_checked_against_its_own_secret(
    dev: dict[str, Any],
) -> None:
    webhook = _function(dev, "clubhub-webhook")
    webhook_id = _logical_id(dev, webhook)
    properties = webhook["Properties"]
    assert properties["Handler"] == "handler.lambda_handler"
    # One delivery at a time: concurrent deliveries about one person could miss each other.
    assert properties["ReservedConcurrentExecutions"] == 1
    urls = [u["Properties"] for u in of_type(dev, "AWS::Lambda::Url").values()]
    assert {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [webhook_id, "Arn"]}} in urls
    secret_name = properties["Environment"]["Variables"]["CLUBSYNC_CLUBHUB_SECRET_NAME"]
    ((secret_id, _),) = [
        (name, secret)
        for name, secret in of_type(dev, "AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Name"] == secret_name
    ]
    # Not under the billing prefix, and the only secret the webhook may read.
    assert not secret_name.startswith("clubsync/")
    granted = _granted(dev, webhook)
    assert granted["secretsmanager:GetSecretValue"] == [{"Ref": secret_id}]
    for spec in (ENTITIES, STATE):
        assert "dynamodb:BatchWriteItem" in _table_actions(dev, granted, spec, "dev")


@pytest.mark.parametrize(
    ("service", "concurrency"),
    [("prospect-intake", 10), ("clubhub-webhook", 1), ("mindbody-webhook", 2)],
)
def test_public_urls_count_refusals_in_the_stack_namespace_under_their_service(
    dev: dict[str, Any], prod: dict[str, Any], service: str, concurrency: int
) -> None:
    """UnauthorizedRequests (handlers) is emitted under POWERTOOLS_METRICS_NAMESPACE and the
    `service` dimension from POWERTOOLS_SERVICE_NAME: both set here, never in the code."""
    for template in (dev, prod):
        properties = _function(template, service)["Properties"]
        variables = properties["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ClubSync"
        assert variables["POWERTOOLS_SERVICE_NAME"] == f"clubsync-{service}"
        assert properties["ReservedConcurrentExecutions"] == concurrency
    for handler in ("prospect_intake", "clubhub_webhook", "mindbody_webhook"):
        code = (ROOT / "functions" / handler / "handler.py").read_text()
        assert "Metrics()" in code and "namespace=" not in code


def test_mindbody_webhook_is_a_public_url_with_its_key_and_the_billing_secrets(
    dev: dict[str, Any],
) -> None:
    webhook = _function(dev, "mindbody-webhook")
    webhook_id = _logical_id(dev, webhook)
    properties = webhook["Properties"]
    assert properties["Handler"] == "handler.lambda_handler"
    # Mindbody waits 10 s for an answer.
    assert properties["Timeout"] == 10
    urls = [u["Properties"] for u in of_type(dev, "AWS::Lambda::Url").values()]
    assert {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [webhook_id, "Arn"]}} in urls
    secret_name = properties["Environment"]["Variables"]["CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME"]
    ((secret_id, _),) = [
        (name, secret)
        for name, secret in of_type(dev, "AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Name"] == secret_name
    ]
    # The signature key is outside the billing prefix; the billing secrets are read to fetch
    # the client an event names.
    assert not secret_name.startswith("clubsync/")
    granted = _granted(dev, webhook)["secretsmanager:GetSecretValue"]
    assert {"Ref": secret_id} in granted and len(granted) == 2
    alarms = {a["Properties"]["AlarmName"] for a in of_type(dev, "AWS::CloudWatch::Alarm").values()}
    for name in ("errors", "unauthorized", "deferred"):
        assert f"clubsync-dev-mindbody-webhook-{name}" in alarms


def test_the_webhook_sets_its_signed_timestamp_window(dev: dict[str, Any]) -> None:
    variables = _function(dev, "clubhub-webhook")["Properties"]["Environment"]["Variables"]
    assert variables["CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS"] == "300"


def test_an_operator_raises_the_intake_concurrency_and_the_window_by_context() -> None:
    from aws_cdk import App
    from clubsync_infra.stack import ClubsyncStack

    app = App(
        context={
            "aws:cdk:bundling-stacks": [],
            "intakeConcurrency": 25,
            "clubhubTimestampToleranceSeconds": 600,
        }
    )
    template = Template.from_stack(ClubsyncStack(app, "Raised", stage="dev")).to_json()
    intake = _function(template, "prospect-intake")["Properties"]
    assert intake["ReservedConcurrentExecutions"] == 25
    webhook = _function(template, "clubhub-webhook")["Properties"]["Environment"]["Variables"]
    assert webhook["CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS"] == "600"


def _stack_schedule(template: dict[str, Any], construct_prefix: str) -> dict[str, Any]:
    """The properties of the stack's own schedule whose logical id starts with the prefix."""
    (schedule,) = [
        resource
        for name, resource in of_type(template, "AWS::Scheduler::Schedule").items()
        if name.startswith(construct_prefix)
    ]
    return dict(schedule["Properties"])


def test_weekly_duplicate_report_reads_people_and_stores_reports_only(
    dev: dict[str, Any],
) -> None:
    report = _function(dev, "duplicates-report")
    report_id = _logical_id(dev, report)
    granted = _granted(dev, report)
    assert _table_actions(dev, granted, ENTITIES, "dev") == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
    assert _table_actions(dev, granted, STATE, "dev") == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
    }
    properties = _stack_schedule(dev, "DuplicatesWeeklyReport")
    assert properties["ScheduleExpression"] == "cron(0 6-11 ? * MON *)"
    assert properties["ScheduleExpressionTimezone"] == "Etc/UTC"
    target = properties["Target"]
    assert _ref_of(target["Arn"]) == report_id
    assert json.loads(target["Input"]) == {}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert "DeadLetterConfig" in target
    # The schedule's role invokes the report function (and its versions), nothing else.
    role = _ref_of(target["RoleArn"])
    invoked = [
        resource
        for policy in of_type(dev, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]
    assert invoked and all(report_id in json.dumps(resource) for resource in invoked)


def test_follow_up_due_lists_run_hourly_over_every_location(dev: dict[str, Any]) -> None:
    due = _function(dev, "followups-due")
    due_id = _logical_id(dev, due)
    assert due["Properties"]["Handler"] == "handler.lambda_handler"
    granted = _granted(dev, due)
    # Reads what the syncs stored, writes only follow-up records and the day's list.
    assert _table_actions(dev, granted, ENTITIES, "dev") == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
    }
    assert _table_actions(dev, granted, STATE, "dev") == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
    }
    properties = _stack_schedule(dev, "FollowUpsHourly")
    assert properties["ScheduleExpression"] == "cron(5 * * * ? *)"
    target = properties["Target"]
    assert _ref_of(target["Arn"]) == due_id
    # `{}`: every location whose club-local day has no stored list yet.
    assert json.loads(target["Input"]) == {}
    assert "DeadLetterConfig" in target


# -- the full sync run in a local simulation of Step Functions (tests/infra/asl.py) ------------
NIGHT_INPUT = {
    "location": "springfield",
    "kind": "full",
    "scheduled_time": "2026-11-20T21:00:00-06:00",
}


def _night(
    dev: dict[str, Any], answer: Any
) -> tuple[Execution, dict[str, Any], list[dict[str, Any]]]:
    """Runs the synthesized definition; `answer(type, payload)` is each sync function's
    answer. Returns the execution, its output and the summary function's one payload."""
    definition = _definition(dev)
    summaries: list[dict[str, Any]] = []

    def invoke(function: str, payload: Any) -> Any:
        directory = _function_directory(dev, function)
        if directory == "full_sync_summary":
            summaries.append(payload)
            return {"status": "stored"}
        return answer(directory.removesuffix("_sync"), payload)

    execution = Execution(invoke)
    output = execution.run(definition, NIGHT_INPUT)
    return execution, output, summaries


def _finished(sync_type: str) -> dict[str, Any]:
    return {"sync_type": sync_type, "status": "succeeded", "run_id": f"run-{sync_type}"}


def test_a_night_runs_every_type_once_and_bills_the_counted_transitions(
    dev: dict[str, Any],
) -> None:
    execution, output, [summary] = _night(dev, lambda sync_type, _: _finished(sync_type))

    first_calls = [payload for _, payload in execution.calls if payload.get("sync_type")]
    assert [call["sync_type"] for call in first_calls] == [s.name for s in SYNC_TYPES]
    for call in first_calls:
        assert call == {**NIGHT_INPUT, "sync_type": call["sync_type"], "caller_continues": True}
    assert output == {"status": "stored"}
    assert summary["location"] == "springfield"
    assert summary["scheduled_time"] == NIGHT_INPUT["scheduled_time"]
    results = [result_from_step_output(result) for result in summary["results"]]
    assert [r.sync_type.value for r in results] == [t.value for t in FULL_SYNC_ORDER]
    assert {r.status for r in results} == {"succeeded"}
    # What bench/state_machine.py prints is what an execution enters (issue 15: 37 before).
    assert execution.transitions == night_transitions(_definition(dev)) == 21


def test_a_paused_run_continues_in_the_state_machine_until_it_ends(dev: dict[str, Any]) -> None:
    pauses = {"members": 2, "checkins": 1}

    def answer(sync_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        if pauses.get(sync_type, 0) > 0:
            pauses[sync_type] -= 1
            return {"continuation": {**payload, "resume_run_id": f"run-{sync_type}"}}
        return _finished(sync_type)

    execution, _, [summary] = _night(dev, answer)

    members = [payload for _, payload in execution.calls if payload.get("sync_type") == "members"]
    assert len(members) == 3
    assert members[1] == {**members[0], "resume_run_id": "run-members"} == members[2]
    # Employees start only once members have ended.
    order = [payload.get("sync_type") for _, payload in execution.calls]
    assert order.index("employees") > max(i for i, t in enumerate(order) if t == "members")
    results = {r.sync_type.value: r for r in map(result_from_step_output, summary["results"])}
    assert results["members"].status == results["checkins"].status == "succeeded"
    definition = _definition(dev)
    assert execution.transitions == night_transitions(
        definition, {"members paused?": 2, "checkins paused?": 1}
    )
    assert execution.transitions == 21 + 3 * continuation_transitions(definition, "pos paused?")


def test_a_type_failing_past_its_retries_is_a_failed_result_and_the_others_go_on(
    dev: dict[str, Any],
) -> None:
    def answer(sync_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        if sync_type == "pos":
            raise TaskError("SyncFailed", "billing answered 500")
        if sync_type == "employees":
            raise TaskError("InvalidEvent", "no source")
        return _finished(sync_type)

    execution, _, [summary] = _night(dev, answer)

    results = {r.sync_type.value: r for r in map(result_from_step_output, summary["results"])}
    assert results["pos"].status == results["employees"].status == "failed"
    assert results["pos"].message == "SyncFailed: billing answered 500"
    assert results["employees"].message == "InvalidEvent: no source"
    assert {results[t].status for t in ("members", "events", "checkins")} == {"succeeded"}
    calls = [payload.get("sync_type") for _, payload in execution.calls]
    # SyncFailed: the first run and its two retries; InvalidEvent: never retried.
    assert calls.count("pos") == 1 + RETRY_ATTEMPTS
    assert calls.count("employees") == 1


def test_the_registry_function_spreads_full_syncs_over_the_flexible_window(
    dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    """The 21:00 burst: the registry function creates every full-sync schedule with this
    window (clubsync.features.scheduling), the stack's fullSyncWindowMinutes context, default
    FULL_SYNC_WINDOW_MINUTES."""
    for template in (dev, prod):
        variables = _function(template, "location-registry")["Properties"]["Environment"][
            "Variables"
        ]
        assert variables[FULL_SYNC_WINDOW_ENV] == str(FULL_SYNC_WINDOW_MINUTES) == "15"


def test_a_bad_flexible_window_fails_the_synth_in_one_line() -> None:
    infra_app = _load("clubsync_cdk_app_window", ROOT / "infra" / "app.py")
    with pytest.raises(ValueError) as raised:
        infra_app.build_app(
            {"aws:cdk:bundling-stacks": [], "fullSyncWindowMinutes": "2h"}, stages=("dev",)
        )
    assert FULL_SYNC_WINDOW_ENV in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("spec", SYNC_TYPES, ids=lambda spec: spec.name)
def test_each_sync_function_paces_its_writes_by_the_registry(
    spec: SyncTypeSpec, dev: dict[str, Any]
) -> None:
    variables = _function(dev, spec.function_dir.replace("_", "-"))["Properties"]["Environment"][
        "Variables"
    ]
    pace = write_units_per_second(spec.sync_type, PARTITION_WRITE_UNITS_PER_SECOND)
    assert float(variables[WRITE_PACE_ENV]) == pace
    # The function reads it as it is written (table names are CloudFormation references here).
    environment = {**variables, ENTITIES.env_var: "entities", STATE.env_var: "state"}
    assert SyncEnvironment.model_validate(environment).write_units_per_second == pace


# -- delivered files (issue 14) ----------------------------------------------------------------
def test_the_feed_bucket_is_private_encrypted_and_tells_eventbridge(dev: dict[str, Any]) -> None:
    buckets = of_type(dev, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the deliveries and their access logs
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        encryption = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [deliveries] = [b for b in buckets.values() if "NotificationConfiguration" in b["Properties"]]
    assert deliveries["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert "LoggingConfiguration" in deliveries["Properties"]


def test_a_delivery_under_incoming_starts_the_feed_import(dev: dict[str, Any]) -> None:
    [rule] = [
        r
        for r in of_type(dev, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"] == {"key": [{"prefix": "incoming/"}]}
    [target] = rule["Properties"]["Targets"]
    assert "FeedsImport" in json.dumps(target["Arn"])
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 4


def test_reserved_concurrency_is_checked_against_the_stated_account_quota() -> None:
    infra_app = _load("clubsync_cdk_app_quota", ROOT / "infra" / "app.py")
    with pytest.raises(ValueError) as raised:
        infra_app.build_app(
            {"aws:cdk:bundling-stacks": [], "accountConcurrency": "10"}, stages=("dev",)
        )
    message = str(raised.value)
    assert "reserveConcurrency=false" in message and "\n" not in message
    needed = int(re.search(r"at least (\d+)", message).group(1))  # type: ignore[union-attr]
    # The quota the message names is enough.
    infra_app.build_app(
        {"aws:cdk:bundling-stacks": [], "accountConcurrency": str(needed)}, stages=("dev",)
    )


def test_a_small_account_deploys_without_reservations(tmp_path: Path) -> None:
    infra_app = _load("clubsync_cdk_app_unreserved", ROOT / "infra" / "app.py")
    app = infra_app.build_app(
        {"aws:cdk:bundling-stacks": [], "reserveConcurrency": "false", "accountConcurrency": "10"},
        outdir=str(tmp_path),
        stages=("dev",),
    )
    app.synth()
    template = json.loads((tmp_path / "Clubsync-dev.template.json").read_text())
    functions = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert functions and all("ReservedConcurrentExecutions" not in f for f in functions)


def test_each_stage_reads_only_its_own_billing_secrets(
    dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    for template, stage in ((dev, "dev"), (prod, "prod")):
        granted = _granted(template, _function(template, "members-sync"))
        secrets = json.dumps(granted["secretsmanager:GetSecretValue"])
        assert secrets.endswith(f':secret:clubsync/{stage}/*"]]}}]'), stage
        assert template["Outputs"]["SecretPrefix"]["Value"] == f"clubsync/{stage}/"


def test_every_output_the_cli_reads_from_a_stack_is_declared(dev: dict[str, Any]) -> None:
    from clubsync.cli.stack import OUTPUT_VARIABLES

    missing = sorted(set(OUTPUT_VARIABLES) - set(dev["Outputs"]))
    assert missing == [], f"clubsync.cli.stack reads outputs the stack lacks: {missing}"
