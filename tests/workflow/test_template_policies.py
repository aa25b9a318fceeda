"""Specifications of template.yaml's guarantees that no local execution can show.

IAM and retry behaviour matter on a real account; these tests read them from the template itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_emulator.aws import _lower_keys
from local_emulator.bridges import BatchAttempt, evaluate_on_exit
from local_emulator.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
# Per-file job definitions; the pool worker's is specified on its own below.
JOB_DEFINITIONS = [
    lid
    for lid, r in RESOURCES.items()
    if r["Type"] == "AWS::Batch::JobDefinition" and lid != "PoolWorkerJobDefinition"
]


def allow_statements() -> list[tuple[str, dict[str, Any]]]:
    """Every Allow statement of every IAM policy the template writes itself (roles and SAM Policies)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for lid, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        policies = [p for p in props.get("Policies", []) if isinstance(p, dict)]
        documents = [p["PolicyDocument"] for p in policies if "PolicyDocument" in p]
        documents += [p for p in policies if "Statement" in p]
        for document in documents:
            found += [(lid, s) for s in document["Statement"] if s["Effect"] == "Allow"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_service_actions_and_no_full_access_policies() -> None:
    for lid, statement in allow_statements():
        for action in as_list(statement["Action"]):
            assert not action.endswith(":*") and action != "*", (lid, action)
    assert "FullAccess" not in json.dumps(TEMPLATE)


def test_the_pool_queue_is_encrypted_tls_only_limited_to_the_account_and_redrives_to_a_dlq() -> None:
    queue = RESOURCES["PoolQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert RESOURCES["PoolDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PoolDeadLetterQueue", "Arn"]}
    assert 1 < int(queue["RedrivePolicy"]["maxReceiveCount"]) <= 5
    policy = RESOURCES["PoolQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "PoolQueue"}, {"Ref": "PoolDeadLetterQueue"}]
    conditions = [s["Condition"] for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"StringNotEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}} in conditions
    assert all(s["Effect"] == "Deny" for s in policy["PolicyDocument"]["Statement"])


def test_only_the_workflow_sends_pool_tasks_and_only_workers_consume_them() -> None:
    users: dict[str, set[str]] = {}
    for lid, statement in allow_statements():
        if "PoolQueue" in json.dumps(statement.get("Resource", "")):
            users.setdefault(lid, set()).update(as_list(statement["Action"]))
    assert users == {
        "TranscribeStateMachine": {"sqs:SendMessage"},
        "ScalePoolFunction": {"sqs:GetQueueAttributes"},
        "PoolWorkerRole": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"},
    }


def test_pool_settings_defaults_are_the_template_defaults() -> None:
    from pipeline.settings import Settings

    defaults = Settings()
    parameters = TEMPLATE["Parameters"]
    for parameter, field in [
        ("PoolMaxSeconds", "pool_max_s"),
        ("MaxPoolWorkers", "max_pool_workers"),
        ("PoolFilesPerWorker", "pool_files_per_worker"),
        ("PoolTaskHeartbeatSeconds", "pool_task_heartbeat_s"),
        ("PoolVisibilitySeconds", "pool_visibility_s"),
        ("PoolIdleExitSeconds", "pool_idle_exit_s"),
        ("PoolBatchSize", "pool_batch_size"),
    ]:
        assert float(parameters[parameter]["Default"]) == float(getattr(defaults, field)), parameter
    # The Lambdas (the scaler, the planner) and the worker read them from the same parameters
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    worker_env = {
        item["Name"]: item["Value"]
        for item in RESOURCES["PoolWorkerJobDefinition"]["Properties"]["ContainerProperties"]["Environment"]
    }
    for env_name in Settings.environment_names().values():
        assert worker_env[env_name] == variables[env_name], env_name
    # The queue hides a received message for as long as the worker holds it
    assert RESOURCES["PoolQueue"]["Properties"]["VisibilityTimeout"] == {"Ref": "PoolVisibilitySeconds"}


def test_nothing_may_write_to_the_input_bucket() -> None:
    readers = []
    for lid, statement in allow_statements():
        if "InputBucket" not in json.dumps(statement.get("Resource", "")):
            continue
        actions = as_list(statement["Action"])
        reads = {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
        if lid == "ProbeAudioFunction":  # the upload's channel-mode tag (probe_audio.tags)
            reads |= {"s3:GetObjectTagging", "s3:GetObjectVersionTagging"}
            # a cold upload's restore (probe_audio.cold): a temporary readable copy, the object unchanged
            reads |= {"s3:RestoreObject"}
        if lid == "BackfillItemFunction":  # HeadObject (an Intelligent-Tiering tier); a run's restores
            reads |= {"s3:RestoreObject"}
        if lid == "BackfillStateMachine":  # its Distributed Map lists the prefix (ItemReader listObjectsV2)
            reads = {"s3:ListBucket"}
        assert all(a in reads for a in actions), (lid, actions)
        readers.append(lid)
    # Claim, Postprocess, Index, RecordFailure and the restore sweep HeadObject the key: does it still
    # hold this upload? Decide: its storage tier, and a restoring run's RestoreObject
    assert sorted(set(readers)) == [
        "BackfillItemFunction",
        "BackfillStateMachine",
        "ClaimSourceFunction",
        "GpuJobRole",
        "IndexTranscriptFunction",
        "PoolWorkerRole",
        "PostprocessFunction",
        "ProbeAudioFunction",
        "RecordFailureFunction",
        "RestoreSweepFunction",
    ]


def test_every_role_that_reads_an_input_key_may_list_the_input_bucket() -> None:
    # Given the roles allowed to read objects of the input bucket
    key_readers, listers = set(), set()
    for lid, statement in allow_statements():
        resources = as_list(statement.get("Resource", ""))
        actions = as_list(statement["Action"])
        if "s3:GetObject" in actions and {"Fn::Sub": "${InputBucket.Arn}/*"} in resources:
            key_readers.add(lid)
        if "s3:ListBucket" in actions and {"Fn::GetAtt": ["InputBucket", "Arn"]} in resources:
            listers.add(lid)
    # Then each of them holds s3:ListBucket on the bucket itself: without it S3 answers a deleted key
    # with 403 AccessDenied, not 404 NoSuchKey, and the "deleted" outcome (pipeline.exact_upload.NOT_FOUND,
    # probe_audio.s3_reader, gpu_job.storage) would be recorded as an internal failure (issue 22)
    assert key_readers and key_readers <= listers, key_readers - listers


BUCKETS = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::S3::Bucket"]
LOG_BUCKET = "AccessLogsBucket"


def bucket_policy(bucket: str) -> list[dict[str, Any]]:
    [policy] = [
        r
        for r in RESOURCES.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


@pytest.mark.parametrize("bucket", BUCKETS)
def test_buckets_block_public_access_encrypt_and_require_tls(bucket: str) -> None:
    props = RESOURCES[bucket]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    [deny] = [s for s in bucket_policy(bucket) if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("bucket", [b for b in BUCKETS if b != LOG_BUCKET])
def test_every_bucket_but_the_log_bucket_writes_server_access_logs_to_it(bucket: str) -> None:
    logging = RESOURCES[bucket]["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": LOG_BUCKET}
    prefix = logging["LogFilePrefix"]
    [delivery] = [s for s in bucket_policy(LOG_BUCKET) if s["Effect"] == "Allow"]
    # ACLs are disabled on the log bucket: its policy is what lets S3 deliver this bucket's logs.
    assert {"Fn::Sub": f"${{{LOG_BUCKET}.Arn}}/{prefix}*"} in delivery["Resource"]
    assert {"Fn::GetAtt": [bucket, "Arn"]} in delivery["Condition"]["ArnLike"]["aws:SourceArn"]


def test_the_log_bucket_admits_only_s3_log_delivery_and_expires_what_it_holds() -> None:
    props = RESOURCES[LOG_BUCKET]["Properties"]
    assert "LoggingConfiguration" not in props  # its own accesses would log the deliveries forever
    # Log delivery writes SSE-S3 objects only; SSE-KMS on the destination bucket is not supported.
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    [expire] = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert expire["Status"] == "Enabled" and expire["ExpirationInDays"] == {"Ref": "LogRetentionDays"}
    [delivery] = [s for s in bucket_policy(LOG_BUCKET) if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert len(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == len(BUCKETS) - 1


# Actions that have no resource-level permissions: the only ones allowed on Resource "*".
NO_RESOURCE_LEVEL = {
    "batch:DescribeJobs",
    "batch:ListJobs",
    # a task token is no resource: the pool worker answers the tokens of any execution's pool task
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_only_apis_without_resource_level_permissions_are_granted_on_every_resource() -> None:
    for lid, statement in allow_statements():
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_LEVEL, (lid, statement["Action"])


def test_terminate_job_is_scoped_to_this_accounts_batch_jobs() -> None:
    # Step Functions' .sync terminates the job of a stopped execution; TerminateJob takes job ARNs.
    granted = [(lid, s) for lid, s in allow_statements() if "batch:TerminateJob" in as_list(s["Action"])]
    assert [lid for lid, _ in granted] == ["TranscribeStateMachine"]
    [(_, statement)] = granted
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job/*"
    }


def dead_letter_queues(node: Any = RESOURCES) -> set[str]:
    """Queues named by a DeadLetterConfig (EventBridge targets, Lambda) or an SQS RedrivePolicy."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= dead_letter_queues(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            target = (
                value.get("Arn")
                if key == "DeadLetterConfig" and isinstance(value, dict)
                else value.get("deadLetterTargetArn")
                if key == "RedrivePolicy" and isinstance(value, dict)
                else None
            )
            if isinstance(target, dict) and "Fn::GetAtt" in target:
                found.add(target["Fn::GetAtt"][0])
            found |= dead_letter_queues(value)
    return found


def test_dead_letter_queues_are_found() -> None:
    assert "UploadEventDeadLetterQueue" in dead_letter_queues()


# Hold no data: the scaler's lease lives for one invocation (scale_pool.lease).
NO_DATA = {"PoolScalerLeaseTable"}


@pytest.mark.parametrize(
    "resource",
    sorted(
        {lid for lid, r in RESOURCES.items() if r["Type"] in {"AWS::Logs::LogGroup", "AWS::DynamoDB::Table"}}
        - NO_DATA
        | dead_letter_queues()
        | {LOG_BUCKET}
    ),
)
def test_what_holds_the_only_copy_of_its_data_survives_stack_deletion_and_replacement(resource: str) -> None:
    # The catalog, undelivered upload events, the logs and the access logs exist nowhere else.
    assert RESOURCES[resource].get("DeletionPolicy") == "Retain"
    assert RESOURCES[resource].get("UpdateReplacePolicy") == "Retain"


@pytest.mark.parametrize("resource", ["UploadQueue", "PoolQueue", "AlarmTopicKey"])
def test_queues_and_the_alarm_key_say_what_happens_to_them_with_the_stack(resource: str) -> None:
    # Their messages (and the key's notifications) are worth nothing without the stack: deleted, on purpose
    assert (RESOURCES[resource].get("DeletionPolicy"), RESOURCES[resource].get("UpdateReplacePolicy")) == (
        "Delete",
        "Delete",
    )


def test_a_stack_can_be_deleted_and_created_again_under_the_same_name() -> None:
    # Given the resources that outlive a deleted stack (Retain) or that CloudFormation must empty first
    retained_names = {
        lid: r["Properties"].get("LogGroupName")
        for lid, r in RESOURCES.items()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    # Then no retained log group has a fixed name: each is CloudFormation's or ends with the stack id's first
    # part, so the new stack's groups never collide with the old one's (AlreadyExists)
    for lid, name in retained_names.items():
        assert name is None or "AWS::StackId" in json.dumps(name), (lid, name)
    # And the image repository is emptied on delete (a repository with images cannot be deleted)
    assert RESOURCES["GpuJobRepository"]["Properties"]["EmptyOnDelete"] is True


def test_every_checkov_skip_names_a_check_and_says_why() -> None:
    skips = [
        (lid, skip)
        for lid, r in RESOURCES.items()
        for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for lid, skip in skips:
        assert set(skip) == {"id", "comment"}, (lid, skip)
        assert skip["id"].startswith("CKV_AWS_") and len(skip["comment"].split()) >= 8, (lid, skip)


def test_the_rule_target_has_a_dead_letter_queue() -> None:
    [target] = RESOURCES["UploadEventRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["UploadEventDeadLetterQueue", "Arn"]}


@pytest.mark.parametrize("job_definition", JOB_DEFINITIONS)
@pytest.mark.parametrize(
    ("attempt", "action"),
    [
        (BatchAttempt(exit_code=None, status_reason="Host EC2 (instance i-0abc) terminated."), "retry"),
        (BatchAttempt(exit_code=65, status_reason="Essential container in task exited"), "exit"),
        (BatchAttempt(exit_code=70, status_reason="Essential container in task exited"), "exit"),
        (BatchAttempt(exit_code=137, status_reason="OutOfMemoryError: Container killed"), "exit"),
        (BatchAttempt(exit_code=None, status_reason="CannotPullContainerError: pull image manifest"), "exit"),
    ],
)
def test_jobs_retry_only_when_the_host_went_away(
    job_definition: str, attempt: BatchAttempt, action: str
) -> None:
    strategy = _lower_keys(RESOURCES[job_definition]["Properties"]["RetryStrategy"])
    assert int(strategy["attempts"]) > 1
    assert evaluate_on_exit(strategy["evaluateOnExit"], attempt) == action


def test_without_a_catch_all_batch_would_retry_blindly() -> None:
    # AWS Batch retries when no EvaluateOnExit rule matches; the template's last rule prevents that.
    only_spot = [{"onStatusReason": "Host EC2*", "action": "RETRY"}]
    internal_error = BatchAttempt(exit_code=70, status_reason="Essential container in task exited")
    assert evaluate_on_exit(only_spot, internal_error) == "retry"


def test_a_lost_pool_worker_is_not_retried_by_batch() -> None:
    # Its files come back through the queue (visibility timeout) and the scaler starts a new worker;
    # a Batch retry would only add a second worker the backlog may not need.
    worker = RESOURCES["PoolWorkerJobDefinition"]["Properties"]
    assert int(worker["RetryStrategy"]["Attempts"]) == 1
    assert worker["ContainerProperties"]["Command"] == ["pool"]
    assert worker["ContainerProperties"]["JobRoleArn"] == {"Fn::GetAtt": ["PoolWorkerRole", "Arn"]}


def test_the_backfill_reads_the_catalog_writes_only_restore_caps_and_starts_only_the_per_file_workflow() -> (
    None
):
    catalog = {
        (lid, a, json.dumps(s.get("Condition")))
        for lid, s in allow_statements()
        if "CatalogTable" in json.dumps(s.get("Resource", ""))
        for a in as_list(s["Action"])
    }
    decide = {(a, condition) for lid, a, condition in catalog if lid == "BackfillItemFunction"}
    # an upload's row is read, never written: the one write is limited to the run's restore counters
    assert decide == {
        ("dynamodb:GetItem", "null"),
        (
            "dynamodb:UpdateItem",
            json.dumps({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["restore-budget://*"]}}),
        ),
    }
    starts = {
        json.dumps(s["Resource"])
        for lid, s in allow_statements()
        if lid == "BackfillStateMachine" and "states:StartExecution" in as_list(s["Action"])
    }
    # the per-file workflow, and itself (the Distributed Map's child executions)
    assert starts == {
        json.dumps({"Ref": "TranscribeStateMachine"}),
        json.dumps(
            {
                "Fn::Sub": (
                    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-backfill"
                )
            }
        ),
    }
    machine = RESOURCES["BackfillStateMachine"]["Properties"]
    assert machine["Name"] == {"Fn::Sub": "${AWS::StackName}-backfill"}
    # The inventory bucket is readable only when one is given
    [conditional] = [p for p in machine["Policies"] if "Fn::If" in p]
    assert conditional["Fn::If"][0] == "HasBackfillInventoryBucket"


def test_the_backfill_results_are_written_and_read_only_under_their_prefix() -> None:
    # Given the Distributed Map's ResultWriter (state machine) and the Summarise step (function)
    results = {"Fn::Sub": "${OutputBucket.Arn}/backfill-results/*"}
    s3 = {
        (lid, a): json.dumps(s["Resource"])
        for lid, s in allow_statements()
        if lid in ("BackfillStateMachine", "BackfillItemFunction", "BackfillSummaryFunction")
        for a in as_list(s["Action"])
        if a.startswith("s3:") and a != "s3:ListBucket"
    }
    # Then the machine writes (with multipart) and Summarise only reads, both only the results prefix;
    # Decide touches no result at all (only input keys: HeadObject, RestoreObject)
    assert {a for lid, a in s3 if lid == "BackfillSummaryFunction"} == {"s3:GetObject"}
    assert all("InputBucket" in s3[(lid, a)] for lid, a in s3 if lid == "BackfillItemFunction")
    assert {a for lid, a in s3 if lid == "BackfillStateMachine"} >= {
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
    }
    inventory = "${BackfillInventoryBucket}"
    assert {r for (lid, a), r in s3.items() if inventory not in r and lid != "BackfillItemFunction"} == {
        json.dumps(results)
    }
    machine = RESOURCES["BackfillStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert machine["BackfillResultsBucket"] == {"Ref": "OutputBucket"}
    assert machine["BackfillResultsPrefix"] == "backfill-results/"
    # and the results expire
    rules = RESOURCES["OutputBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [expiry] = [r for r in rules if r.get("Prefix") == "backfill-results/"]
    assert expiry["Status"] == "Enabled" and int(expiry["ExpirationInDays"]) > 0


def test_the_backfill_asl_uses_exactly_the_templates_substitutions() -> None:
    import re
    from pathlib import Path

    machine = RESOURCES["BackfillStateMachine"]["Properties"]
    text = (Path(__file__).resolve().parents[2] / machine["DefinitionUri"]).read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(machine["DefinitionSubstitutions"])
    assert machine["DefinitionSubstitutions"]["BackfillMaxConcurrency"] == {"Ref": "BackfillMaxConcurrency"}
    asl = json.loads(text)
    for name in ("BackfillPrefix", "BackfillManifest"):
        state = asl["States"][name]
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        assert state["MaxConcurrencyPath"] == "$.max_concurrency"
        assert state["ToleratedFailurePercentagePath"] == "$.tolerated_failure_percentage"
    assert asl["States"]["BackfillPrefix"]["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert asl["States"]["BackfillManifest"]["ItemReader"]["ReaderConfig"] == {"InputType": "MANIFEST"}
    for name in ("BackfillPrefix", "BackfillManifest"):
        writer = asl["States"][name]["ResultWriter"]
        assert writer["Resource"] == "arn:aws:states:::s3:putObject"
        assert writer["Parameters"] == {
            "Bucket": "${BackfillResultsBucket}",
            "Prefix": "${BackfillResultsPrefix}",
        }
    start = asl["States"]["BackfillPrefix"]["ItemProcessor"]["States"]["ListingStartTranscription"]
    assert start["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert start["Catch"][0]["ErrorEquals"] == ["StepFunctions.ExecutionAlreadyExistsException"]


@pytest.mark.parametrize(("reserved", "expected"), [(None, None), ("0", None), ("5", 5)])
def test_the_scaler_reserves_no_concurrency_unless_asked(reserved: str | None, expected: int | None) -> None:
    # A reservation of 1 fails to create on accounts whose unreserved concurrency would drop below the
    # minimum (new accounts: quota 10); the scaler's lease keeps one writer without it (issue 22)
    from local_emulator.template import NO_VALUE, Resolver

    assert TEMPLATE["Parameters"]["ScalePoolReservedConcurrency"]["Default"] == 0
    overrides = {} if reserved is None else {"ScalePoolReservedConcurrency": reserved}
    resolver = Resolver(TEMPLATE, "t", overrides)
    setting = RESOURCES["ScalePoolFunction"]["Properties"]["ReservedConcurrentExecutions"]
    resolved = resolver.resolve({"x": setting}).get("x", NO_VALUE)
    assert (None if resolved is NO_VALUE else int(resolved)) == expected
