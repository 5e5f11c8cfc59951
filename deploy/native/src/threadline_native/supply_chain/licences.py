"""Which licences an SBOM's runtime components carry, and which of them we cannot ship.

Read from each CycloneDX component's `licenses` (SPDX id, SPDX expression, free-text name, or
an attached licence file, judged by its title); a component without any falls back to the
installed package's `License ::` trove classifiers, and one with neither is UNKNOWN: listed, and
refused like a copyleft one, because it could be. So is a licence file whose title names none.

What is refused (STRONG_COPYLEFT): GPL, AGPL and SSPL. Importing a GPL package makes the service
a work based on it, and AGPL and SSPL reach users over the network: any of them would put the
services' own code under that licence.

What is reported but allowed (WEAK_COPYLEFT): LGPL, MPL, EPL, CDDL. Their copyleft stops at the
library's own files. The images install Python packages unmodified, as separate files that a
recipient can replace, which is the LGPL's condition for combining it with other code; what we
still owe is the notice and the library's source on request, and the SBOM is where that starts.

Dev tools are not shipped, so components with scope "excluded" are not reviewed. An expression
is read as SPDX means it: `A OR B` lets us choose the laxer, `A AND B` binds us to both, and
`X WITH exception` is still judged as X (an exception can only relax it; a person decides).
Several separate licence entries on one component are read as all applying, the strict way.
"""

from __future__ import annotations

import base64
import importlib.metadata
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Kind(IntEnum):
    """How far a licence's copyleft reaches; a higher value is stricter."""

    NOT_COPYLEFT = 0
    WEAK_COPYLEFT = 1
    STRONG_COPYLEFT = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


# Case-insensitive; `\b` keeps "LGPL" from reading as "GPL", and "GNU Lesser General Public"
# does not contain "GNU General Public".
_STRONG = re.compile(
    r"\bA?GPL|GNU (?:Affero )?General Public|\bSSPL\b|Server Side Public", re.IGNORECASE
)
_WEAK = re.compile(
    r"\bLGPL|GNU (?:Library|Lesser)|\bMPL\b|Mozilla Public|\bEPL\b|Eclipse Public|\bCDDL\b"
    r"|Common Development and Distribution",
    re.IGNORECASE,
)
# A licence file's title names a licence (else it is judged UNKNOWN): "The MIT License (MIT)",
# "Apache License", "BSD 3-Clause License"; a bare "Copyright (c) ..." does not.
_NAMES_A_LICENCE = re.compile(r"\blicen[cs]e\b|\bMIT\b|\bBSD\b|\bISC\b", re.IGNORECASE)
_TROVE_PREFIX = re.compile(r"^License :: (?:OSI Approved :: )?")
_OSI_APPROVED = "License :: OSI Approved"


@dataclass(frozen=True)
class Finding:
    """One component's licences, where they were read, and how far they reach."""

    name: str
    version: str
    licences: tuple[str, ...]
    source: str  # "sbom", "classifiers" or "none"
    kind: Kind

    @property
    def blocks_release(self) -> bool:
        return self.kind in {Kind.STRONG_COPYLEFT, Kind.UNKNOWN}

    def __str__(self) -> str:
        declared = " | ".join(self.licences) or "no licence declared"
        return f"{self.name} {self.version}: {declared} ({self.kind.label}, from {self.source})"


def installed_licence_classifiers(name: str) -> tuple[str, ...]:
    """The `License ::` trove classifiers of the installed distribution `name`, shortened."""
    try:
        classifiers = importlib.metadata.distribution(name).metadata.get_all("Classifier") or []
    except importlib.metadata.PackageNotFoundError:
        return ()
    # A bare "License :: OSI Approved" names no licence.
    naming = (c for c in classifiers if c.startswith("License :: ") and c != _OSI_APPROVED)
    return tuple(_TROVE_PREFIX.sub("", c) for c in naming)


def review(
    bom: Mapping[str, Any],
    *,
    classifiers_for: Callable[[str], Sequence[str]],
    excluded: bool = False,
) -> list[Finding]:
    """A finding per component an image ships (scope not "excluded"); per other one if excluded."""
    findings = []
    for component in bom.get("components", []):
        if (component.get("scope") == "excluded") != excluded:
            continue
        licences, source = declared_licences(component), "sbom"
        if not licences:
            classifiers = classifiers_for(component["name"])
            licences, source = tuple(Declared(c, "name") for c in classifiers), "classifiers"
        findings.append(
            Finding(
                name=component["name"],
                version=component.get("version", "?"),
                licences=tuple(map(str, licences)),
                source=source if licences else "none",
                kind=judge(licences),
            )
        )
    return findings


