"""Walk a Step Functions definition (ASL, JSONPath) the way one execution would, without AWS.

The cost model counts state transitions and the tasks an outcome runs from the definition itself, so
that a new state or branch (the pool path, say) changes the count without anyone editing a number.
`walk` follows Next/End, evaluates Choice rules against a sample state (the fields the rules read,
e.g. ``{"claim": {"claimed": true}, "plan": {"path": "pool"}}``), and, for a failure outcome, leaves
the named state through its Catch. Parallel branches and Map iterations are walked in as well (a
Map's item processor ``map_items`` times). Retries are not walked: a path is the no-retry case.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_COMPARISONS = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
}
_TYPES = {"String": str, "Numeric": int | float, "Boolean": bool, "Timestamp": str}


@dataclass(frozen=True)
class Step:
    """One state entered: one state transition."""

    name: str
    type: str
    resource: str | None
    parameters: Mapping[str, Any]


def resolve(state: Any, path: str) -> Any:
    """A simple JSONPath (``$.a.b``) into ``state``; `_MISSING` where a field is absent."""
    if path == "$":
        return state
    node = state
    for part in path.removeprefix("$.").split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def matches(rule: Mapping[str, Any], state: Any) -> bool:
    """Whether a Choice rule holds for `state` (JSONPath rules; JSONata Conditions are refused)."""
    if "Condition" in rule:
        raise ValueError("JSONata Choice conditions are not supported by this walker")
    if "And" in rule:
        return all(matches(r, state) for r in rule["And"])
    if "Or" in rule:
        return any(matches(r, state) for r in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], state)
    value = resolve(state, rule["Variable"])
    for key, expected in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key == "IsPresent":
            return (value is not _MISSING) == expected
        if value is _MISSING:
            return False
        if key == "IsNull":
            return (value is None) == expected
        if key.startswith("Is") and key[2:] in _TYPES:
            kind = _TYPES[key[2:]]
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            return ok == expected
        if key.endswith("Path"):
            key, expected = key.removesuffix("Path"), resolve(state, expected)
        if key == "StringMatches":
            return isinstance(value, str) and fnmatch.fnmatchcase(value, expected)
        for kind, kind_type in _TYPES.items():
            op = key.removeprefix(kind)
            if key.startswith(kind) and op in _COMPARISONS:
                if isinstance(value, bool) != (kind_type is bool) or not isinstance(value, kind_type):
                    return False
                return bool(_COMPARISONS[op](value, expected))
        raise ValueError(f"unsupported Choice operator {key!r}")
    raise ValueError(f"Choice rule without an operator: {rule!r}")


def _catch_next(definition: Mapping[str, Any], name: str) -> str | None:
    for catcher in definition["States"][name].get("Catch", []):
        if "States.ALL" in catcher["ErrorEquals"] or "States.TaskFailed" in catcher["ErrorEquals"]:
            return str(catcher["Next"])
    return None


def walk(
    definition: Mapping[str, Any],
    state: Any,
    fail_at: str | None = None,
    map_items: int = 1,
    max_steps: int = 10_000,
) -> list[Step]:
    """The states one execution enters, in order; `fail_at` names the state that raises."""
    steps: list[Step] = []
    name: str | None = definition["StartAt"]
    while name is not None:
        if len(steps) >= max_steps:
            raise ValueError(f"more than {max_steps} steps: a loop the sample state never leaves?")
        spec = definition["States"][name]
        kind = spec["Type"]
        steps.append(Step(name, kind, spec.get("Resource"), spec.get("Parameters") or {}))
        if kind == "Parallel":
            for branch in spec["Branches"]:
                steps += walk(branch, state, fail_at, map_items, max_steps)
        elif kind == "Map":
            processor = spec.get("ItemProcessor") or spec["Iterator"]
            for _ in range(map_items):
                steps += walk(processor, state, fail_at, map_items, max_steps)
        if name == fail_at:
            name = _catch_next(definition, name)
            continue
        if kind in ("Succeed", "Fail") or spec.get("End"):
            break
        if kind == "Choice":
            chosen = next((c["Next"] for c in spec["Choices"] if matches(c, state)), spec.get("Default"))
            if chosen is None:
                raise ValueError(f"Choice {name!r} has no matching rule and no Default for {state!r}")
            name = chosen
        else:
            name = spec["Next"]
    return steps
