"""The rules a platform team checks on a service image, read from its Dockerfile alone.

dockerfile-parse reads the instructions (continuations joined, build ARGs resolved in labels);
the rules look at the last stage, the one that becomes the image, and at the build stage's
install. Each rule returns the problems it found, as `Finding`s naming the Dockerfile, the
instruction and the rule.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]  # untyped

from threadline_k8s.findings import Finding

PYTHON_VERSION = "3.13"
OCI_LABELS = ("org.opencontainers.image.version", "org.opencontainers.image.source")
# What no runtime stage of ours installs or carries: compilers, package managers' caches, uv.
_BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|make|build-essential|python3-dev|libpq-dev|pip install|uv (sync|pip))\b"
)


@dataclass(frozen=True)
class Dockerfile:
    """One Dockerfile's instructions, split into stages."""

    path: Path
    instructions: list[dict[str, Any]]
    final_labels: dict[str, str]
    args: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        parser = DockerfileParser(path=str(path))
        instructions = list(parser.structure)
        # Global ARGs (before the first FROM) are what FROM lines substitute.
        global_args: dict[str, str] = {}
        for instruction in instructions:
            if instruction["instruction"] == "FROM":
                break
            if instruction["instruction"] == "ARG" and "=" in instruction["value"]:
                name, _, value = instruction["value"].partition("=")
                global_args[name.strip()] = value.strip().strip('"')
        return cls(path, instructions, dict(parser.labels), global_args)

    def stages(self) -> list[list[dict[str, Any]]]:
        stages: list[list[dict[str, Any]]] = []
        for instruction in self.instructions:
            if instruction["instruction"] == "FROM":
                stages.append([])
            if stages:
                stages[-1].append(instruction)
        return stages

    @property
    def final_stage(self) -> list[dict[str, Any]]:
        return self.stages()[-1]

    def finding(self, instruction: str, rule: str, message: str) -> Finding:
        return Finding(f"{self.path.parent.name}/{self.path.name}", instruction, rule, message)


DockerRule = Callable[[Dockerfile], Iterator[Finding]]
DOCKER_RULES: dict[str, DockerRule] = {}


def docker_rule(name: str) -> Callable[[DockerRule], DockerRule]:
    def register(function: DockerRule) -> DockerRule:
        DOCKER_RULES[name] = function
        return function

    return register


def check_dockerfile(dockerfile: Dockerfile) -> list[Finding]:
    return [finding for rule in DOCKER_RULES.values() for finding in rule(dockerfile)]


