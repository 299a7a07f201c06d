"""Workflow contracts load strictly, and a bad one is one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from generation.workflows import OutputKind, load_workflow, load_workflows

SHIPPED = Path(__file__).resolve().parents[2] / "workflows"


def test_the_shipped_workflows_load() -> None:
    workflows = load_workflows(SHIPPED)
    assert {"support-answer", "hr-policy-qa"} <= set(workflows)
    hr = workflows["hr-policy-qa"]
    assert hr.output.kind == OutputKind.JSON and hr.output.json_schema is not None
    assert all(len(d.examples) >= 3 for w in workflows.values() for d in w.disallowed)


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: w\nprompt: {version: w@1, system: hi}\nbudgets: {max_usd: 0}\n", "budgets.max_usd"),
        (
            "name: w\nprompt: {version: w@1, system: hi}\nbudget: {}\n",
            "budget: Extra inputs are not permitted",
        ),
        ("name: w\nprompt: {version: one, system: hi}\n", "prompt.version: must look like 'name@number'"),
        (
            "name: w\nprompt: {version: w@1, system: hi}\noutput: {kind: json}\n",
            "output: a json output needs a schema",
        ),
        ("name: other\nprompt: {version: w@1, system: hi}\n", "name: must equal the file name 'w'"),
        ("name: w\nprompt: [unclosed\n", "cannot read the workflow"),
        ("- just a list\n", "a workflow is a mapping"),
    ],
)
def test_a_bad_workflow_names_its_file_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "w", body)
    with pytest.raises(ConfigurationError) as caught:
        load_workflow(path)
    assert str(path) in caught.value.detail and message in caught.value.detail
