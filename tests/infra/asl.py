"""A small Amazon States Language interpreter for the states the full sync uses (Task, Pass,
Choice with IsPresent, Parallel, Succeed), so a test can run the synthesized definition with
fake Lambda functions: what each function receives, what the summary receives, and how many
state transitions Step Functions would bill (every state entered, every retry).

Only what the definition uses is implemented; anything else raises, so a new construct in the
definition shows up here instead of being silently misread.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (function logical id, payload) -> the function's answer; raise TaskError for an error.
Invoke = Callable[[str, Any], Any]


class TaskError(Exception):
    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


@dataclass
class Execution:
    invoke: Invoke
    transitions: int = 0
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def run(self, definition: Mapping[str, Any], data: Any) -> Any:
        return self._branch(definition, copy.deepcopy(data))

    # -- paths -----------------------------------------------------------------------------
    @staticmethod
    def _steps(path: str) -> list[str | int]:
        if not path.startswith("$"):
            raise ValueError(f"not a path: {path}")
        return [
            int(index) if index else name
            for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path[1:])
        ]

    def get(self, data: Any, path: str) -> Any:
        value = data
        for step in self._steps(path):
            if isinstance(step, int) or (isinstance(value, dict) and step in value):
                value = value[step]
            else:
                raise KeyError(f"States.Runtime: {path} not found")
        return value

    def present(self, data: Any, path: str) -> bool:
        try:
            self.get(data, path)
        except (KeyError, IndexError, TypeError):
            return False
        return True

    def put(self, data: Any, path: str | None, result: Any) -> Any:
        if path is None or path == "$":
            return result
        steps = self._steps(path)
        target = data
        for step in steps[:-1]:
            target = target.setdefault(step, {})
        target[steps[-1]] = result
        return data

    def template(self, spec: Any, data: Any) -> Any:
        if isinstance(spec, dict):
            built = {}
            for key, value in spec.items():
                if key.endswith(".$"):
                    built[key[:-2]] = self._expression(value, data)
                else:
                    built[key] = self.template(value, data)
            return built
        if isinstance(spec, list):
            return [self.template(value, data) for value in spec]
        return spec

    def _expression(self, text: str, data: Any) -> Any:
        if text.startswith("States.Array(") and text.endswith(")"):
            inner = text[len("States.Array(") : -1]
            return [self.get(data, part.strip()) for part in inner.split(",")]
        if text.startswith("States."):
            raise NotImplementedError(text)
        return copy.deepcopy(self.get(data, text))

    # -- states ----------------------------------------------------------------------------
    def _branch(self, machine: Mapping[str, Any], data: Any) -> Any:
        name: str | None = machine["StartAt"]
        while name is not None:
            state = machine["States"][name]
            self.transitions += 1
            data, name = self._state(state, data)
        return data

    def _state(self, state: Mapping[str, Any], data: Any) -> tuple[Any, str | None]:
        kind = state["Type"]
        if kind == "Choice":
            for rule in state["Choices"]:
                if set(rule) != {"Variable", "IsPresent", "Next"}:
                    raise NotImplementedError(rule)
                if self.present(data, rule["Variable"]) is rule["IsPresent"]:
                    return data, rule["Next"]
            if "Default" not in state:
                raise TaskError("States.NoChoiceMatched")
            return data, state["Default"]
        if kind == "Succeed":
            return data, None
        effective = self.get(data, state["InputPath"]) if "InputPath" in state else data
        if "Parameters" in state:
            effective = self.template(state["Parameters"], effective)
        if kind == "Pass":
            result = effective
        elif kind == "Task":
            try:
                result = self._task(state, effective)
            except TaskError as error:
                return self._catch(state, data, error)
        elif kind == "Parallel":
            result = [
                self._branch(branch, copy.deepcopy(effective)) for branch in state["Branches"]
            ]
        else:
            raise NotImplementedError(kind)
        if "ResultSelector" in state:
            result = self.template(state["ResultSelector"], result)
        data = self.put(data, state.get("ResultPath", "$"), result)
        if "OutputPath" in state:
            data = self.get(data, state["OutputPath"])
        return data, (None if state.get("End") else state["Next"])

    def _task(self, state: Mapping[str, Any], payload: dict[str, Any]) -> Any:
        if not state["Resource"].endswith(":states:::lambda:invoke"):
            raise NotImplementedError(state["Resource"])
        attempts: dict[int, int] = {}
        while True:
            function = payload["FunctionName"]
            body = payload.get("Payload")
            self.calls.append((function, copy.deepcopy(body)))
            try:
                return {"Payload": self.invoke(function, body), "StatusCode": 200}
            except TaskError as error:
                retry = self._matching(state.get("Retry", []), error.error)
                if retry is None:
                    raise
                index, rule = retry
                attempts[index] = attempts.get(index, 0) + 1
                if attempts[index] > rule.get("MaxAttempts", 3):
                    raise
                self.transitions += 1  # a retry is billed as a transition

    @staticmethod
    def _matching(
        rules: list[Mapping[str, Any]], error: str
    ) -> tuple[int, Mapping[str, Any]] | None:
        for index, rule in enumerate(rules):
            names = rule["ErrorEquals"]
            if error in names or "States.ALL" in names:
                return index, rule
            if "States.TaskFailed" in names and not error.startswith("States."):
                return index, rule
        return None

    def _catch(
        self, state: Mapping[str, Any], data: Any, error: TaskError
    ) -> tuple[Any, str | None]:
        caught = self._matching(state.get("Catch", []), error.error)
        if caught is None:
            raise error
        _, rule = caught
        details = {"Error": error.error, "Cause": error.cause}
        return self.put(data, rule.get("ResultPath", "$"), details), rule["Next"]