def _of(stage: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [i for i in stage if i["instruction"] == name]


@docker_rule("locked-install")
def locked_install(dockerfile: Dockerfile) -> Iterator[Finding]:
    """Dependencies come from uv.lock, exactly: `uv sync --frozen` (or --locked) --no-dev."""
    syncs = [
        i for i in dockerfile.instructions if i["instruction"] == "RUN" and "uv sync" in i["value"]
    ]
    if not syncs:
        yield dockerfile.finding("RUN", "locked-install", "no `uv sync` installs the service")
    for sync in syncs:
        words = shlex.split(sync["value"].replace("\\\n", " "))
        if not {"--frozen", "--locked"} & set(words):
            yield dockerfile.finding(
                f"RUN (line {sync['startline'] + 1})",
                "locked-install",
                "`uv sync` without --frozen or --locked",
            )
        if "--no-dev" not in words:
            yield dockerfile.finding(
                f"RUN (line {sync['startline'] + 1})",
                "locked-install",
                "`uv sync` without --no-dev",
            )


@docker_rule("slim-runtime")
def slim_runtime(dockerfile: Dockerfile) -> Iterator[Finding]:
    """The image is a python:<3.13>-slim stage of its own, after a build stage."""
    stages = dockerfile.stages()
    base = _of(dockerfile.final_stage, "FROM")[0]["value"].split()[0]
    resolved = base.replace("${PYTHON_VERSION}", dockerfile.args.get("PYTHON_VERSION", ""))
    if len(stages) < 2:
        yield dockerfile.finding(
            "FROM", "slim-runtime", "one stage: build tools would ship in the image"
        )
    if not re.fullmatch(rf"python:{re.escape(PYTHON_VERSION)}(\.\d+)?-slim(-\w+)?", resolved):
        yield dockerfile.finding(
            "FROM", "slim-runtime", f"final stage is {resolved!r}, not python:{PYTHON_VERSION}-slim"
        )


@docker_rule("non-root-numeric-user")
def non_root_numeric_user(dockerfile: Dockerfile) -> Iterator[Finding]:
    """The image runs as a numeric, non-zero UID (Kubernetes checks runAsNonRoot on numbers)."""
    users = _of(dockerfile.final_stage, "USER")
    if not users:
        yield dockerfile.finding(
            "USER", "non-root-numeric-user", "final stage runs as root (no USER)"
        )
        return
    uid = users[-1]["value"].split(":")[0]
    if not uid.isdigit() or int(uid) == 0:
        yield dockerfile.finding(
            "USER",
            "non-root-numeric-user",
            f"USER {users[-1]['value']} is not a numeric non-root UID",
        )


@docker_rule("read-only-root")
def read_only_root(dockerfile: Dockerfile) -> Iterator[Finding]:
    """Nothing is written at run time: bytecode compiled at build, none written at start."""
    build_env = " ".join(i["value"] for i in dockerfile.instructions if i["instruction"] == "ENV")
    final_env = " ".join(i["value"] for i in _of(dockerfile.final_stage, "ENV"))
    if "PYTHONDONTWRITEBYTECODE=1" not in final_env:
        yield dockerfile.finding(
            "ENV",
            "read-only-root",
            "PYTHONDONTWRITEBYTECODE=1 missing: Python would write .pyc at run time",
        )
    if "UV_COMPILE_BYTECODE=1" not in build_env:
        yield dockerfile.finding(
            "ENV",
            "read-only-root",
            "UV_COMPILE_BYTECODE=1 missing: bytecode would be compiled at first import",
        )


@docker_rule("no-build-tools-in-image")
def no_build_tools_in_image(dockerfile: Dockerfile) -> Iterator[Finding]:
    """The final stage installs nothing and copies only the virtual environment; uv's cache is a
    build mount, never a layer."""
    for instruction in dockerfile.final_stage:
        value = instruction["value"]
        if instruction["instruction"] == "RUN" and _BUILD_TOOLS.search(value):
            yield dockerfile.finding(
                f"RUN (line {instruction['startline'] + 1})",
                "no-build-tools-in-image",
                f"installs build tools: {value[:60]!r}",
            )
        if instruction["instruction"] == "COPY" and (
            "/uv" in value.split()[-1] or "--from=uv" in value
        ):
            yield dockerfile.finding(
                f"COPY (line {instruction['startline'] + 1})",
                "no-build-tools-in-image",
                "copies uv into the image",
            )
    for instruction in dockerfile.instructions:
        if (
            instruction["instruction"] == "RUN"
            and "uv sync" in instruction["value"]
            and "--mount=type=cache" not in instruction["value"]
        ):
            yield dockerfile.finding(
                f"RUN (line {instruction['startline'] + 1})",
                "no-build-tools-in-image",
                "uv's cache is written into a layer (use --mount=type=cache)",
            )


@docker_rule("healthcheck")
def healthcheck(dockerfile: Dockerfile) -> Iterator[Finding]:
    """The image says how to tell it is healthy."""
    checks = _of(dockerfile.final_stage, "HEALTHCHECK")
    if not checks or checks[-1]["value"].strip().upper() == "NONE":
        yield dockerfile.finding("HEALTHCHECK", "healthcheck", "missing")


@docker_rule("oci-labels")
def oci_labels(dockerfile: Dockerfile) -> Iterator[Finding]:
    """OCI labels with the version and the source the image was built from."""
    declared = " ".join(i["value"] for i in _of(dockerfile.final_stage, "LABEL"))
    for label in OCI_LABELS:
        if f"{label}=" not in declared:
            yield dockerfile.finding("LABEL", "oci-labels", f"{label} missing")
