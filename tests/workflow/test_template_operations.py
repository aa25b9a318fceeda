"""Specification of template.yaml's "operations" section: the dashboard, the alarms and their topic.

None of it can run locally (moto has no dashboards and evaluates no metric math), so these tests read
the template: the dashboard body is rendered with the local template resolver (``Fn::ToJsonString``
and ``Fn::Sub`` applied against placeholder physical names) and parsed, every custom metric the
dashboard or an alarm reads is matched against the metrics ``functions/`` emits (read from the code,
so renaming a metric on one side fails here), and every dead-letter queue has its alarm.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest
from pipeline.outcomes import ReasonClass

from local_emulator.template import ACCOUNT_ID, REGION, REPO_ROOT, Resolver, load_template, read_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
GLOBAL_ENV = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
NAMESPACE = GLOBAL_ENV["POWERTOOLS_METRICS_NAMESPACE"]
SERVICE = GLOBAL_ENV["POWERTOOLS_SERVICE_NAME"]
STACK = "stack"
ALARMS = sorted(lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm")
# The values record_failure.app.outcome_class gives the ReasonClass dimension.
REASON_CLASS_VALUES = {*get_args(ReasonClass), "superseded"}


# ---------------------------------------------------------------- helpers
def physical_names() -> dict[str, dict[str, str]]:
    """What CloudFormation would report for each resource, in the shapes the section reads."""
    physical: dict[str, dict[str, str]] = {}
    for lid, resource in RESOURCES.items():
        name = f"{STACK}-{lid}"
        service = resource["Type"].split("::")[1].lower()
        arn = f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}"
        ref = {
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}",
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}",
            "AWS::CloudWatch::Dashboard": f"{STACK}-operations",
        }.get(resource["Type"], name)
        physical[lid] = {"Ref": ref, "Arn": ref if ref.startswith("arn:") else arn, "QueueName": name}
    return physical


def resolver(**parameters: str) -> Resolver:
    return Resolver(read_template(), STACK, parameters, physical=physical_names())


def dashboard_body() -> dict[str, Any]:
    props = resolver().resolve(RESOURCES["OperationsDashboard"]["Properties"])
    body = props["DashboardBody"]
    assert isinstance(body, str), "DashboardBody must be a string once Fn::ToJsonString is applied"
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def metric_rows(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(namespace, metric, dimensions, options) of each metric row of a widget (expressions left out)."""
    rows = []
    for row in widget["properties"].get("metrics", []):
        options = row[-1] if isinstance(row[-1], dict) else {}
        fields = row[:-1] if isinstance(row[-1], dict) else row
        if not fields:  # an expression row: [{expression, id, label}]
            continue
        namespace, metric, *pairs = fields
        assert len(pairs) % 2 == 0, row
        rows.append((namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True)), options))
    return rows


def expressions(widget: dict[str, Any]) -> list[dict[str, Any]]:
    rows = widget["properties"].get("metrics", [])
    return [row[0] for row in rows if len(row) == 1 and isinstance(row[0], dict)]


def metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    return next(w for w in metric_widgets(body) if w["properties"]["title"] == title)


def alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of everything an alarm reads, dimension values as written."""
    props = alarm["Properties"]
    if "MetricName" in props:
        stats = [
            {
                "Namespace": props["Namespace"],
                "MetricName": props["MetricName"],
                "Dimensions": props.get("Dimensions", []),
            }
        ]
    else:
        stats = [q["MetricStat"]["Metric"] for q in props["Metrics"] if "MetricStat" in q]
    return [
        (m["Namespace"], m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
        for m in stats
    ]


def emitted_metrics() -> dict[str, set[frozenset[str]]]:
    """Metric name -> the dimension-name sets it is published with, read from functions/ by AST.

    ``metrics.add_metric(name="X")`` publishes X with the service dimension only;
    ``add_dimensioned_metric("X", unit, value, Dim=...)`` with service plus its keyword dimensions.
    Names built at run time (f-strings, variables) are not matched: the dashboard cannot read them.
    """
    found: dict[str, set[frozenset[str]]] = {}
    for path in sorted((REPO_ROOT / "functions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if callee == "add_metric":
                name_node, dimensions = keywords.get("name"), {"service"}
            elif callee == "add_dimensioned_metric":
                name_node = node.args[0] if node.args else keywords.get("name")
                dimensions = {"service", *(k for k in keywords if k not in {"name", "unit", "value"})}
            else:
                continue
            if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
                found.setdefault(name_node.value, set()).add(frozenset(dimensions))
    return found


def custom_metrics_read() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (where, metric, dimensions) of the custom namespace the dashboard and the alarms read."""
    read = [
        (f"dashboard: {w['properties']['title']}", metric, dims)
        for w in metric_widgets(dashboard_body())
        for ns, metric, dims, _ in metric_rows(w)
        if ns == NAMESPACE
    ]
    read += [
        (lid, metric, dims)
        for lid in ALARMS
        for ns, metric, dims in alarm_metrics(RESOURCES[lid])
        if ns == NAMESPACE
    ]
    return read


