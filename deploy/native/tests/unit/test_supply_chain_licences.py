"""The licence review refuses strong copyleft and unknown licences in what an image ships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from threadline_native.supply_chain.licences import Kind, release_blockers, review


def no_classifiers(_: str) -> Sequence[str]:
    return ()


def component(name: str, *licenses: dict[str, Any], scope: str = "required") -> dict[str, Any]:
    return {"name": name, "version": "1.0", "scope": scope, "licenses": list(licenses)}


def spdx(licence_id: str) -> dict[str, Any]:
    return {"license": {"id": licence_id, "acknowledgement": "declared"}}


def named(name: str) -> dict[str, Any]:
    return {"license": {"name": name, "acknowledgement": "declared"}}


def expression(text: str) -> dict[str, Any]:
    return {"expression": text, "acknowledgement": "declared"}


def licence_file(text: str) -> dict[str, Any]:
    return {"license": {"name": "declared license file: LICENSE", "text": {"content": text}}}


def kind_of(*licenses: dict[str, Any]) -> Kind:
    [finding] = review(
        {"components": [component("pkg", *licenses)]}, classifiers_for=no_classifiers
    )
    return finding.kind


def test_an_agpl_runtime_component_blocks_the_release_and_is_named() -> None:
    bom = {"components": [component("fastapi", spdx("MIT")), component("evil", spdx("AGPL-3.0"))]}

    blockers = release_blockers(bom, classifiers_for=no_classifiers)

    assert [(b.name, b.kind) for b in blockers] == [("evil", Kind.STRONG_COPYLEFT)]
    assert str(blockers[0]) == "evil 1.0: AGPL-3.0 (strong copyleft, from sbom)"


@pytest.mark.parametrize(
    "licence",
    [
        spdx("GPL-2.0-only"),
        spdx("GPL-3.0-or-later"),
        spdx("AGPL-3.0-only"),
        spdx("SSPL-1.0"),
        named("GNU General Public License v3 (GPLv3)"),
        named("GNU Affero General Public License v3 or later (AGPLv3+)"),
        named("Server Side Public License"),
        expression("MIT AND GPL-2.0-only"),
        expression("GPL-2.0-or-later WITH Classpath-exception-2.0"),
        licence_file("                    GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007"),
    ],
    ids=str,
)
def test_gpl_agpl_and_sspl_are_strong_copyleft_however_they_are_written(
    licence: dict[str, Any],
) -> None:
    assert kind_of(licence) is Kind.STRONG_COPYLEFT


@pytest.mark.parametrize(
    "licence",
    [
        spdx("LGPL-2.1-or-later"),
        named("GNU Library or Lesser General Public License (LGPL)"),
        named("GNU Lesser General Public License v3 (LGPLv3)"),
        spdx("MPL-2.0"),
        expression("MPL-2.0 AND (Apache-2.0 OR MIT)"),
        licence_file("GNU LESSER GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007"),
    ],
    ids=str,
)
def test_lgpl_and_mpl_are_weak_copyleft_reported_but_not_refused(
    licence: dict[str, Any],
) -> None:
    assert kind_of(licence) is Kind.WEAK_COPYLEFT
    bom = {"components": [component("pkg", licence)]}
    assert release_blockers(bom, classifiers_for=no_classifiers) == []


def test_a_choice_of_licences_is_judged_by_the_laxer_side_and_a_conjunction_by_the_stricter() -> (
    None
):
    assert kind_of(expression("MIT OR GPL-3.0-only")) is Kind.NOT_COPYLEFT
    assert kind_of(expression("(MIT OR GPL-3.0-only) AND LGPL-2.1-only")) is Kind.WEAK_COPYLEFT
    assert kind_of(expression("Apache-2.0 AND (GPL-2.0-only OR AGPL-3.0-only)")) is (
        Kind.STRONG_COPYLEFT
    )


def test_a_malformed_expression_is_judged_by_its_words() -> None:
    assert kind_of(expression("MIT AND (GPL-3.0")) is Kind.STRONG_COPYLEFT


def test_separate_entries_all_apply_so_the_strictest_counts() -> None:
    assert kind_of(spdx("MIT"), named("GNU General Public License (GPL)")) is Kind.STRONG_COPYLEFT


def test_a_component_without_licences_falls_back_to_its_trove_classifiers() -> None:
    bom = {"components": [component("old-style")]}

    def classifiers(name: str) -> Sequence[str]:
        assert name == "old-style"
        return ("GNU Affero General Public License v3",)

    [finding] = release_blockers(bom, classifiers_for=classifiers)
    assert finding.source == "classifiers"
    assert finding.kind is Kind.STRONG_COPYLEFT


def test_a_component_with_no_licence_anywhere_is_unknown_and_listed_not_passed() -> None:
    bom = {"components": [component("mystery")]}

    [finding] = release_blockers(bom, classifiers_for=no_classifiers)

    assert finding.kind is Kind.UNKNOWN
    assert str(finding) == "mystery 1.0: no licence declared (unknown, from none)"


def test_a_licence_file_whose_title_names_no_licence_is_unknown() -> None:
    assert kind_of(licence_file("The MIT License (MIT)\n\nCopyright (c) 2023")) is (
        Kind.NOT_COPYLEFT
    )
    assert kind_of(licence_file("Copyright (c) 2023 Someone\n\nAll rights reserved.")) is (
        Kind.UNKNOWN
    )


def test_dev_tools_are_not_shipped_so_not_reviewed() -> None:
    bom = {"components": [component("dev-tool", spdx("AGPL-3.0-only"), scope="excluded")]}

    assert release_blockers(bom, classifiers_for=no_classifiers) == []
    [dev_tool] = review(bom, classifiers_for=no_classifiers, excluded=True)
    assert dev_tool.kind is Kind.STRONG_COPYLEFT


def test_permissive_licences_pass() -> None:
    for licence in (
        spdx("MIT"),
        spdx("Apache-2.0"),
        named("3-Clause BSD License"),
        spdx("PSF-2.0"),
    ):
        assert kind_of(licence) is Kind.NOT_COPYLEFT
