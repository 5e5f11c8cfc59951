"""`make audit`: pip-audit over every package uv.lock pins, against PyPI's vulnerability data.

The requirements are exported from uv.lock with their hashes, so pip-audit resolves nothing and
audits exactly the locked versions (`--require-hashes --disable-pip`). Exit status:

    0  clean: every locked package was checked and none has a known vulnerability
    1  vulnerable: the vulnerabilities are listed, with the versions that fix them
    3  not checked: the vulnerability service could not be asked, or did not answer for some
       packages; "not checked: <why>" says which

pip-audit itself exits 0 when it could check nothing (every package "skipped") and 1 both for
vulnerabilities and for a service it cannot reach; the distinction is made here, from its JSON
report, so CI can tell "clean" from "not checked".
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from threadline_native.paths import find_project_root
from threadline_native.supply_chain.workspace import SupplyChainError, run_uv

SERVICE = "pypi"
# Everything the workspace locks, dev tools included: a vulnerable test tool runs on every
# developer's machine and in CI. Workspace members are ours, not on PyPI.
EXPORT_ARGS = (
    "--frozen",
    "--all-packages",
    "--all-groups",
    "--no-emit-workspace",
    "--format",
    "requirements-txt",
)
_LONGEST_REASON = 300


class Status(IntEnum):
    CLEAN = 0
    VULNERABLE = 1
    NOT_CHECKED = 3


@dataclass(frozen=True)
class Verdict:
    status: Status
    lines: tuple[str, ...]


def export_locked_requirements(root: Path, target: Path) -> Path:
    """uv.lock's pins as a requirements file, every line with its hashes."""
    run_uv(root, "export", *EXPORT_ARGS, "--output-file", str(target), "--quiet")
    return target


def run_pip_audit(
    requirements: Path, *, report: Path, cache_dir: Path, environment: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--require-hashes",
            "--disable-pip",
            "--vulnerability-service",
            SERVICE,
            "--format",
            "json",
            "--output",
            str(report),
            "--cache-dir",
            str(cache_dir),
            "--progress-spinner",
            "off",
        ],
        env=dict(environment),
        capture_output=True,
        text=True,
        check=False,
    )


def judge(report: Mapping[str, Any] | None, *, failure: str) -> Verdict:
    """The verdict from pip-audit's JSON report; `failure` says why there is none."""
    if report is None:
        return Verdict(
            Status.NOT_CHECKED, (f"not checked: {failure or 'pip-audit wrote no report'}",)
        )
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    lines = []
    for dependency in vulnerable:
        for vulnerability in dependency["vulns"]:
            fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed version yet"
            aliases = ", ".join(vulnerability.get("aliases", []))
            lines.append(
                f"  {dependency['name']} {dependency['version']}: {vulnerability['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in {fixes}"
            )
    count = sum(len(d["vulns"]) for d in vulnerable)
    found = f": {count} known vulnerabilities in {len(vulnerable)} packages" if audited else ""
    lines.insert(
        0, f"audited {audited} of {len(dependencies)} locked packages against {SERVICE}{found}"
    )
    if skipped and len(skipped) == len(dependencies):
        lines.append(
            f"not checked: {SERVICE} had an answer for none of the {len(dependencies)} locked "
            f"packages (pip-audit: {_shorten(skipped[0]['skip_reason'])})"
        )
    elif skipped:
        names = ", ".join(d["name"] for d in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        lines.append(
            f"not checked: {len(skipped)} of {len(dependencies)} packages ({names}{more}); "
            f"pip-audit: {_shorten(skipped[0]['skip_reason'])}"
        )
    if vulnerable:
        return Verdict(Status.VULNERABLE, tuple(lines))
    if skipped or not dependencies:
        if not dependencies:
            lines.append("not checked: the exported requirements named no package")
        return Verdict(Status.NOT_CHECKED, tuple(lines))
    return Verdict(Status.CLEAN, tuple(lines))


def audit(root: Path, *, cache_dir: Path, environment: Mapping[str, str] | None = None) -> Verdict:
    """Export uv.lock, run pip-audit over it, and judge what it reported."""
    env = dict(os.environ if environment is None else environment)
    # pip-audit speaks HTTPS through requests, which trusts certifi's roots only; the system
    # store also holds a TLS-inspecting proxy's CA (the Makefile's UV_SYSTEM_CERTS, for uv).
    if "REQUESTS_CA_BUNDLE" not in env and (system_store := ssl.get_default_verify_paths().cafile):
        env["REQUESTS_CA_BUNDLE"] = system_store
    with tempfile.TemporaryDirectory(prefix="threadline-audit-") as scratch:
        requirements = export_locked_requirements(root, Path(scratch) / "requirements.txt")
        report_file = Path(scratch) / "pip-audit.json"
        done = run_pip_audit(requirements, report=report_file, cache_dir=cache_dir, environment=env)
        report = _read_report(report_file)
    if report is None or done.returncode not in {0, 1}:
        return judge(None, failure=_last_line(done.stderr))
    return judge(report, failure="")


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _shorten(lines[-1]) if lines else ""


def _shorten(text: str) -> str:
    return text if len(text) <= _LONGEST_REASON else text[: _LONGEST_REASON - 1] + "…"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audit", description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, help="pip-audit's HTTP cache")
    args = parser.parse_args(argv)
    root = find_project_root()
    cache_dir = args.cache_dir or root / ".threadline" / "cache" / "pip-audit"
    try:
        verdict = audit(root, cache_dir=cache_dir)
    except SupplyChainError as error:
        verdict = judge(None, failure=str(error))
    print("\n".join(verdict.lines))
    return int(verdict.status)


if __name__ == "__main__":
    raise SystemExit(main())
