"""The supply chain on record: what each service image ships, under which licences, and its audit.

`make sbom` writes a CycloneDX 1.6 SBOM per service image and one of the whole workspace:

    reports/sbom/user.cdx.json        # what services/user/Dockerfile installs, nothing else
    reports/sbom/order.cdx.json
    reports/sbom/workspace.cdx.json   # every locked package; what no image ships: "excluded"

Each image's SBOM comes from a throwaway virtual environment made by the same `uv sync` command
its Dockerfile runs, read by `cyclonedx-py environment`, so the licences are the installed
packages' own metadata. `make audit` runs pip-audit over the requirements exported from uv.lock
and exits 0 (clean), 1 (vulnerabilities, listed) or 3 (not checked, with the reason).

    import json
    from threadline_native.supply_chain.licences import release_blockers

    bom = json.load(open("reports/sbom/user.cdx.json"))
    for finding in release_blockers(bom):  # GPL, AGPL, SSPL, or no licence known
        print(finding)  # "name version: licences (kind, from where)"
"""