def release_blockers(
    bom: Mapping[str, Any],
    *,
    classifiers_for: Callable[[str], Sequence[str]] = installed_licence_classifiers,
) -> list[Finding]:
    """The runtime components an image must not ship: strong copyleft, or no licence known."""
    return [f for f in review(bom, classifiers_for=classifiers_for) if f.blocks_release]


@dataclass(frozen=True)
class Declared:
    """One licence entry as the SBOM writes it; `how` is "id", "expression", "name" or "file"."""

    text: str
    how: str

    def kind(self) -> Kind:
        if self.how == "expression":
            return expression_kind(self.text)
        if self.how == "file":
            return file_kind(self.text)
        return name_kind(self.text)

    def __str__(self) -> str:
        return f"{self.text} (licence file)" if self.how == "file" else self.text


def declared_licences(component: Mapping[str, Any]) -> tuple[Declared, ...]:
    """The component's licence entries: SPDX ids, SPDX expressions, names, or attached files."""
    found = []
    for entry in component.get("licenses", []):
        if expression := entry.get("expression"):
            found.append(Declared(expression, "expression"))
        elif licence := entry.get("license"):
            if licence.get("id"):
                found.append(Declared(licence["id"], "id"))
            elif content := _attached_text(licence.get("text", {})):
                found.append(Declared(_title(content), "file"))
            elif licence.get("name"):
                found.append(Declared(licence["name"], "name"))
    return tuple(found)


def judge(licences: Sequence[Declared]) -> Kind:
    """The strictest reach among the entries (UNKNOWN when there are none)."""
    return max((declared.kind() for declared in licences), default=Kind.UNKNOWN)


def name_kind(text: str) -> Kind:
    """Classify one SPDX id, licence name or trove classifier by the words it uses."""
    if _STRONG.search(text):
        return Kind.STRONG_COPYLEFT
    if _WEAK.search(text):
        return Kind.WEAK_COPYLEFT
    return Kind.NOT_COPYLEFT


def file_kind(title: str) -> Kind:
    """A licence file by its title: a name it does not give is not a licence we know."""
    kind = name_kind(title)
    if kind is Kind.NOT_COPYLEFT and not _NAMES_A_LICENCE.search(title):
        return Kind.UNKNOWN
    return kind


def _attached_text(text: Mapping[str, str]) -> str:
    content = text.get("content", "")
    if text.get("encoding") == "base64":
        return base64.b64decode(content).decode("utf-8", errors="replace")
    return content


def _title(content: str) -> str:
    """The first line with words of a licence text: "GNU GENERAL PUBLIC LICENSE", "MIT License"."""
    lines = (line.strip(" \t*#=-") for line in content.splitlines())
    return next((line for line in lines if line), "")


def expression_kind(expression: str) -> Kind:
    """Evaluate an SPDX expression: OR takes the laxer side, AND the stricter."""
    try:
        return _ExpressionReader(expression).read()
    except ValueError:  # not well-formed: judge the words, which errs on the strict side
        return name_kind(expression)


class _ExpressionReader:
    """Recursive descent over `or := and (OR and)*; and := term (AND term)*; term := id | (or)`."""

    def __init__(self, expression: str) -> None:
        self._tokens = re.findall(r"\(|\)|[^\s()]+", expression)
        self._position = 0

    def read(self) -> Kind:
        kind = self._disjunction()
        if self._peek():
            raise ValueError(f"unexpected {self._peek()!r}")
        return kind

    def _disjunction(self) -> Kind:
        kinds = [self._conjunction()]
        while self._peek().upper() == "OR":
            self._take()
            kinds.append(self._conjunction())
        return min(kinds)

    def _conjunction(self) -> Kind:
        kinds = [self._term()]
        while self._peek().upper() == "AND":
            self._take()
            kinds.append(self._term())
        return max(kinds)

    def _term(self) -> Kind:
        word = self._take()
        if word == "(":
            kind = self._disjunction()
            if self._take() != ")":
                raise ValueError("unbalanced parenthesis")
        elif word in {")", ""} or word.upper() in {"AND", "OR", "WITH"}:
            raise ValueError(f"licence expected, got {word!r}")
        else:
            kind = name_kind(word)
        if self._peek().upper() == "WITH":
            self._take()
            self._take()  # the exception's id: it relaxes the licence, never tightens it
        return kind

    def _peek(self) -> str:
        return self._tokens[self._position] if self._position < len(self._tokens) else ""

    def _take(self) -> str:
        token = self._peek()
        self._position += 1
        return token
