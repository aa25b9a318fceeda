"""The production default: every accepted length is transcribed by the batched engine."""

from __future__ import annotations

from pathlib import Path

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, local_stack
from tests.workflow.test_per_file_workflow import HAPPY_PATH, catalog_row, job_request


def test_with_the_template_defaults_an_upload_is_batched_on_the_smallest_gpu(clips: dict[str, Path]) -> None:
    # Given a stack with the template's default thresholds (BatchedMaxSeconds = MaxDurationSeconds)
    with local_stack(model=str(RANDOM_MODEL)) as stack:
        # When a clip longer than the other modes' test thresholds is uploaded
        event, report = runner.upload_and_run(stack.deployment, str(clips["long"]), "talks/long.mp3")
        # Then the plan and the job run the batched engine on the small class
        assert report.status == "SUCCEEDED", report.cause
        assert report.states == HAPPY_PATH
        assert report.output is not None
        assert (report.output["plan"]["mode"], report.output["plan"]["size_class"]) == ("batched", "small")
        [job] = stack.bridge.batch_jobs
        assert job_request(job.command).mode == "batched"
        # And the row records it
        row = catalog_row(stack, event)
        assert row is not None and row["mode"] == "batched"
