"""``tessera acl explain`` and ``tessera acl dry-run``: why a user may see something, and what a change
would do. Registered on the ``acl`` app by ``api.cli_acl``; like the REST routes, one call each to
``acl.review.AccessReview``, whose answers are printed as tables or as the REST API's JSON.
"""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from acl.policies import Op, RuleOp
from acl.review import Target, TargetKind, match_text
from acl.rules import Action, check_name, csv_rows, parse_rule
from api.cli_common import one_line_errors, out, read_text_file, services_for
from api.schemas_admin import DryRunIn, DryRunOut, ExplainOut
from core.errors import InvalidInputError
from core.types import TenantId, tenant_id

TENANT = typer.Option(..., "--tenant")


@one_line_errors
def explain(
    tenant: str = TENANT,
    user: str = typer.Option(..., "--user"),
    doc: str | None = typer.Option(None, "--doc", help="a document: its current version's labels"),
    chunk: str | None = typer.Option(None, "--chunk", help="a chunk id, as search hits give it"),
    label: str | None = typer.Option(None, "--label", help="a label or another policy object"),
    action: str = typer.Option("read", "--action"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Why USER may or may not act on a document, a chunk or a label: the rules and role paths."""
    targets = [
        (k, v)
        for k, v in ((TargetKind.DOCUMENT, doc), (TargetKind.CHUNK, chunk), (TargetKind.LABEL, label))
        if v
    ]
    if len(targets) != 1:
        raise InvalidInputError("give exactly one of --doc, --chunk and --label")
    kind, name = targets[0]
    with services_for() as services:
        answer = services.review.explain(
            tenant_id(tenant), check_name(user, "--user"), Target(kind, name), _action(action)
        )
    if as_json:
        out.print_json(ExplainOut.of(answer).model_dump_json())
        return
    out.print(
        ("[green]allowed[/green]: " if answer.allowed else "[red]denied[/red]: ") + escape(answer.decision),
        highlight=False,
        soft_wrap=True,
    )
    table = Table("label", "allowed", "matching rules (denies first)")
    for verdict in answer.verdicts:
        matches = "\n".join(match_text(m) for m in verdict.explanation.matches) or "none"
        table.add_row(verdict.label, "yes" if verdict.explanation.allowed else "no", matches)
    out.print(table)
    out.print(f"policy version {answer.version}", highlight=False)


def _action(raw: str) -> Action:
    try:
        return Action(raw)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise InvalidInputError(f"--action must be one of {known}, got {raw!r}") from None


@one_line_errors
def dry_run(
    changes: Path = typer.Argument(
        ...,
        help="JSON {add: {rules, roles}, remove: {rules, roles}} as the REST API takes, or casbin CSV "
        "lines to add (a line starting with '-,' removes the rule after it)",
    ),
    tenant: str = TENANT,
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="changed users to list"),
    examples: int = typer.Option(5, "--examples", min=0, max=100, help="document ids per user"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Who would gain or lose read access to which documents; changes nothing."""
    checked = tenant_id(tenant)
    ops = read_changes(changes, checked)
    with services_for() as services:
        run = services.review.dry_run(checked, ops, limit=limit, examples=examples)
    if as_json:
        out.print_json(DryRunOut.of(run).model_dump_json())
        return
    table = Table("user", "gains", "loses", "e.g. gained", "e.g. lost")
    for impact in run.impacts:
        table.add_row(
            impact.user,
            str(impact.gained),
            str(impact.lost),
            escape(", ".join(impact.gained_examples)),
            escape(", ".join(impact.lost_examples)),
        )
    out.print(table)
    out.print(
        f"dry run on policy version {run.version}: {run.users_changed} of {run.users_checked} users "
        f"change; {run.documents_gained} reads gained, {run.documents_lost} lost, over "
        f"{run.documents} documents; nothing was changed",
        highlight=False,
        soft_wrap=True,
    )


def read_changes(path: Path, tenant: TenantId) -> list[RuleOp]:
    """A dry run's changes from a file: the REST body as JSON, or casbin CSV lines (``-,`` removes)."""
    text = read_text_file(path)
    if path.suffix.lower() == ".json":
        try:
            return DryRunIn.model_validate_json(text).ops(tenant)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInputError(f"{path}: {where}: {first['msg']}") from None
    ops: list[RuleOp] = []
    for number, row in csv_rows(text):
        removes = row[0].strip() == "-"
        fields = row[1:] if row[0].strip() in ("-", "+") else row
        rule = parse_rule(fields, tenant, where=f"{path}: line {number}")
        ops.append(RuleOp(Op.REMOVE if removes else Op.ADD, rule))
    return ops
