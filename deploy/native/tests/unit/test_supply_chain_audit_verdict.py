"""`make audit` tells clean, vulnerable and not checked apart from pip-audit's JSON report."""

from __future__ import annotations

from typing import Any

from threadline_native.supply_chain.audit import Status, judge


def checked(name: str, version: str, *vulns: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "version": version, "vulns": list(vulns)}


def skipped(name: str) -> dict[str, Any]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI: {name} (1.0)"}


def test_every_package_checked_and_none_vulnerable_is_clean() -> None:
    verdict = judge(
        {"dependencies": [checked("fastapi", "0.1"), checked("redis", "8.1")]}, failure=""
    )

    assert verdict.status is Status.CLEAN
    assert verdict.lines == (
        "audited 2 of 2 locked packages against pypi: 0 known vulnerabilities in 0 packages",
    )


def test_vulnerabilities_are_listed_with_their_aliases_and_fixes() -> None:
    vuln = {"id": "PYSEC-2024-1", "aliases": ["CVE-2024-1"], "fix_versions": ["2.32.0"]}
    report = {"dependencies": [checked("requests", "2.31.0", vuln), checked("idna", "3.7")]}

    verdict = judge(report, failure="")

    assert verdict.status is Status.VULNERABLE
    assert "requests 2.31.0: PYSEC-2024-1 (CVE-2024-1); fixed in 2.32.0" in verdict.lines[1]


def test_vulnerabilities_win_over_packages_that_were_not_checked() -> None:
    vuln = {"id": "GHSA-x", "aliases": [], "fix_versions": []}
    report = {"dependencies": [checked("requests", "2.31.0", vuln), skipped("private-pkg")]}

    verdict = judge(report, failure="")

    assert verdict.status is Status.VULNERABLE
    assert verdict.lines[-1].startswith("not checked: 1 of 2 packages (private-pkg)")


def test_a_service_that_answers_for_no_package_is_not_a_clean_result() -> None:
    # pip-audit exits 0 and says "No known vulnerabilities found" in this case.
    verdict = judge({"dependencies": [skipped("aiokafka"), skipped("anyio")]}, failure="")

    assert verdict.status is Status.NOT_CHECKED
    assert verdict.lines[-1].startswith("not checked: pypi had an answer for none of the 2")


def test_some_packages_not_checked_is_not_clean_either() -> None:
    verdict = judge({"dependencies": [checked("anyio", "4.0"), skipped("private-pkg")]}, failure="")

    assert verdict.status is Status.NOT_CHECKED


def test_no_report_at_all_says_why() -> None:
    verdict = judge(None, failure="requests.exceptions.ProxyError: Unable to connect to proxy")

    assert verdict.status is Status.NOT_CHECKED
    assert verdict.lines == (
        "not checked: requests.exceptions.ProxyError: Unable to connect to proxy",
    )


def test_the_exit_statuses_are_distinct() -> None:
    assert (Status.CLEAN, Status.VULNERABLE, Status.NOT_CHECKED) == (0, 1, 3)
