"""Cold storage for the local stack: restores that take time, Intelligent-Tiering archive tiers, and
S3's "Object Restore Completed" EventBridge event (docs/ARCHIVES.md). Test support only.

moto 5.2.5 gaps bridged here (local_emulator/README.md, gaps 33 to 37):

* **RestoreObject completes at once.** moto's restore sets the copy's expiry and the next read of
  the key's state moves it to RESTORED (its ``s3::keyrestore`` state model, "immediate"): there is
  no restore in progress, so ``ongoing-request="true"`` and a GET refused while restoring cannot be
  seen; a second RestoreObject never answers 409 RestoreAlreadyInProgress. Here a restore stays in
  progress (HEAD: ``Restore: ongoing-request="true"``; GET: 403 InvalidObjectState) until
  :meth:`ColdStorage.complete_restore`, as S3 keeps it for minutes to 48 hours.
* **No Intelligent-Tiering archive tiers.** moto has no ``x-amz-archive-status``: an
  INTELLIGENT_TIERING object is always readable and RestoreObject refuses it. Here
  :meth:`ColdStorage.archive` moves one into ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS: HEAD answers
  ``ArchiveStatus``, GET answers InvalidObjectState, RestoreObject (no Days) brings it back.
* **The Object Restore Completed event.** moto sends it from the state model with its own event shape
  (gap 10: ``eTag``, a fixed id, every bus), and only when something reads the key's state. Here
  :meth:`ColdStorage.complete_restore` sends AWS's shape (the workflow's own event writer, then the
  restore fields: no ``reason``, ``restore-expiry-time``, ``source-storage-class``) to the default
  bus's rules through the local ingress, and returns it so that a test can deliver it again.
* **GetObjectTagging of a cold object answers InvalidObjectState.** AWS reads tags in every storage
  class (they are how an upload asks for its restore tier here). Bridged in the same ``_get_key``.
* **RestoreObject ignores VersionId** (it restores the key's latest version): not bridged; the tests'
  buckets restore the latest version.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.s3.exceptions import S3ClientError

from local_emulator import ingress as local_ingress
from local_emulator.template import ACCOUNT_ID, REGION

RESTORE_COMPLETED = "Object Restore Completed"
INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
# A restore's state model held still: ColdStorage decides when a restore completes.
_HELD = {"progression": "manual", "times": 10**12}


@dataclass
class PendingRestore:
    tier: str | None
    days: int | None


def _identity(key: Any) -> tuple[str, str, str]:
    return (key.bucket_name, key.name, str(key.version_id))


@dataclass
class ColdStorage:
    """Installed by :func:`cold_storage` (``local_stack`` does it); ``stop`` undoes every patch."""

    pending: dict[tuple[str, str, str], PendingRestore] = field(default_factory=dict)
    archive_status: dict[tuple[str, str], str] = field(default_factory=dict)
    restore_requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._undo: list[tuple[Any, str, Any]] = []

    # -- what a test does ----------------------------------------------------------------------
    def archive(self, bucket: str, key: str, status: str = "ARCHIVE_ACCESS") -> None:
        """The INTELLIGENT_TIERING object the key holds (now, or once uploaded: a test calls this before
        the upload, whose event is processed at once) sits in an archive tier, as S3 moves it after
        90/180 days without access."""
        with self._lock:
            self.archive_status[(bucket, key)] = status

    def complete_restore(self, bucket: str, key: str) -> dict[str, Any]:
        """Finish the key's pending restore: the copy is readable, then S3's event goes to the rules."""
        fake = self._key(bucket, key)
        with self._lock:
            pending = self.pending.pop(_identity(fake))
            self.archive_status.pop((bucket, key), None)
        now = datetime.datetime.now(datetime.UTC)
        if fake.storage_class == INTELLIGENT_TIERING:
            fake._status, fake._expiry = None, None  # back in Frequent Access: no temporary copy
            expiry = None
        else:
            fake._expiry = now.replace(tzinfo=None) + datetime.timedelta(days=pending.days or 1)
            fake._status = "RESTORED"
            expiry = fake._expiry.replace(tzinfo=datetime.UTC)
        event = restore_completed_event(fake, fake.storage_class, expiry)
        active = local_ingress.active()
        if active is not None:
            active.put_s3_event(event)
        return event

    def restoring(self, bucket: str, key: str) -> bool:
        return _identity(self._key(bucket, key)) in self.pending

    def _in_archive_tier(self, fake: Any) -> bool:
        tiered = (fake.bucket_name, fake.name) in self.archive_status
        return fake.storage_class == INTELLIGENT_TIERING and tiered

    @staticmethod
    def _key(bucket: str, key: str) -> Any:
        from moto.s3.models import s3_backends

        fake = s3_backends[ACCOUNT_ID]["aws"].get_object(bucket, key)
        if fake is None:
            raise KeyError(f"s3://{bucket}/{key}")
        return fake

    # -- patches ---------------------------------------------------------------------------------
    def _restore_object(self, original: Any) -> Any:
        cold = self

        def restore_object(
            backend: Any, bucket_name: str, key_name: str, days: str | None, type_: str | None
        ) -> bool:
            from moto.s3.exceptions import InvalidObjectState, MissingKey

            fake = backend.get_object(bucket_name, key_name)
            if fake is None:
                raise MissingKey
            identity = _identity(fake)
            with cold._lock:
                cold.restore_requests.append((bucket_name, key_name, days))
                if identity in cold.pending:
                    raise RestoreAlreadyInProgress()
                archived_tier = cold._in_archive_tier(fake)
                restored = fake._expiry is not None and fake._status == "RESTORED"
                if fake.storage_class == INTELLIGENT_TIERING and not archived_tier:
                    raise InvalidObjectState(storage_class=fake.storage_class)
                if restored:
                    return bool(original(backend, bucket_name, key_name, days, type_))  # extends the copy
                cold.pending[identity] = PendingRestore(tier=None, days=int(days) if days else None)
            fake._status = "IN_PROGRESS"
            fake._expiry = datetime.datetime.now()  # any value: moto writes the Restore header when set
            return False  # 202 Accepted

        return restore_object

    def _response_dict(self, original: property) -> property:
        cold = self

        def response_dict(key: Any) -> dict[str, Any]:
            headers = dict(original.fget(key))  # type: ignore[misc]
            status = cold.archive_status.get((key.bucket_name, key.name))
            if status and key.storage_class == INTELLIGENT_TIERING:
                headers["x-amz-archive-status"] = status
            return headers

        return property(response_dict)

    def _get_key(self, original: Any) -> Any:
        cold = self

        def get_key(response: Any, validate_storage_class: bool = True) -> Any:
            from moto.s3.exceptions import InvalidObjectState

            if "tagging" in getattr(response, "querystring", {}):
                validate_storage_class = False  # tags are metadata: readable in every storage class
            key, not_modified = original(response, validate_storage_class)
            if validate_storage_class and cold._in_archive_tier(key):
                raise InvalidObjectState(storage_class=key.storage_class)
            return key, not_modified

        return get_key

    def _patch(self, owner: Any, name: str, new: Any) -> None:
        self._undo.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, new)

    def start(self) -> ColdStorage:
        from moto.moto_api import state_manager
        from moto.s3.models import FakeKey, S3Backend
        from moto.s3.responses import S3Response

        self._held_before = state_manager.get_transition("s3::keyrestore")
        state_manager.set_transition("s3::keyrestore", _HELD)
        self._patch(S3Backend, "restore_object", self._restore_object(S3Backend.restore_object))
        self._patch(FakeKey, "response_dict", self._response_dict(FakeKey.__dict__["response_dict"]))
        self._patch(S3Response, "_get_key", self._get_key(S3Response._get_key))
        return self

    def stop(self) -> None:
        from moto.moto_api import state_manager

        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()
        state_manager.set_transition("s3::keyrestore", self._held_before)


class RestoreAlreadyInProgress(S3ClientError):
    """S3's 409 answer to RestoreObject while the object's restore runs."""

    code = "RestoreAlreadyInProgress"

    def __init__(self) -> None:
        super().__init__("Object restore is already in progress")


def restore_completed_event(
    fake: Any, source_storage_class: str, expiry: datetime.datetime | None
) -> dict[str, Any]:
    """AWS's Object Restore Completed event for a moto key: Object Created's shape (one writer,
    functions/pipeline/uploads.py) without ``reason``, with the restore's two fields."""
    from pipeline.contracts import UploadedObject
    from pipeline.uploads import OBJECT_RESTORE_COMPLETED, object_created_event

    version = str(fake.version_id) if fake.version_id and str(fake.version_id) != "null" else None
    source = UploadedObject(
        bucket=fake.bucket_name,
        key=fake.name,
        etag=fake.etag.strip('"'),
        version_id=version,
        size=int(fake.size),
        uri=f"s3://{fake.bucket_name}/{fake.name}",
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = object_created_event(
        source,
        account=ACCOUNT_ID,
        region=REGION,
        time=now,
        event_id=str(uuid.uuid4()),
        request_id=local_ingress.REQUEST_IDS.draw(),
        reason="",
    )
    event["detail-type"] = OBJECT_RESTORE_COMPLETED
    detail = event["detail"]
    detail.pop("reason", None)
    detail.pop("source-ip-address", None)
    if expiry is not None:
        detail["restore-expiry-time"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    detail["source-storage-class"] = source_storage_class
    return event
