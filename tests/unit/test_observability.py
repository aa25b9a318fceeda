"""The shared Powertools metrics: what one invocation records ends with it, published or not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from lambda_runtime.observability import metrics


@metrics.log_metrics
def handler(event: dict[str, Any], context: object) -> None:
    metrics.add_dimension(name="caller", value=event["caller"])
    metrics.add_metric(name="Handled", unit=MetricUnit.Count, value=event["value"])


def test_metrics_of_an_invocation_with_metrics_disabled_do_not_reach_a_later_published_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given invocations that ran while metrics were disabled (the local emulator, other tests)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ObservabilityTest")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    handler({"caller": "earlier", "value": 7}, None)
    handler({"caller": "earlier", "value": 8}, None)
    assert capsys.readouterr().out == ""

    # When a later invocation publishes its metrics
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler({"caller": "now", "value": 1}, None)

    # Then its EMF document carries only its own value and dimension
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert emf["Handled"] == [1.0] and emf["caller"] == "now"
