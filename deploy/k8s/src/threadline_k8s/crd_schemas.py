"""The operators' CRD schemas, kept in deploy/k8s/crds, and validation of custom resources.

Each stored file is one served version's `openAPIV3Schema` from the operator's published CRD,
without descriptions (they do not change what validates); `extract` made them and makes them
again on an upgrade (deploy/k8s/crds/README.md names each source and release). Objects are
checked as `kubectl apply --validate=strict` does: a field the schema does not know is an error,
except below `x-kubernetes-preserve-unknown-fields`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the dev group
import yaml

_PRESERVE = "x-kubernetes-preserve-unknown-fields"


def schema_file_name(api_version: str, kind: str) -> str:
    """`kafka.strimzi.io/v1` + `Kafka` -> `kafka.strimzi.io_v1_kafka.json`."""
    return f"{api_version.replace('/', '_')}_{kind.lower()}.json"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items() if key != "description"}
        if "properties" in node and "additionalProperties" not in node and not node.get(_PRESERVE):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


def extract(crd: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, strict schema) for every served version of a CustomResourceDefinition."""
    spec = crd["spec"]
    for version in spec["versions"]:
        if not version.get("served"):
            continue
        schema = dict(version["schema"]["openAPIV3Schema"])
        # apiVersion, kind and metadata are the API server's; the CRD leaves them open.
        properties = dict(schema.get("properties", {}))
        for key in ("apiVersion", "kind", "metadata"):
            properties[key] = {"type": "string"} if key != "metadata" else {"type": "object"}
        schema["properties"] = properties
        name = schema_file_name(f"{spec['group']}/{version['name']}", spec["names"]["kind"])
        yield name, _strict(schema)


def write_schemas(crd_file: Path, target_dir: Path) -> list[Path]:
    """Store the schemas of one published CRD file; return the files written."""
    written = []
    for document in yaml.safe_load_all(crd_file.read_text()):
        if not document or document.get("kind") != "CustomResourceDefinition":
            continue
        for name, schema in extract(document):
            path = target_dir / name
            path.write_text(json.dumps(schema, sort_keys=True, separators=(",", ":")) + "\n")
            written.append(path)
    return written


class CrdSchemas:
    """The stored schemas by (apiVersion, kind)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def knows(self, api_version: str, kind: str) -> bool:
        return (self._directory / schema_file_name(api_version, kind)).is_file()

    def errors(self, obj: dict[str, Any]) -> list[tuple[str, str]]:
        """(field path, message) for every way the object breaks its CRD's schema."""
        path = self._directory / schema_file_name(obj["apiVersion"], obj["kind"])
        schema = json.loads(path.read_text())
        validator = jsonschema.Draft7Validator(schema)
        return [
            (".".join(str(part) for part in error.absolute_path) or "(root)", error.message)
            for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
        ]
