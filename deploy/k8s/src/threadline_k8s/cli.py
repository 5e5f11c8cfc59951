"""`make k8s-validate`: render every overlay, validate every object offline, run the policies.

k8s-validate [OVERLAY_DIR ...]   (default: every overlay in deploy/k8s/overlays)

Per overlay it prints what it rendered and checked; each failure is one line naming the object,
the field and the rule. Exit 0 when every overlay passes, 1 otherwise.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from threadline_k8s.crd_schemas import CrdSchemas
from threadline_k8s.findings import Finding
from threadline_k8s.kustomize import RenderError, build_overlay, ensure_kustomize, parse_stream
from threadline_k8s.paths import K8sLayout
from threadline_k8s.policy import RULES, check_all
from threadline_k8s.schemas import validate_objects


def validate_overlay(overlay: Path, layout: K8sLayout, kustomize: Path) -> list[Finding]:
    """Render, schema-check and policy-check one overlay; print a summary; return failures."""
    try:
        objects = parse_stream(build_overlay(kustomize, overlay))
    except RenderError as error:
        finding = Finding(f"overlay {overlay.name}", "kustomization.yaml", "render", str(error))
        print(f"{overlay.name}: FAIL\n  {finding}")
        return [finding]
    version = layout.version("KUBERNETES_VERSION")
    findings = validate_objects(
        objects, kubernetes_version=version, crds=CrdSchemas(layout.crd_dir)
    ) + check_all(objects)
    kinds = Counter(o["kind"] for o in objects)
    print(
        f"{overlay.name}: rendered {len(objects)} objects "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
    )
    print(f"  schemas: Kubernetes {version} (strict) and the CRDs in {layout.crd_dir.name}/")
    print(f"  policies: {', '.join(RULES)}")
    print(f"  {'FAIL' if findings else 'ok'}: {len(findings)} finding(s)")
    for finding in findings:
        print(f"  {finding}")
    return findings


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    layout = K8sLayout.discover()
    overlays = [Path(a).resolve() for a in arguments] or layout.overlays()
    kustomize = ensure_kustomize(layout)
    failed = [o.name for o in overlays if validate_overlay(o, layout, kustomize)]
    if failed:
        print(f"k8s-validate: {', '.join(failed)} failed", file=sys.stderr)
        return 1
    print(f"k8s-validate: {len(overlays)} overlay(s) passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
