"""Checks a drill's method makes on what the fault does to clients, beyond the SLIs.

A probe of the method (e.g. "were the RPCs in flight at SIGTERM completed?", "does the service
answer 503 problem+json while PostgreSQL is down?") judges what it observed and leaves one
`MethodCheck` in the run directory (checks/<name>.json); when it did not hold, the probe also
fails its activity with the summary, which fails the verdict (as any failed activity does). The
runner reads the checks back and the report lists what each one saw, held or not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from threadline_chaos import run_dir

CHECKS_DIR = "checks"


@dataclass(frozen=True)
class MethodCheck:
    """What one method probe observed and whether the drill's promise held."""

    name: str
    held: bool
    summary: str  # one sentence with the numbers; the verdict's reason when it did not hold
    # What it observed, (what, value) rows for the report, in the order they were taken.
    observations: tuple[tuple[str, str], ...] = ()


def record(check: MethodCheck) -> MethodCheck:
    """Leave the check in this run's directory for the verdict; returned for the journal."""
    directory = run_dir.current() / CHECKS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{check.name}.json").write_text(json.dumps(asdict(check), indent=2) + "\n")
    return check


def read_all(run_directory: Path) -> list[MethodCheck]:
    """Every check a run's probes left, by name; none when the method recorded none."""
    checks = []
    for path in sorted((run_directory / CHECKS_DIR).glob("*.json")):
        data = json.loads(path.read_text())
        checks.append(
            MethodCheck(
                name=str(data["name"]),
                held=bool(data["held"]),
                summary=str(data["summary"]),
                observations=tuple((str(k), str(v)) for k, v in data.get("observations", ())),
            )
        )
    return checks
