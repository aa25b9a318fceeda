"""Specifications of encrypted uploads (docs/ARCHIVES.md, "Encrypted inputs"): a customer managed KMS key
(InputKmsKeyArns) is decryptable by exactly the roles that read uploads' bytes; an SSE-C upload, whose key
we cannot know, is a typed bad input with a message that says so, never internal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline.contracts import UploadedObject
from pipeline.exact_upload import ensure_current
from pipeline.outcomes import UnsupportedInput
from probe_audio.s3_reader import S3RangeReader
from record_failure.classify import classify

from tests.workflow.test_template_policies import RESOURCES, TEMPLATE, allow_statements, as_list

# What GETs an upload's bytes (the others only HeadObject it, which needs no key).
BYTE_READERS = {"ProbeAudioFunction", "GpuJobRole", "PoolWorkerRole"}


def kms_grants() -> dict[str, list[dict[str, Any]]]:
    """kms:* statements per resource, with the condition they are under (Fn::If branches)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for lid, resource in RESOURCES.items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            if not isinstance(policy, dict) or "Fn::If" not in policy:
                continue
            condition, present, _absent = policy["Fn::If"]
            document = present.get("PolicyDocument", present)
            for statement in document["Statement"]:
                if any(str(a).startswith("kms:") for a in [statement["Action"]]):
                    found.setdefault(lid, []).append({"condition": condition, **statement})
    return found


def test_input_kms_keys_are_decryptable_by_exactly_the_roles_that_read_uploads() -> None:
    parameter = TEMPLATE["Parameters"]["InputKmsKeyArns"]
    assert (parameter["Type"], parameter["Default"]) == ("CommaDelimitedList", "")
    grants = kms_grants()
    assert set(grants) == BYTE_READERS
    for lid, statements in grants.items():
        [statement] = statements
        assert statement["condition"] == "HasInputKmsKeys", lid
        assert (statement["Action"], statement["Resource"]) == ("kms:Decrypt", {"Ref": "InputKmsKeyArns"})
    # and no unconditional IAM grant of a kms action anywhere (the alarm topic's key policy is not IAM)
    assert not [
        lid for lid, s in allow_statements() if any(str(a).startswith("kms:") for a in as_list(s["Action"]))
    ]
    assert TEMPLATE["Conditions"]["HasInputKmsKeys"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "InputKmsKeyArns"}]}, ""]}]
    }


class SseC:
    """S3 as it answers reads of an SSE-C object made without its key."""

    def head_object(self, **kwargs: Any) -> dict[str, Any]:  # HEAD errors carry only the status
        raise ClientError({"Error": {"Code": "400", "Message": "Bad Request"}}, "HeadObject")

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        message = (
            "The object was stored using a form of Server Side Encryption. The correct parameters must be "
            "provided to retrieve the object."
        )
        raise ClientError({"Error": {"Code": "InvalidRequest", "Message": message}}, "GetObject")


SOURCE = UploadedObject(bucket="in", key="calls/secret.wav", etag="e1", uri="s3://in/calls/secret.wav")


def test_an_sse_c_upload_is_typed_bad_input_at_claim_and_at_the_probe_with_a_message_saying_why() -> None:
    with pytest.raises(UnsupportedInput, match=r"customer-provided key \(SSE-C\).*re-upload") as at_claim:
        ensure_current(SseC(), SOURCE)  # type: ignore[arg-type]
    reader = S3RangeReader(SseC(), "in", "calls/secret.wav", etag="e1")
    with pytest.raises(UnsupportedInput, match=r"SSE-C") as at_probe:
        reader.read(16)
    for raised in (at_claim.value, at_probe.value):
        error = {"Error": "UnsupportedInput", "Cause": json.dumps({"errorMessage": str(raised)})}
        classification = classify(error)
        assert (classification.reason_class, classification.reason) == ("bad_input", "UnsupportedInput")
        assert "SSE-C" in classification.message
