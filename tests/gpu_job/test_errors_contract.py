"""gpu_job's failures are the shared contract's (pipeline.outcomes): names, reasons and exit codes.

The container imports ``pipeline`` itself (the image ships it next to ``gpu_job``), so there is no
copy to keep equal; what must hold is that the codes it exits with are the ones the job
definitions' RetryStrategy and record_failure read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pipeline.outcomes as contract
from record_failure.classify import classify

from local_emulator.template import load_template

PACKAGE = Path(__file__).resolve().parents[2] / "gpu_job"


def test_exit_codes_are_sysexits_data_error_and_software_error() -> None:
    assert (contract.GPU_JOB_EXIT_OK, contract.GPU_JOB_EXIT_BAD_INPUT, contract.GPU_JOB_EXIT_INTERNAL) == (
        0,
        65,
        70,
    )


def test_record_failure_reads_65_as_bad_input_and_70_as_internal() -> None:
    def failed_job(code: int) -> dict:
        cause = {"JobId": "j-1", "Status": "FAILED", "Container": {"ExitCode": code}}
        return {"Error": "States.TaskFailed", "Cause": json.dumps(cause)}

    assert classify(failed_job(contract.GPU_JOB_EXIT_BAD_INPUT)).reason_class == "bad_input"
    assert classify(failed_job(contract.GPU_JOB_EXIT_INTERNAL)).reason_class == "internal"


def test_every_job_definition_stops_retrying_on_the_bad_input_and_superseded_exit_codes() -> None:
    resources = load_template()["Resources"]
    definitions = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::Batch::JobDefinition"}
    assert "GpuJobDefinition" in definitions
    for lid, definition in definitions.items():
        strategy = definition["Properties"]["RetryStrategy"]
        if strategy["Attempts"] == 1:  # the pool worker: never retried by Batch (its messages go back to SQS)
            assert lid == "PoolWorkerJobDefinition" and "EvaluateOnExit" not in strategy
            continue
        for code in (contract.GPU_JOB_EXIT_BAD_INPUT, contract.GPU_JOB_EXIT_SUPERSEDED):
            assert {"OnExitCode": str(code), "Action": "EXIT"} in strategy["EvaluateOnExit"]


def test_every_bad_input_error_keeps_its_name_and_reason() -> None:
    # Lambda errorType, ErrorEquals and the catalog's reason are these names: renaming one breaks them.
    assert {e.__name__: e.reason for e in contract.BAD_INPUT_ERRORS} == {
        "ZeroByteObject": "zero_byte_object",
        "NotMedia": "not_media",
        "NoAudioStream": "no_audio_stream",
        "CorruptMedia": "corrupt_media",
        "DurationOutOfRange": "duration_out_of_range",
        "UnsupportedInput": "unsupported_input",
        "VocabularyNotFound": "vocabulary_not_found",
        "VocabularyEmpty": "vocabulary_empty",
        "VocabularyTooLarge": "vocabulary_too_large",
        "VocabularyInvalid": "vocabulary_invalid",
    }


def test_a_superseded_upload_is_its_own_outcome_not_bad_input() -> None:
    # Caught by name in the ASL (RecordSuperseded) and carried out of a Batch job by its own exit code.
    assert contract.SourceSuperseded.reason == "superseded"
    assert not issubclass(contract.SourceSuperseded, contract.BadInputError)
    assert (
        len(
            {
                contract.GPU_JOB_EXIT_BAD_INPUT,
                contract.GPU_JOB_EXIT_SUPERSEDED,
                contract.GPU_JOB_EXIT_INTERNAL,
                contract.GPU_JOB_EXIT_OK,
            }
        )
        == 4
    )
