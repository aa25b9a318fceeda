"""The permission map, recomputed from the code (test support for tests/workflow/test_permission_map.py).

moto does not enforce IAM, so no local run shows a missing grant: the first real call does, as
AccessDenied, on a real account. This module derives from the source what each role must be allowed,
so that a test can hold the template to it:

- **boto3 calls** (functions/ for each Lambda, gpu_job/ for the two Batch job roles). Clients are
  created once by factory functions (``lambda_runtime.clients.s3_client``: ``boto3.client("s3")``, or
  ``boto3.resource("dynamodb").Table(...)``) and passed in, positionally or by keyword, down to the
  logic modules, or kept as ``self.<attr>``. ``scan`` follows that: it learns which factory returns
  which service, binds each callee's parameter to the service of the argument it receives, and each
  ``self.<attr>`` to what ``__init__`` stored, until nothing changes. From a role's entry points (a
  function's ``Handler``, the job's ``main``) it then walks the calls it can reach and collects every
  ``<client>.<operation>`` (called, or passed on as a callable as pool_answers does) whose operation
  the service's botocore model has. The IAM action is the model's operation name under the service's
  IAM prefix (``stepfunctions.send_task_success`` -> ``states:SendTaskSuccess``), except for the S3
  calls IAM authorises under another name (``S3_ACTIONS``); a call that may carry a ``VersionId``
  (given, or a ``**`` splat such as ``**pin(source)``) needs the ``...Version`` action too.
- **ASL integrations** (statemachine/*.asl.json, substitutions applied by local_emulator.rendered):
  the actions each service integration needs, as the Step Functions guide lists them per
  integration (``INTEGRATIONS``; a Distributed Map's ItemReader, ResultWriter and child executions
  included), on the resource the state names.

Resources: what a boto3 call acts on is data (a bucket from the event, a table from the environment),
so each (role, action) has its resources written down in the test (``RESOURCES`` there); a derived
action without an entry fails, asking for it. Receivers the scan cannot type and whose attribute is
an AWS operation name are reported (``Scan.untyped``), so a client passed some new way is not missed
silently.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name

REPO_ROOT = Path(__file__).resolve().parents[1]
# botocore service name -> IAM service prefix.
IAM_PREFIX = {
    "s3": "s3",
    "sqs": "sqs",
    "batch": "batch",
    "stepfunctions": "states",
    "events": "events",
    "dynamodb": "dynamodb",
    "lambda": "lambda",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
}
# S3 operations IAM authorises under another action (Amazon S3 User Guide, "Actions, resources and
# condition keys": HeadObject needs s3:GetObject, ListObjectsV2 s3:ListBucket, ...).
S3_ACTIONS = {
    "head_object": "s3:GetObject",
    "list_objects_v2": "s3:ListBucket",
    "list_objects": "s3:ListBucket",
    "head_bucket": "s3:ListBucket",
    "get_object_tagging": "s3:GetObjectTagging",
}
# ... and the one it needs in addition when the call names a version.
S3_VERSIONED = {
    "get_object": "s3:GetObjectVersion",
    "head_object": "s3:GetObjectVersion",
    "get_object_tagging": "s3:GetObjectVersionTagging",
    "delete_object": "s3:DeleteObjectVersion",
}
_SESSION = botocore.session.get_session()
CLASS = "class:"  # a binding that is an instance of one of the code's classes, not a client


@dataclass(frozen=True)
class Need:
    """One action a role needs, and where the code or the definition asks for it."""

    action: str
    where: str
    resource: str | None = None  # known for ASL integrations; for boto3 calls, the test's RESOURCES


@dataclass
class _Function:
    module: str  # path relative to the repo
    name: str
    cls: str | None
    node: ast.FunctionDef | ast.AsyncFunctionDef
    params: list[str]
    bound: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def key(self) -> str:
        return f"{self.module}:{self.cls + '.' if self.cls else ''}{self.name}"


def _operations(service: str) -> dict[str, str]:
    """snake_case method -> botocore operation name."""
    model = _SESSION.get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


_OPERATIONS = {
    service: _operations(service) for service in ("s3", "sqs", "batch", "stepfunctions", "events", "dynamodb")
}
_ANY_OPERATION = set().union(*(set(ops) for ops in _OPERATIONS.values()))


def iam_actions(service: str, method: str, versioned: bool) -> list[str]:
    """The IAM actions one boto3 call needs."""
    if service == "s3" and method in S3_ACTIONS:
        actions = [S3_ACTIONS[method]]
    else:
        actions = [f"{IAM_PREFIX[service]}:{_OPERATIONS[service][method]}"]
    if service == "s3" and versioned and method in S3_VERSIONED:
        actions.append(S3_VERSIONED[method])
    return actions


class Scan:
    """The service bindings and call graph of a set of source files."""

    def __init__(self, files: Iterable[Path], root: Path = REPO_ROOT) -> None:
        self.functions: list[_Function] = []
        self.modules: dict[str, ast.Module] = {}
        # module -> local name -> (module imported from, name there); and local names of modules
        self.aliases: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        self.module_aliases: dict[str, dict[str, str]] = defaultdict(dict)
        self.class_attrs: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for path in files:
            module = str(path.relative_to(root))
            tree = ast.parse(path.read_text(), filename=module)
            self.modules[module] = tree
            self._index(module, tree)
        self.by_name: dict[str, list[_Function]] = defaultdict(list)
        for function in self.functions:
            self.by_name[function.name].append(function)
            if function.name == "__init__" and function.cls:
                self.by_name[function.cls].append(function)
        self.factories = {f.key: s for f in self.functions if (s := self._factory_service(f))}
        self._bind()

    # -- indexing ------------------------------------------------------------------------------------
    def _index(self, module: str, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[module][alias.asname or alias.name] = (node.module, alias.name)
                    self.module_aliases[module][alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.module_aliases[module][alias.asname or alias.name] = alias.name
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.append(_Function(module, node.name, None, node, _params(node)))
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        method = _Function(module, item.name, node.name, item, _params(item)[1:])
                        self.functions.append(method)

    @staticmethod
    def _boto3_service(node: ast.AST) -> str | None:
        """``boto3.client("x")`` -> x; ``boto3.resource("dynamodb").Table(...)`` -> dynamodb."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if (
                isinstance(func.value, ast.Name)
                and func.value.id == "boto3"
                and func.attr == "client"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                return str(node.args[0].value)
            if func.attr == "Table" and Scan._is_resource(func.value, "dynamodb"):
                return "dynamodb"
        return None

    @staticmethod
    def _is_resource(node: ast.AST, service: str) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "resource"
            and bool(node.args)
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == service
        )

    def _factory_service(self, function: _Function) -> str | None:
        for node in ast.walk(function.node):
            if isinstance(node, ast.Return) and node.value is not None:
                service = self._boto3_service(node.value)
                if service:
                    return service
        return None

    # -- resolution ----------------------------------------------------------------------------------
    def _defined_in(self, dotted: str, name: str) -> list[_Function]:
        """Functions (or a class's ``__init__``) named ``name`` in the module ``dotted`` names."""
        tail = dotted.replace(".", "/")
        return [
            f
            for f in self.by_name.get(name, [])
            if f.module.endswith((f"{tail}.py", f"{tail}/__init__.py"))
            and (f.cls is None or (f.name == "__init__" and f.cls == name))
        ]

    def _classes_visible(self, module: str) -> set[str]:
        """Classes defined in or imported into ``module`` (whose methods a call there may reach)."""
        imported = {name for _, name in self.aliases[module].values()}
        return {f.cls for f in self.functions if f.cls and (f.module == module or f.cls in imported)}

    def callees(self, caller: _Function, call: ast.Call | ast.AST) -> list[_Function]:
        """The code's functions a call (or a reference to a function) may run: by the caller's own
        definitions and imports, never by a bare name match across the code base."""
        func = call.func if isinstance(call, ast.Call) else call
        if isinstance(func, ast.Name):
            if func.id in self.aliases[caller.module]:
                dotted, name = self.aliases[caller.module][func.id]
                return self._defined_in(dotted, name)
            return [
                f
                for f in self.by_name.get(func.id, [])
                if f.module == caller.module
                and (f.cls is None or (f.name == "__init__" and f.cls == func.id))
            ]
        if isinstance(func, ast.Attribute):
            owner = func.value
            if isinstance(owner, ast.Name) and owner.id == "self" and caller.cls:
                return [f for f in self.by_name.get(func.attr, []) if f.cls == caller.cls]
            if isinstance(owner, ast.Name) and owner.id in self.module_aliases[caller.module]:
                return self._defined_in(self.module_aliases[caller.module][owner.id], func.attr)
            instances = {k.removeprefix(CLASS) for k in self.service_of(caller, owner) if k.startswith(CLASS)}
            if instances:  # an object whose class the scan followed here (constructed elsewhere, passed in)
                return [f for f in self.by_name.get(func.attr, []) if f"{f.module}:{f.cls}" in instances]
            if isinstance(call, ast.Call):
                visible = self._classes_visible(caller.module)
                return [
                    f for f in self.by_name.get(func.attr, []) if f.cls in visible and f.name != "__init__"
                ]
        return []

    def service_of(self, caller: _Function, node: ast.AST) -> set[str]:
        direct = self._boto3_service(node)
        if direct:
            return {direct}
        if isinstance(node, ast.Call):
            made = self.callees(caller, node)
            return {self.factories[f.key] for f in made if f.key in self.factories} | {
                f"{CLASS}{f.module}:{f.cls}" for f in made if f.name == "__init__"
            }
        if isinstance(node, ast.Name):
            return set(caller.bound.get(node.id, set()))
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and caller.cls
        ):
            return set(self.class_attrs[(caller.module, caller.cls)].get(node.attr, set()))
        return set()

    def _bind(self) -> None:
        changed = True
        while changed:
            changed = False
            for function in self.functions:
                for node in ast.walk(function.node):
                    if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        for target in targets:
                            for one, value in _pairs(target, node.value):
                                changed |= self._bind_target(function, one, self.service_of(function, value))
                    elif isinstance(node, ast.Call):
                        for callee in self.callees(function, node):
                            changed |= self._bind_arguments(function, node, callee)

    def _bind_target(self, function: _Function, target: ast.AST, services: set[str]) -> bool:
        if not services:
            return False
        if isinstance(target, ast.Name):
            slot = function.bound[target.id]
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and function.cls
        ):
            slot = self.class_attrs[(function.module, function.cls)][target.attr]
        else:
            return False
        before = len(slot)
        slot |= services
        return len(slot) != before

    def _bind_arguments(self, caller: _Function, call: ast.Call, callee: _Function) -> bool:
        changed = False
        pairs = list(zip(callee.params, call.args, strict=False))
        pairs += [(k.arg, k.value) for k in call.keywords if k.arg in callee.params]
        for param, argument in pairs:
            services = self.service_of(caller, argument)
            if services - callee.bound[param]:
                callee.bound[param] |= services
                changed = True
        return changed

    # -- what a role needs ---------------------------------------------------------------------------
    def reachable(self, entries: Iterable[str], excluded_modules: Iterable[str] = ()) -> list[_Function]:
        excluded = set(excluded_modules)
        todo = [f for f in self.functions if f.key in set(entries)]
        missing = set(entries) - {f.key for f in todo}
        if missing:
            raise KeyError(f"entry points not found: {sorted(missing)}")
        seen: dict[str, _Function] = {}
        while todo:
            function = todo.pop()
            if function.key in seen or function.module in excluded:
                continue
            seen[function.key] = function
            for node in ast.walk(function.node):
                if isinstance(node, ast.Call):
                    todo += self.callees(function, node)
                elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                    todo += self.callees(function, node)  # passed on as a callable (Thread target, ...)
        return list(seen.values())

    def needs(self, functions: Iterable[_Function]) -> Iterator[Need]:
        for function in functions:
            calls = {id(n.func): n for n in ast.walk(function.node) if isinstance(n, ast.Call)}
            for node in ast.walk(function.node):
                if not isinstance(node, ast.Attribute):
                    continue
                for service in self.service_of(function, node.value):
                    method = node.attr
                    if method in ("get_paginator", "get_waiter"):
                        call = calls.get(id(node))
                        if call and call.args and isinstance(call.args[0], ast.Constant):
                            method = str(call.args[0].value)
                    if service not in _OPERATIONS or method not in _OPERATIONS[service]:
                        continue
                    call = calls.get(id(node))
                    versioned = call is None or any(k.arg in (None, "VersionId") for k in call.keywords)
                    where = f"{function.module}:{node.lineno} {service}.{method}"
                    for action in iam_actions(service, method, versioned):
                        yield Need(action, where)

    def untyped(self, functions: Iterable[_Function]) -> list[str]:
        """``<receiver>.<AWS operation name>`` the scan cannot type (not ``self.``-methods of the code)."""
        found = []
        for function in functions:
            for node in ast.walk(function.node):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in _ANY_OPERATION
                    and not self.service_of(function, node.value)
                    and node.attr not in self.by_name
                ):
                    found.append(f"{function.module}:{node.lineno} {ast.unparse(node)}")
        return found


