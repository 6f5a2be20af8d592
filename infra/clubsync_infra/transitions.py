"""State transitions of one full sync execution, counted from a state machine definition (the
Amazon States Language JSON that CDK synthesizes), as Step Functions bills them: every state
entered is one transition (Standard workflows, $0.025 per 1,000 in us-east-1).

`night_transitions` walks the path of a night where every type ends on its first run; each
paused run (a type's `continuation`) adds the states of one more round of its loop, which
`continuation_transitions` counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

State = Mapping[str, Any]


def _walk(states: Mapping[str, State], start: str, paused: Mapping[str, int]) -> int:
    """States entered from `start` to the end of its branch. `paused` says how many times a
    Choice takes its first (paused) rule before it takes its default, by the Choice's name."""
    taken = dict(paused)
    count = 0
    name: str | None = start
    while name is not None:
        state = states[name]
        count += 1
        kind = state["Type"]
        if kind == "Parallel":
            count += sum(
                _walk(branch["States"], branch["StartAt"], paused) for branch in state["Branches"]
            )
        if kind == "Choice":
            if taken.get(name, 0) > 0:
                taken[name] -= 1
                name = state["Choices"][0]["Next"]
            else:
                name = state["Default"]
            continue
        if state.get("End") or kind in {"Succeed", "Fail"}:
            return count
        name = state["Next"]
    return count


def night_transitions(
    definition: Mapping[str, Any], paused: Mapping[str, int] | None = None
) -> int:
    """Transitions of one execution where no Task fails and each Choice named in `paused`
    loops that many times."""
    return _walk(definition["States"], definition["StartAt"], paused or {})


def choices(definition: Mapping[str, Any]) -> list[str]:
    """Every Choice state's name, in any branch."""
    found: list[str] = []

    def visit(states: Mapping[str, State]) -> None:
        for name, state in states.items():
            if state["Type"] == "Choice":
                found.append(name)
            for branch in state.get("Branches", []):
                visit(branch["States"])

    visit(definition["States"])
    return found


def continuation_transitions(definition: Mapping[str, Any], choice: str) -> int:
    """What one paused run of the type whose loop `choice` closes adds to a night."""
    return night_transitions(definition, {choice: 1}) - night_transitions(definition)


def definition_of(template: Mapping[str, Any]) -> dict[str, Any]:
    """The definition of the template's one state machine, with CloudFormation references
    (function ARNs) replaced by a placeholder string."""
    import json

    machines = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    if len(machines) != 1:
        raise ValueError(f"expected one state machine in the template, found {len(machines)}")
    body = machines[0]["Properties"]["DefinitionString"]
    if isinstance(body, dict):
        _, parts = body["Fn::Join"]
        body = "".join(part if isinstance(part, str) else "REF" for part in parts)
    parsed: dict[str, Any] = json.loads(body)
    return parsed
