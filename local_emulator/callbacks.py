"""Bridges for moto 5.2.5's task-token callbacks (``.waitForTaskToken``), used by the worker pool.

Test support only, installed by ``local_emulator.bridges.bridged`` and undone with it. Each patch makes
moto do what AWS documents: gaps 5-8 of local_emulator/README.md (heartbeat race, a token per attempt,
closed tokens answer ``TaskTimedOut``, SendTaskFailure keeps its cause) and 31 (a heartbeat for a
task without HeartbeatSeconds is accepted while it waits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def callback_patches() -> list[tuple[type, str, Callable[..., Any]]]:
    """(class, attribute, replacement) for each bridge above; the caller installs and restores them."""
    from moto.stepfunctions.parser.api import TaskTimedOut
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackEndpoint,
        CallbackPoolManager,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    StateTaskServiceCallback = state_task_service_callback.StateTaskServiceCallback
    original_setup = CallbackEndpoint.setup_heartbeat_endpoint
    original_evaluate = ExecutionState._evaluate_with_timeout
    original_notify, original_heartbeat = CallbackPoolManager.notify, CallbackPoolManager.heartbeat

    def raise_if_over(manager: Any, callback_id: str) -> None:
        endpoint = manager.get(callback_id)
        if endpoint is not None and isinstance(endpoint.consumer_error, CallbackConsumerTimeout):
            raise TaskTimedOut(
                "Task Timed Out: the attempt this token belongs to is over", exception_type="TaskTimedOut"
            )

    def notify(self: Any, callback_id: str, outcome: Any) -> bool:
        raise_if_over(self, callback_id)
        return bool(original_notify(self, callback_id, outcome))

    def heartbeat(self: Any, callback_id: str) -> bool:
        raise_if_over(self, callback_id)
        endpoint = self.get(callback_id)
        if endpoint is not None and endpoint.consumer_error is None and not endpoint._heartbeat_endpoint:
            return True  # gap 31: a waiting task without HeartbeatSeconds accepts the heartbeat
        return bool(original_heartbeat(self, callback_id))

    def setup_heartbeat_endpoint(self: Any, heartbeat_seconds: int) -> Any:
        endpoint = original_setup(self, heartbeat_seconds)
        if self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        if getattr(self.resource, "condition", None) != ResourceCondition.WaitForTaskToken:
            original_evaluate(self, env)
            return
        context = env.states.context_object
        if context.context_object_data["State"]["RetryCount"] > 0:
            env.callback_pool_manager.add(context.update_task_token())
        token = context.context_object_data["Task"]["Token"]
        try:
            original_evaluate(self, env)
        finally:
            endpoint = env.callback_pool_manager.get(token)
            if endpoint is not None:
                endpoint.report(CallbackConsumerTimeout())

    def send_task_failure(self: Any) -> Any:
        from moto.core.responses import EmptyResult

        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    return [
        (CallbackEndpoint, "setup_heartbeat_endpoint", setup_heartbeat_endpoint),
        (StateTaskServiceCallback, "_evaluate_with_timeout", evaluate_with_timeout),
        (CallbackPoolManager, "notify", notify),
        (CallbackPoolManager, "heartbeat", heartbeat),
        (StepFunctionResponse, "send_task_failure", send_task_failure),
    ]
