"""The production default: every accepted length is transcribed by the batched engine."""

from __future__ import annotations

from pathlib import Path

from local_emulator import runner
from local_emulator.stack import RANDOM_MODEL, local_stack
from tests.workflow.test_per_file_workflow import catalog_row

POOL_PATH = [
    "Claim",
    "IsClaimed",
    "Probe",
    "Plan",
    "ChoosePath",
    "ScalePool",
    "TranscribeInPool",
    "Postprocess",
    "Index",
]


def test_with_the_template_defaults_an_upload_is_batched_on_the_smallest_gpu(clips: dict[str, Path]) -> None:
    # Given a stack with the template's default thresholds (BatchedMaxSeconds = MaxDurationSeconds)
    with local_stack(model=str(RANDOM_MODEL)) as stack:
        # When a short clip is uploaded
        event, report = runner.upload_and_run(stack.deployment, str(clips["long"]), "talks/long.mp3")
        # Then it is planned batched on the small class and, being short, served by a warm pool worker
        assert report.status == "SUCCEEDED", report.cause
        assert report.states == POOL_PATH
        assert report.output is not None
        plan = report.output["plan"]
        assert (plan["mode"], plan["size_class"], plan["path"]) == ("batched", "small", "pool")
        assert plan["request"]["mode"] == "batched"
        # And the row records it
        row = catalog_row(stack, event)
        assert row is not None and row["mode"] == "batched"
