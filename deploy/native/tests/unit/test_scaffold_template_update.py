"""`copier update` brings a later template change into a service made from the template, and
keeps the service's own edits: the template at two versions in a scratch git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from copier import run_copy, run_update

from threadline_native.paths import find_project_root
from threadline_native.scaffold.registry import REGISTRY_FILE

ANSWERS = "services/scaffoldprobe/.copier-answers.yml"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_copier_update_brings_a_template_change_into_an_existing_service(tmp_path: Path) -> None:
    root = find_project_root()
    template, project = tmp_path / "template", tmp_path / "project"
    shutil.copytree(root / "templates" / "service", template)
    git(template, "init", "-q")
    git(template, "add", "-A")
    git(template, "commit", "-qm", "v1")
    git(template, "tag", "1.0.0")
    (project / REGISTRY_FILE).parent.mkdir(parents=True)
    shutil.copyfile(root / REGISTRY_FILE, project / REGISTRY_FILE)
    git(project, "init", "-q")
    run_copy(
        str(template),
        project,
        data={"name": "scaffoldprobe", "kind": "http"},
        defaults=True,
        skip_tasks=True,
        quiet=True,
    )
    recorded = yaml.safe_load((project / ANSWERS).read_text())
    assert recorded["_commit"] == "1.0.0"
    # The service's own change, which the update must keep.
    items = project / "services/scaffoldprobe/src/scaffoldprobe_service/domain/items.py"
    items.write_text(
        items.read_text().replace("NAME_MAX_LENGTH: Final = 200", "NAME_MAX_LENGTH: Final = 120")
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "scaffoldprobe from the template, then our own limit")

    # The template gains a change: every service's README says how to run its tests.
    readme = template / "template/services/{{ name }}/README.md.jinja"
    readme.write_text(
        readme.read_text() + "\nRun its tests: `make test PYTEST_ARGS=services/{{ name }}`.\n"
    )
    git(template, "commit", "-qam", "v2: the README says how to run the tests")
    git(template, "tag", "2.0.0")

    run_update(
        project,
        answers_file=ANSWERS,
        overwrite=True,
        defaults=True,
        # Our own template: its registration task is known (and skipped here).
        skip_tasks=True,
        quiet=True,
        unsafe=True,
    )

    updated = (project / "services/scaffoldprobe/README.md").read_text()
    assert "Run its tests: `make test PYTEST_ARGS=services/scaffoldprobe`." in updated
    assert "NAME_MAX_LENGTH: Final = 120" in items.read_text()
    assert yaml.safe_load((project / ANSWERS).read_text())["_commit"] == "2.0.0"
