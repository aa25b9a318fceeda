"""The States Language rules that Step Functions enforces at CreateStateMachine and moto 5.2.5 skips.

moto's parser builds each state list into a dict, so a second state of the same name silently
replaces the first, and it resolves ``Next`` lazily, at run time. AWS refuses both at creation
(``InvalidDefinition``, the same findings as asl-validator, which ``make lint`` runs on every
definition): a definition the emulator accepted but the service rejects once failed the first
``sam deploy`` (issue 22: ten names repeated across the backfill's two Distributed Map processors).
``local_emulator.bridges`` runs ``definition_errors`` before moto parses a definition, so the local
stack refuses what the service refuses.

The rules (Amazon States Language specification, "States" and "Map State"):
- state names are unique across the whole machine, the states of every Parallel branch and Map
  item processor included;
- ``StartAt``, ``Next``, a Choice rule's ``Next``, ``Default`` and a Catcher's ``Next`` name a state of
  the same state list (a branch cannot jump out of its processor).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any


class InvalidDefinitionError(ValueError):
    """A definition Step Functions would refuse at CreateStateMachine."""


def _scopes(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, state list) for the machine and every nested branch / item processor, depth first."""
    yield path or "/", machine
    for name, state in (machine.get("States") or {}).items():
        nested = [state.get("ItemProcessor") or state.get("Iterator")] if state.get("Type") == "Map" else []
        nested += state.get("Branches") or [] if state.get("Type") == "Parallel" else []
        for index, scope in enumerate(s for s in nested if isinstance(s, dict)):
            yield from _scopes(scope, f"{path}/{name}[{index}]" if len(nested) > 1 else f"{path}/{name}")


def _targets(state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for index, rule in enumerate(state.get("Choices") or []):
        yield f"Choices[{index}].Next", rule.get("Next")
    for index, catcher in enumerate(state.get("Catch") or []):
        yield f"Catch[{index}].Next", catcher.get("Next")


def definition_errors(definition: str | dict[str, Any]) -> list[str]:
    """Every violation of the rules above, one line each (empty: the service would accept it on these)."""
    errors: list[str] = []
    if isinstance(definition, str):

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = Counter(key for key, _ in items)
            errors.extend(
                f"key {key!r} appears {n} times in one object (a state list holds each name once)"
                for key, n in keys.items()
                if n > 1
            )
            return dict(items)

        machine = json.loads(definition, object_pairs_hook=pairs)
    else:
        machine = definition
    seen: Counter[str] = Counter()
    for where, scope in _scopes(machine):
        states = scope.get("States") or {}
        seen.update(list(states))
        if scope.get("StartAt") not in states:
            errors.append(f"{where}: StartAt {scope.get('StartAt')!r} is not a state of this list")
        for name, state in states.items():
            for field, target in _targets(state):
                if target not in states:
                    errors.append(f"{where}/{name}: {field} {target!r} is not a state of this list")
    errors += [
        f"state name {name!r} is used {count} times (names are unique across the machine)"
        for name, count in sorted(seen.items())
        if count > 1
    ]
    return errors


def check_definition(definition: str | dict[str, Any], source: str = "definition") -> None:
    """Raise ``InvalidDefinitionError`` listing every violation, as CreateStateMachine would refuse it."""
    errors = definition_errors(definition)
    if errors:
        raise InvalidDefinitionError(f"{source} is not a valid state machine: " + "; ".join(errors))
