"""UploadQueue's consumer: an SQS batch of upload events in, the partial batch response out.

Logic in ``start_execution.starter``; this handler parses the batch (Powertools' SQS model), logs and
counts each record's outcome, and returns ``batchItemFailures`` (ReportBatchItemFailures) so that
only the records that could not be started go back to the queue.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from lambda_runtime.clients import stepfunctions_client
from lambda_runtime.observability import logger, metrics, tracer
from pipeline.settings import Settings

from start_execution.starter import RecordOutcome, SqsRecord, batch_response, start_executions

METRIC_BY_OUTCOME = {
    "started": "ExecutionStarted",
    "duplicate": "DuplicateDeliveryRefused",
    "ignored": "UploadIgnored",
    "invalid": "InvalidUploadEvent",
    "retry": "ExecutionStartRetried",
}


def _log(outcome: RecordOutcome) -> None:
    # "name" is a LogRecord attribute: the execution's name is logged as execution_name.
    fields = {("execution_name" if k == "name" else k): v for k, v in vars(outcome).items() if v is not None}
    if outcome.outcome == "retry":
        logger.warning("execution not started; the record returns to the queue", extra=fields)
    elif outcome.outcome == "invalid":
        logger.warning("not an S3 Object Created event; started under a fallback name", extra=fields)
    elif outcome.outcome == "duplicate":
        logger.info("duplicate delivery refused by name", extra=fields)
    else:
        logger.info(f"upload {outcome.outcome}", extra=fields)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=SqsModel)
def handler(event: SqsModel, context: LambdaContext) -> dict[str, Any]:
    records = [SqsRecord(message_id=r.messageId, body=str(r.body)) for r in event.Records]
    outcomes = start_executions(
        stepfunctions_client(),
        os.environ["STATE_MACHINE_ARN"],
        records,
        Settings.from_env().ignored_suffixes(),
    )
    for outcome in outcomes:
        _log(outcome)
    for kind, metric in METRIC_BY_OUTCOME.items():
        count = sum(1 for o in outcomes if o.outcome == kind)
        if count:
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=count)
    return batch_response(outcomes)
