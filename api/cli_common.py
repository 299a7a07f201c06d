"""What every CLI command shares: consoles, one-line errors, the runtime, the ingest progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from acl.enforcer import AccessControl, Decision
from acl.filters import WriteGrant
from api.runtime import AccessServices, Runtime, build_access_services, build_runtime
from core.errors import InvalidInputError, TesseraError
from core.settings import Settings, get_settings
from core.types import TenantId, tenant_id
from ingest.document import Source
from ingest.jobs import JobSummary
from ingest.pipeline import ItemOutcome
from ingest.sources import BadSource

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Typed errors become ``error: <detail>`` on stderr and exit status 1, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TesseraError as exc:
            err.print(f"[red]error:[/red] {exc.detail}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def services_for() -> Iterator[AccessServices]:
    """Access control without the index (keys and policies work while a server owns it)."""
    services = build_access_services(get_settings())
    try:
        yield services
    finally:
        services.close()


def read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot be read ({exc})") from None


def runtime_for(settings: Settings | None = None, owner: str = "tessera cli") -> Runtime:
    return build_runtime(settings or get_settings(), owner=owner)


AS_USER_HELP = (
    "act as this user, with what the tenant's policy grants them (default: the operator, who may do all)"
)


def decision_of(access: AccessControl, tenant: str, as_user: str | None) -> Decision:
    """The CLI is the operator's tool on the machine itself: by default it acts with every permission
    in the tenant; ``--as-user`` shows what that user may see and do, by the API's own decision."""
    checked = tenant_id(tenant)
    return Decision.operator(checked) if as_user is None else access.decide(checked, as_user)


def acting_as(runtime: Runtime, tenant: str, as_user: str | None) -> Decision:
    return decision_of(runtime.access, tenant, as_user)


def run_with_progress(
    runtime: Runtime,
    job_id: str,
    tenant: TenantId,
    items: Sequence[Source | BadSource],
    labels: tuple[str, ...],
    grant: WriteGrant,
) -> JobSummary:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("ingesting", total=len(items))

        def advance(outcome: ItemOutcome) -> None:
            progress.advance(task)

        return runtime.jobs.run(job_id, tenant, items, labels, grant, on_item=advance)
