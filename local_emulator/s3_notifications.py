"""moto 5.2.5 gap 26 (local_emulator/README.md): S3 GetBucketNotificationConfiguration never answers
``EventBridgeConfiguration``.

moto stores a bucket's EventBridge setting (PutBucketNotificationConfiguration with
``{"EventBridgeConfiguration": {}}``, as local_emulator.aws does for the input bucket) and sends its
events, but ``S3Response.get_bucket_notification`` serialises only the topic, queue and Lambda
configurations, so a reader sees EventBridge off where AWS answers ``"EventBridgeConfiguration": {}``.
`parakeet doctor` reads exactly that (parakeet_cli.doctor.check_eventbridge) and would fail every local
stack. Bridge: the same answer plus ``EventBridgeConfiguration`` when the bucket has it, as AWS does.
Installed by local_emulator.bridges.bridged (so ``make serve`` answers it) and usable alone
(``with eventbridge_readback():``) under a plain ``mock_aws``. Test support only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def s3_notification_patches() -> list[tuple[type, str, Any]]:
    """(class, attribute, replacement) for local_emulator.bridges.bridged."""
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return original(self)

        def entries(items: list[Any], arn_key: str) -> list[dict[str, Any]]:
            out = []
            for item in items:
                entry: dict[str, Any] = {"Id": item.id, arn_key: item.arn, "Events": item.events}
                if item.filters:
                    entry["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
                out.append(entry)
            return out

        result = {
            "TopicConfigurations": entries(configuration.topic, "TopicArn"),
            "QueueConfigurations": entries(configuration.queue, "QueueArn"),
            "LambdaFunctionConfigurations": entries(configuration.cloud_function, "LambdaFunctionArn"),
            "EventBridgeConfiguration": {},
        }
        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult(result))

    return [(S3Response, "get_bucket_notification", get_bucket_notification)]


@contextlib.contextmanager
def eventbridge_readback() -> Iterator[None]:
    """The patch alone, for tests that run a plain ``mock_aws`` without the other bridges."""
    patches = s3_notification_patches()
    originals = [(cls, name, cls.__dict__[name]) for cls, name, _ in patches]
    for cls, name, new in patches:
        setattr(cls, name, new)
    try:
        yield
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