def _pairs(target: ast.AST, value: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """``a, b = x, y`` -> (a, x), (b, y); anything else one pair."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return list(zip(target.elts, value.elts, strict=True))
    return [(target, value)]


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = node.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]


def source_files(*folders: str, root: Path = REPO_ROOT) -> list[Path]:
    return sorted(
        p for folder in folders for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts
    )


# -- ASL integrations ------------------------------------------------------------------------------------
def _states(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine.get("States", {}).items():
        yield f"{path}{name}", state
        for nested in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
            if isinstance(nested, dict):
                yield from _states(nested, f"{path}{name}/")


def integration_needs(
    machine_name: str, definition: dict[str, Any], machine_arn: str, dynamic: dict[str, Any]
) -> Iterator[Need]:
    """What the machine's role needs for each service integration its states use.

    ``dynamic``: ``<state path>.<parameter>`` -> the resource(s) a ``.$`` (run-time) parameter may name;
    None: granted only under a template condition (the test says which), not checked here."""
    region_account = machine_arn.split(":")[3:5]

    def arn(service: str, rest: str) -> str:
        return f"arn:aws:{service}:{region_account[0]}:{region_account[1]}:{rest}"

    def parameter(where: str, state: dict[str, Any], key: str) -> str:
        params = state.get("Parameters", {})
        if key in params:
            return str(params[key])
        return dynamic[f"{where}.{key}"]

    def parameters(where: str, state: dict[str, Any], key: str) -> list[str]:
        params = state.get("Parameters", {})
        if key in params:
            return [str(params[key])]
        value = dynamic[f"{where}.{key}"]
        return value if isinstance(value, list) else [value]

    for where, state in _states(definition):
        here = f"{machine_name}:{where}"
        resource = state.get("Resource", "")
        if state.get("Type") == "Task" and resource.startswith("arn:aws:lambda:"):
            yield Need("lambda:InvokeFunction", here, resource)
        elif resource == "arn:aws:states:::lambda:invoke":
            yield Need("lambda:InvokeFunction", here, parameter(where, state, "FunctionName"))
        elif resource.startswith("arn:aws:states:::batch:submitJob"):
            for key in ("JobQueue", "JobDefinition"):
                for target in parameters(where, state, key):
                    yield Need("batch:SubmitJob", here, target)
            if resource.endswith(".sync"):
                yield Need("batch:DescribeJobs", here, "*")
                yield Need("batch:TerminateJob", here, arn("batch", "job/*"))
                for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
                    yield Need(action, here, arn("events", "rule/StepFunctionsGetEventsForBatchJobsRule"))
        elif resource.startswith("arn:aws:states:::sqs:sendMessage"):
            url = parameter(where, state, "QueueUrl")
            yield Need("sqs:SendMessage", here, arn("sqs", url.rsplit("/", 1)[-1]))
        elif resource.startswith("arn:aws:states:::states:startExecution"):
            target = parameter(where, state, "StateMachineArn")
            yield Need("states:StartExecution", here, target)
            if resource.endswith((".sync", ".sync:2")):
                executions = target.replace(":stateMachine:", ":execution:") + ":*"
                yield Need("states:DescribeExecution", here, executions)
                yield Need("states:StopExecution", here, executions)
                for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
                    yield Need(
                        action,
                        here,
                        arn("events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"),
                    )
        elif resource.startswith("arn:aws:states:::dynamodb:"):
            operation = resource.rsplit(":", 1)[-1]
            yield Need(
                f"dynamodb:{operation[0].upper()}{operation[1:]}",
                here,
                arn("dynamodb", f"table/{parameter(where, state, 'TableName')}"),
            )
        elif resource.startswith("arn:aws:states:::events:putEvents"):
            yield Need("events:PutEvents", here, dynamic[f"{where}.EventBusName"])
        elif resource.startswith("arn:aws:states:::"):
            raise ValueError(f"{here}: integration {resource} is not in the permission map yet")
        if state.get("Type") == "Map":
            yield from _map_needs(here, where, state, machine_arn, dynamic, parameter)


def _map_needs(
    here: str, where: str, state: dict[str, Any], machine_arn: str, dynamic: dict[str, Any], parameter: Any
) -> Iterator[Need]:
    """A Distributed Map: its reader, its writer and its child executions (Step Functions guide,
    "IAM policies for Distributed Map states")."""
    config = (state.get("ItemProcessor") or {}).get("ProcessorConfig", {})
    if config.get("Mode") != "DISTRIBUTED":
        return
    reader = state.get("ItemReader")
    bucket = _reader_value(where, reader, "Bucket", dynamic) if reader else None
    if reader and bucket is not None:
        if reader["Resource"] == "arn:aws:states:::s3:listObjectsV2":
            yield Need("s3:ListBucket", here, f"arn:aws:s3:::{bucket}")
        elif reader["Resource"] == "arn:aws:states:::s3:getObject":
            yield Need("s3:GetObject", here, f"arn:aws:s3:::{bucket}/*")
        else:
            raise ValueError(f"{here}: ItemReader {reader['Resource']} is not in the permission map yet")
    writer = state.get("ResultWriter")
    if writer:
        params = writer["Parameters"]
        objects = f"arn:aws:s3:::{params['Bucket']}/{params.get('Prefix', '')}*"
        for action in (
            "s3:PutObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
        ):
            yield Need(action, here, objects)
    children = machine_arn.replace(":stateMachine:", ":execution:") + f"/{state.get('Label', '')}:*"
    yield Need("states:StartExecution", here, machine_arn)
    yield Need("states:DescribeExecution", here, children)
    yield Need("states:StopExecution", here, children)


def _reader_value(where: str, reader: dict[str, Any], key: str, dynamic: dict[str, Any]) -> str | None:
    params = reader.get("Parameters", {})
    return str(params[key]) if key in params else dynamic[f"{where}.ItemReader.{key}"]
