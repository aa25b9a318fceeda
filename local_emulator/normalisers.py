"""PascalCase in, PascalCase out for moto's Step Functions service integrations (emulator gaps 1 and 19).

moto hands an integration's state parameters to boto3 as they are written in the ASL (PascalCase), and the
boto3 response back to the state as boto3 returns it; AWS converts both through the service's botocore
model. Its own module, so that ``bridges`` and ``distributed_map`` both import it without importing each
other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.model import OperationModel


def _botocore_operation(service: str, snake_action: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if botocore.xform_name(name) == snake_action:
            return model.operation_model(name)
    raise KeyError(f"{service} has no operation {snake_action}")


Normaliser = Callable[..., None]


def botocore_normalisers(service: str, before: Normaliser | None = None) -> tuple[Normaliser, Normaliser]:
    """``_normalise_parameters`` / ``_normalise_response`` for a moto service integration (gaps 1, 19):
    the state's PascalCase parameters become the botocore request, the boto3 response the PascalCase
    result AWS hands the state. ``before``: the integration's own parameter step, kept (e.g. Input as
    a JSON string for Step Functions)."""

    def normalise_parameters(
        self: Any,
        parameters: dict,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        if before is not None:
            before(self, parameters, boto_service_name, service_action_name)
        operation = _botocore_operation(service, self._get_boto_service_action(service_action_name))
        self._to_boto_request(parameters, operation.input_shape)

    def normalise_response(
        self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        operation = _botocore_operation(service, self._get_boto_service_action(service_action_name))
        self._from_boto_response(response, operation.output_shape)

    return normalise_parameters, normalise_response
