"""A pool worker's side of the task-token protocol: is this token still the current one, and answers.

Step Functions accepts an answer (or a heartbeat) only for the token of the attempt that is waiting
now. A token whose attempt timed out (a retry is under way, with a new message and a new token) or
whose execution ended is answered with ``TaskTimedOut`` / ``TaskDoesNotExist`` / ``InvalidToken``:
`is_current` turns those into False, which is how a worker recognises a redelivered stale message and
skips it without writing, so a retried execution and an old message never both write the outputs.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pipeline.contracts import JobResult
from pipeline.exact_upload import error_code

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


log = logging.getLogger("gpu_job.pool")

STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
MAX_ERROR_CHARS = 256  # SendTaskFailure limits
MAX_CAUSE_CHARS = 32768


class TaskAnswers:
    def __init__(self, sfn: SFNClient) -> None:
        self._sfn = sfn

    def is_current(self, token: str) -> bool:
        """A heartbeat doubles as the check: it succeeds only for the attempt that is waiting now."""
        try:
            self._sfn.send_task_heartbeat(taskToken=token)
            return True
        except ClientError as exc:
            if error_code(exc) in STALE_TOKEN_ERRORS:
                return False
            raise

    def succeed(self, token: str, result: JobResult) -> bool:
        """False when the token went stale after the last check (the answer is dropped by Step Functions)."""
        return self._answer(
            self._sfn.send_task_success,
            taskToken=token,
            output=json.dumps(result.model_dump(mode="json", exclude_none=True)),
        )

    def fail(self, token: str, error: str, document: dict[str, Any]) -> bool:
        cause = json.dumps(document, ensure_ascii=False)[:MAX_CAUSE_CHARS]
        return self._answer(
            self._sfn.send_task_failure, taskToken=token, error=error[:MAX_ERROR_CHARS], cause=cause
        )

    @staticmethod
    def _answer(call: Any, **kwargs: Any) -> bool:
        try:
            call(**kwargs)
            return True
        except ClientError as exc:
            if error_code(exc) in STALE_TOKEN_ERRORS:
                log.warning("answer dropped: the token is no longer current (%s)", error_code(exc))
                return False
            raise
