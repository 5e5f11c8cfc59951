"""Every rendered object against the schema of its kind, offline.

Built-in kinds: the OpenAPI schemas of KUBERNETES_VERSION (deploy/versions.env) that
kubernetes-validate ships, in their strict form (an unknown field is an error, as with
`kubectl apply --validate=strict`). Custom resources: the operators' CRD schemas in
deploy/k8s/crds. A kind with neither is an error too: nothing goes unvalidated.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no py.typed

from threadline_k8s.crd_schemas import CrdSchemas
from threadline_k8s.findings import Finding, object_name

RULE = "schema"


def validate_objects(
    objects: list[dict[str, Any]], *, kubernetes_version: str, crds: CrdSchemas
) -> list[Finding]:
    """A finding per schema error, per object."""
    findings: list[Finding] = []
    for obj in objects:
        name = object_name(obj)
        if crds.knows(obj["apiVersion"], obj["kind"]):
            findings.extend(Finding(name, path, RULE, msg) for path, msg in crds.errors(obj))
            continue
        try:
            kubernetes_validate.validate(obj, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.absolute_path) or "(root)"
            findings.append(
                Finding(name, path, RULE, f"{error.message} (Kubernetes {error.version})")
            )
        except kubernetes_validate.SchemaNotFoundError as error:
            findings.append(Finding(name, "apiVersion", RULE, error.message))
    return findings
