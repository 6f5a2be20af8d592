"""The synthesized CloudFormation templates: resources, IAM, tables from the one definition,
cdk-nag (AwsSolutions + Serverless) and cfn-lint. The app is synthesized once for the module,
without bundling (no pip, no layer build), with a dev and a prod stack."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clubsync.store.tables import ALL_TABLES, ENTITIES, STATE, TableSpec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

from aws_cdk.assertions import Match, Template  # noqa: E402

Resources = dict[str, dict[str, Any]]
# Actions whose AWS API has no resource-level permission: "*" is the only possible resource.
RESOURCE_STAR_ALLOWED = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
}


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
        app = infra_app.build_app(
            {"aws:cdk:bundling-stacks": []}, outdir=str(outdir), stages=("dev", "prod")
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
    assert rules - specific == ACKNOWLEDGED
    assert len(specific) == 2
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
    assert len(functions) == 2
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["Handler"] == "handler.handler"
        assert len(properties["Layers"]) == 2
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "ClubSync"
    for layer in of_type(dev, "AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


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
    secret_statements = [
        s for s in statements(dev) if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
    ]
    assert len(secret_statements) == 1
    assert json.dumps(secret_statements[0]["Resource"]).endswith(':secret:clubsync/*"]]}')


# -- scheduling -------------------------------------------------------------------------------
def test_schedules_are_data_not_stack_resources(dev: dict[str, Any]) -> None:
    assert of_type(dev, "AWS::Scheduler::Schedule") == {}
    groups = of_type(dev, "AWS::Scheduler::ScheduleGroup")
    assert [g["Properties"]["Name"] for g in groups.values()] == ["clubsync-dev"]


def test_scheduler_role_can_only_invoke_the_sync_function_and_use_its_dlq(
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
    ]
    assert len(roles) == 1
    policies = [
        p
        for p in of_type(dev, "AWS::IAM::Policy").values()
        if {"Ref": roles[0]} in p["Properties"]["Roles"]
    ]
    granted = {
        action
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for action in _as_list(s["Action"])
    }
    assert granted == {"lambda:InvokeFunction", "sqs:SendMessage"}


def test_registry_function_follows_registry_items_on_the_state_stream(dev: dict[str, Any]) -> None:
    mappings = of_type(dev, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 1
    properties = next(iter(mappings.values()))["Properties"]
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


def test_queues_and_topic_are_encrypted_and_tls_only(dev: dict[str, Any]) -> None:
    queues = of_type(dev, "AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for policy in of_type(dev, "AWS::SQS::QueuePolicy").values():
        assert "aws:SecureTransport" in json.dumps(policy)
    topic = next(iter(of_type(dev, "AWS::SNS::Topic").values()))
    assert "KmsMasterKeyId" in topic["Properties"]
    for key in of_type(dev, "AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


# -- observability ----------------------------------------------------------------------------
def test_alarms_cover_failed_syncs_dead_letters_throttles_and_notify(dev: dict[str, Any]) -> None:
    alarms = of_type(dev, "AWS::CloudWatch::Alarm").values()
    metrics = {alarm["Properties"]["MetricName"] for alarm in alarms}
    assert {
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
        "FailedSyncs",
        "InvalidEvents",
    } <= metrics
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"], alarm
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_dashboard_shows_per_location_results(dev: dict[str, Any]) -> None:
    dashboard = next(iter(of_type(dev, "AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("SyncSucceeded", "SyncFailed", "Created", "Quarantined"):
        assert f'MetricName=\\\\\\"{metric}\\\\\\"' in body or metric in body
    assert "SEARCH(" in body and "location" in body
    assert "stats latest(status)" in body
