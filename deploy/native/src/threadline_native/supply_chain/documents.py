"""CycloneDX documents: read from an environment by cyclonedx-py, checked against the schema.

cyclonedx-py can validate what it writes, but the SBOMs are edited afterwards (scopes,
licences, properties), so the finished document is what gets checked here: against the strict
CycloneDX 1.6 JSON schema, every format but IRIs. cyclonedx-python-lib's own validator parses
each IRI (every package's homepage and tracker URL) with an Earley parser at about 0.1 s apiece,
which turns a one-second check into minutes; those URLs are copied from package metadata, not
written by us.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion

# The schema files cyclonedx-python-lib ships (a private module, pinned by uv.lock): the same
# files its own validator reads, only checked with a lighter format checker.
from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from jsonschema import (  # type: ignore[import-untyped]  # no types-jsonschema in the dev group
    Draft7Validator,
    FormatChecker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from threadline_native.supply_chain.workspace import SupplyChainError

SPEC_VERSION = "1.6"
_UNCHECKED_FORMATS = frozenset({"iri", "iri-reference"})

Bom = dict[str, Any]


def read_environment(python: Path, *, pyproject: Path) -> Bom:
    """`cyclonedx-py environment` over one interpreter's installed packages, parsed."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cyclonedx_py",
            "environment",
            "--pyproject",
            str(pyproject),
            "--mc-type",
            "application",
            "--spec-version",
            SPEC_VERSION,
            # No serial number and no timestamp: the same lock gives the same file.
            "--output-reproducible",
            "--no-validate",  # see the module docstring: validate() checks the finished file
            "--output-format",
            "JSON",
            "--output-file",
            "-",
            str(python),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SupplyChainError(f"cyclonedx-py environment failed:\n{done.stderr.strip()}")
    bom: Bom = json.loads(done.stdout)
    return bom


def schema_errors(bom: Bom) -> list[str]:
    """Where `bom` breaks the strict CycloneDX schema (IRIs aside); empty when it is valid."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
        for error in _validator().iter_errors(bom)
    ]


@cache
def _validator() -> Draft7Validator:
    version = SchemaVersion.from_version(SPEC_VERSION)
    schema_file = BOM_JSON_STRICT[version]
    if schema_file is None:
        raise SupplyChainError(f"cyclonedx-python-lib has no strict schema for {SPEC_VERSION}")
    prefix = "http://cyclonedx.org/schema/"
    registry: Registry[Any] = Registry().with_resources(
        (f"{prefix}{name}.SNAPSHOT.schema.json", _resource(path))
        for name, path in (
            ("spdx", SPDX_JSON),
            ("jsf-0.82", JSF),
            ("cryptography-defs", CRYPTOGRAPHY_DEFS),
        )
    )
    formats = set(Draft7Validator.FORMAT_CHECKER.checkers) - _UNCHECKED_FORMATS
    return Draft7Validator(
        json.loads(Path(schema_file).read_text()),
        registry=registry,
        format_checker=FormatChecker(formats=formats),
    )


def _resource(path: str) -> Resource[Any]:
    return DRAFT7.create_resource(json.loads(Path(path).read_text()))