DLQ_KEYS = {"deadLetterTargetArn", "DeadLetterConfig", "DeadLetterQueue"}


def dead_letter_queues() -> set[str]:
    """Logical ids of every queue the template uses as a dead-letter queue (redrive or DLQ config)."""
    found: set[str] = set()

    def walk(node: Any, under_dlq: bool) -> None:
        if isinstance(node, dict):
            if under_dlq and set(node) == {"Fn::GetAtt"}:
                target = node["Fn::GetAtt"]
                found.add(target[0] if isinstance(target, list) else target.split(".")[0])
            for key, value in node.items():
                walk(value, under_dlq or key in DLQ_KEYS)
        elif isinstance(node, list):
            for item in node:
                walk(item, under_dlq)

    walk(RESOURCES, False)
    return {lid for lid in found if RESOURCES[lid]["Type"] == "AWS::SQS::Queue"}


# ---------------------------------------------------------------- the dashboard
def test_the_dashboard_body_is_json_once_rendered_and_every_metric_row_is_well_formed() -> None:
    body = dashboard_body()
    assert body["widgets"]
    queue_names = {f"{STACK}-{lid}" for lid, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
    machine_arn = physical_names()["TranscribeStateMachine"]["Ref"]
    for w in metric_widgets(body):
        assert w["properties"]["region"] == REGION, w["properties"]["title"]
        ids = {opts["id"] for *_, opts in metric_rows(w) if "id" in opts}
        for expression in expressions(w):
            # Every name an expression uses is a metric id of the same widget
            used = set(re.findall(r"\b[a-z][a-z0-9_]*\b", expression["expression"]))
            assert used <= ids, (w["properties"]["title"], used - ids)
        for namespace, metric, dims, _ in metric_rows(w):
            if namespace == "AWS/States":
                assert dims == {"StateMachineArn": machine_arn}, metric
            elif namespace == "AWS/SQS":
                assert set(dims) == {"QueueName"} and dims["QueueName"] in queue_names, metric
            else:
                assert namespace == NAMESPACE, (namespace, metric)
                assert dims.get("service") == SERVICE, metric
    # Widgets sit on CloudWatch's 24-column grid
    assert all(w["x"] + w["width"] <= 24 for w in body["widgets"])


def test_the_dashboard_shows_what_operators_need() -> None:
    body = dashboard_body()
    read = {
        (ns, metric, tuple(sorted(dims.items())))
        for w in metric_widgets(body)
        for ns, metric, dims, _ in metric_rows(w)
    }
    names = {(ns, metric) for ns, metric, _ in read}
    # Executions started / succeeded / failed
    executions = ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")
    assert {("AWS/States", m) for m in executions} <= names
    # Failed by reason class: every class the code gives the dimension
    classes = {dict(dims)["ReasonClass"] for ns, metric, dims in read if metric == "FailuresRecorded"}
    assert classes == REASON_CLASS_VALUES
    # Audio hours (seconds / 3600), GPU seconds, cost
    hours = widget(body, "Audio hours transcribed")
    assert [e["expression"] for e in expressions(hours)] == ["audio / 3600"]
    assert [(m, o["id"]) for _, m, _, o in metric_rows(hours)] == [("AudioSecondsTranscribed", "audio")]
    assert {(NAMESPACE, m) for m in ("GpuSecondsUsed", "EstimatedCostUSD", "PoolActiveWorkers")} <= names
    # Pool queue depth: waiting and in flight
    pool_queue = f"{STACK}-PoolQueue"
    depth = {(m, d["QueueName"]) for _, m, d, _ in metric_rows(widget(body, "Pool queue depth"))}
    assert depth == {
        ("ApproximateNumberOfMessagesVisible", pool_queue),
        ("ApproximateNumberOfMessagesNotVisible", pool_queue),
    }
    # DLQ depth: every dead-letter queue of the template
    dlq_rows = metric_rows(widget(body, "Dead-letter queue depth"))
    assert {d["QueueName"] for _, _, d, _ in dlq_rows} == {f"{STACK}-{lid}" for lid in dead_letter_queues()}
    # The alarm widget shows every alarm
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    expected = sorted(physical_names()[lid]["Arn"] for lid in ALARMS)
    assert sorted(alarm_widget["properties"]["alarms"]) == expected


def test_every_custom_metric_the_dashboard_and_alarms_read_is_emitted_by_the_functions() -> None:
    emitted = emitted_metrics()
    read = custom_metrics_read()
    assert read
    for where, metric, dims in read:
        # The same name, published with exactly these dimension names (CloudWatch matches all of them)
        assert metric in emitted, f"{where} reads {metric}, which no function emits"
        assert frozenset(dims) in emitted[metric], (where, metric, sorted(dims), emitted[metric])
        assert dims["service"] == SERVICE, (where, metric)
        if "ReasonClass" in dims:
            assert dims["ReasonClass"] in REASON_CLASS_VALUES, (where, dims)


def test_the_metric_scan_sees_the_known_emissions() -> None:
    # Guards the AST scan itself: these exist today, with these dimensions
    emitted = emitted_metrics()
    assert emitted["AudioSecondsTranscribed"] == {frozenset({"service"})}
    assert emitted["FailuresRecorded"] == {frozenset({"service", "ReasonClass"})}
    assert "PoolActiveWorkers" in emitted and "GpuSecondsUsed" in emitted


# ---------------------------------------------------------------- the alarms
def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears() -> None:
    assert len(ALARMS) >= 4
    for lid in ALARMS:
        props = RESOURCES[lid]["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], lid
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], lid
        assert props["TreatMissingData"] == "notBreaching", lid
        assert props["AlarmDescription"], lid


def test_every_dead_letter_queue_has_a_depth_alarm() -> None:
    dlqs = dead_letter_queues()
    assert {"UploadEventDeadLetterQueue", "PoolDeadLetterQueue"} <= dlqs
    alarmed = set()
    for lid in ALARMS:
        props = RESOURCES[lid]["Properties"]
        for ns, metric, dims in alarm_metrics(RESOURCES[lid]):
            if (ns, metric) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
                assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold"), lid
                assert props["Statistic"] == "Maximum", lid
                alarmed.add(dims["QueueName"]["Fn::GetAtt"][0])
    assert alarmed == dlqs


def test_the_failure_rate_alarm_divides_failed_by_started_executions_of_the_state_machine() -> None:
    props = RESOURCES["FailureRateAlarm"]["Properties"]
    queries = {q["Id"]: q for q in props["Metrics"]}
    machine = [{"Name": "StateMachineArn", "Value": {"Ref": "TranscribeStateMachine"}}]
    for query_id, metric in [
        ("failed", "ExecutionsFailed"),
        ("started", "ExecutionsStarted"),
        ("timedout", "ExecutionsTimedOut"),
    ]:
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"] == {"Namespace": "AWS/States", "MetricName": metric, "Dimensions": machine}
        assert (stat["Stat"], queries[query_id]["ReturnData"]) == ("Sum", False)
    # Exactly one series is returned: the rate, in percent, compared with the threshold parameter
    returned = [q for q in props["Metrics"] if q["ReturnData"]]
    assert [q["Id"] for q in returned] == ["rate"]
    rendered = resolver().resolve(returned[0]["Expression"])
    assert rendered == "IF(FILL(started, 0) >= 5, 100 * IF(failures < 0, 0, failures) / started, 0)"
    assert "FILL(failed, 0)" in queries["failures"]["Expression"]
    assert "superseded" not in queries["failures"]["Expression"]
    assert props["Threshold"] == {"Ref": "FailureRateAlarmThresholdPercent"}
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert TEMPLATE["Parameters"]["FailureRateAlarmThresholdPercent"]["Default"] == 10


def state_machine_definition() -> dict[str, Any]:
    uri = RESOURCES["TranscribeStateMachine"]["Properties"]["DefinitionUri"]
    definition: dict[str, Any] = json.loads((REPO_ROOT / uri).read_text())
    return definition


def test_after_record_failure_only_superseded_uploads_succeed_so_the_alarm_counts_real_failures() -> None:
    # The failure-rate alarm divides AWS/States ExecutionsFailed by started executions: right only while
    # every failure recorded by RecordFailure ends Failed and only a superseded upload, or a cold one
    # (ARCHIVED, RESTORING: docs/ARCHIVES.md), ends in Succeed.
    states = state_machine_definition()["States"]
    terminal: set[str] = set()
    todo, seen = ["RecordFailure"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        nexts = [state.get("Next"), state.get("Default"), *(c.get("Next") for c in state.get("Choices", []))]
        nexts += [c["Next"] for c in state.get("Catch", [])]
        if state["Type"] in {"Fail", "Succeed"} or state.get("End"):
            terminal.add(f"{name}:{state['Type']}")
        todo += [n for n in nexts if n]
    assert terminal == {"Failed:Fail", "Superseded:Succeed", "Archived:Succeed", "Restoring:Succeed"}


def test_the_internal_failures_alarm_counts_internal_failures_per_hour() -> None:
    props = RESOURCES["InternalFailuresAlarm"]["Properties"]
    [(namespace, metric, dims)] = alarm_metrics(RESOURCES["InternalFailuresAlarm"])
    assert (namespace, metric) == (NAMESPACE, "FailuresRecorded")
    assert dims == {"service": SERVICE, "ReasonClass": "internal"}
    assert (props["Statistic"], props["Period"]) == ("Sum", 3600)
    assert props["Threshold"] == {"Ref": "InternalFailuresAlarmThreshold"}


# ---------------------------------------------------------------- topic, subscription, outputs
def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    topic = RESOURCES["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = RESOURCES["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    [statement] = [
        s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_the_email_subscription_exists_only_when_an_address_is_given(email: str, subscribed: bool) -> None:
    subscriptions = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::SNS::Subscription"}
    assert list(subscriptions) == ["AlarmEmailSubscription"]
    assert subscriptions["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    stack = resolver(AlarmEmail=email)
    present = stack.resources()
    assert ("AlarmEmailSubscription" in present) is subscribed
    if subscribed:
        props = stack.resolve(present["AlarmEmailSubscription"]["Properties"])
        topic = physical_names()["AlarmTopic"]["Ref"]
        assert props == {"TopicArn": topic, "Protocol": "email", "Endpoint": email}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""


def test_the_alarm_email_parameter_accepts_an_address_or_nothing() -> None:
    pattern = re.compile(TEMPLATE["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops+alarms@example.co.uk")
    assert not pattern.fullmatch("not an address") and not pattern.fullmatch("a@b")


def test_the_outputs_name_the_dashboard_url_and_the_topic() -> None:
    stack = resolver()
    outputs = {name: stack.resolve(TEMPLATE["Outputs"][name]) for name in ("DashboardUrl", "AlarmTopicArn")}
    assert outputs["DashboardUrl"]["Value"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        f"#dashboards/dashboard/{STACK}-operations"
    )
    assert outputs["AlarmTopicArn"]["Value"] == physical_names()["AlarmTopic"]["Ref"]


def test_the_operations_section_sits_before_the_outputs() -> None:
    text = Path(REPO_ROOT / "template.yaml").read_text()
    header = text.index("# ---------------------------------------------------------------- operations")
    assert header < text.index("\nOutputs:\n")
    section = [
        "AlarmTopicKey",
        "AlarmTopic",
        "AlarmEmailSubscription",
        "FailureRateAlarm",
        "InternalFailuresAlarm",
        "UploadDeadLettersAlarm",
        "PoolDeadLettersAlarm",
        "OperationsDashboard",
    ]
    assert all(header < text.index(f"\n  {lid}:\n") < text.index("\nOutputs:\n") for lid in section)
