"""`parakeet vocab put|list|show`: the stack's vocabularies, checked before they are stored.

Only the stack's names matter here (the output bucket), so the stack is a CloudFormation stack in moto
with the outputs `parakeet --local` resolves, and a bucket; no workflow runs. docs/VOCABULARY.md.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from local_emulator.template import REGION
from parakeet_cli import exits
from parakeet_cli.app import CliState, app
from parakeet_cli.connect import LOCAL_STACK_NAME, REQUIRED_OUTPUTS

OUTPUT_BUCKET = "vocab-test-output"


def moto_clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        moto_clients("s3").create_bucket(Bucket=OUTPUT_BUCKET)
        outputs = {name: f"local-{name}" for name in REQUIRED_OUTPUTS} | {"OutputBucketName": OUTPUT_BUCKET}
        template = {
            "Resources": {"Marker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moto_clients("cloudformation").create_stack(
                StackName=LOCAL_STACK_NAME, TemplateBody=json.dumps(template)
            )
        yield


def parakeet(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, ["--local", *args, "--json"], obj=CliState(client_factory=moto_clients))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout)


def test_put_then_list_then_show(stack: None, tmp_path: Path) -> None:
    # Given a phrase file with a comment and a weight
    path = tmp_path / "drugs.txt"
    path.write_text("# clinic words\nacetaminophen | 2.5\nibuprofen\n")
    # When it is put
    code, put = parakeet("vocab", "put", "clinic-drugs", str(path))
    # Then it is stored as given, under vocabularies/<name>.txt
    assert code == exits.OK and put["phrases"] == 2
    assert put["uri"] == f"s3://{OUTPUT_BUCKET}/vocabularies/clinic-drugs.txt"
    stored = moto_clients("s3").get_object(Bucket=OUTPUT_BUCKET, Key="vocabularies/clinic-drugs.txt")
    assert stored["Body"].read() == path.read_bytes()
    # And list and show find it, with its phrases and weights as the Probe reads them
    code, listed = parakeet("vocab", "list")
    assert code == exits.OK and [v["name"] for v in listed["vocabularies"]] == ["clinic-drugs"]
    code, shown = parakeet("vocab", "show", "clinic-drugs")
    assert code == exits.OK and shown["etag"] == put["etag"]
    assert shown["phrases"] == [
        {"text": "acetaminophen", "weight": 2.5},
        {"text": "ibuprofen", "weight": 1.0},
    ]


def test_a_file_the_probe_would_refuse_is_refused_before_it_is_stored(stack: None, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n")
    code, error = parakeet("vocab", "put", "empty", str(path))
    assert code == exits.USAGE and "VocabularyEmpty" in error["message"]
    code, bad_name = parakeet("vocab", "put", "../x", str(path))
    assert code == exits.USAGE and "not valid" in bad_name["message"]
    assert "Contents" not in moto_clients("s3").list_objects_v2(Bucket=OUTPUT_BUCKET)


def test_show_of_a_missing_vocabulary_is_not_found(stack: None) -> None:
    code, error = parakeet("vocab", "show", "absent")
    assert code == exits.NOT_FOUND and "absent" in error["message"]
