"""Threadline on Kubernetes: the kustomize tree in deploy/k8s and its offline validation.

`make k8s-validate` renders every overlay with kustomize (built from its Go module, cached),
validates every object against the pinned Kubernetes version's OpenAPI schemas and the
operators' CRD schemas kept in the repository, and runs the policy rules over the result:

    from threadline_k8s.kustomize import render
    from threadline_k8s.policy import check_all

    objects = render(Path("deploy/k8s/overlays/prod"))
    for violation in check_all(objects):
        print(violation)
"""
