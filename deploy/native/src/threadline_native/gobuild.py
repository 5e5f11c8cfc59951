"""Build Go servers from their modules at pinned versions, once, into the project's cache.

`go install module/cmd/x@version` refuses modules whose go.mod has `replace` or `exclude`
directives, which is most of the servers we need. So each build downloads the module with
`go mod download`, copies it to a scratch directory and runs `go build` there with
`-mod=mod`, the way the project's own Makefile would. The result is cached as
`.threadline/cache/bin/<name>-<version>/<binary>`; a later run only checks that file exists.

Builds run under `nice` so that a cold build leaves the machine usable, and a file lock
keeps two processes (say `make up` and a test session) from building the same thing at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from threadline_native.component import StackError
from threadline_native.paths import Layout

# Strip symbols and file paths: smaller binaries, and no build machine paths inside them.
_LDFLAGS = "-s -w"
_NICENESS = "15"


@dataclass(frozen=True)
class NestedModule:
    """A module the parent's go.mod replaces with a local directory the module zip leaves out."""

    directory: str
    module: str
    version: str


@dataclass(frozen=True)
class GoBuild:
    """One Go module at one version, and the binaries to build from its packages."""

    name: str
    module: str
    version: str
    # Binary name -> package path inside the module, e.g. {"promtool": "./cmd/promtool"}.
    binaries: Mapping[str, str]
    tags: tuple[str, ...] = ()
    # -X assignments so `<binary> --version` reports what was built.
    version_vars: Mapping[str, str] = field(default_factory=dict)
    nested: tuple[NestedModule, ...] = ()
    # Files the release zip lacks but `go:embed` needs (built web UIs): path -> content.
    placeholders: Mapping[str, str] = field(default_factory=dict)
    # Modules published after the checksum database's mirror was filled cannot be verified.
    unverified: tuple[str, ...] = ()

    def bin_dir(self, layout: Layout) -> Path:
        return layout.cache_dir / "bin" / f"{self.name}-{self.version}"

    def binary(self, layout: Layout, binary: str) -> Path:
        return self.bin_dir(layout) / binary

    def is_built(self, layout: Layout) -> bool:
        return all(self.binary(layout, name).is_file() for name in self.binaries)


def go_env(unverified: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of every go command we run: module mode, no workspace, local toolchain.

    Go's directory leads PATH, so that tools which run `go` themselves (the Collector Builder)
    find the same one we do, also where it is not on the caller's PATH (/usr/local/go).
    """
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(_go()).parent), os.environ.get("PATH", "")]),
        "GOFLAGS": "-mod=mod -trimpath -buildvcs=false",
        "GOWORK": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    if unverified:
        env["GONOSUMDB"] = ",".join(unverified)
    return env


# Where Go's own installer puts it; not on the system PATH, so a clean environment still finds it.
_STANDARD_GO = Path("/usr/local/go/bin/go")


def _go() -> str:
    go = shutil.which("go") or (str(_STANDARD_GO) if _STANDARD_GO.is_file() else None)
    if go is None:
        raise StackError(
            "Go is not installed (neither on PATH nor at /usr/local/go): the native backends are"
            " built from their Go modules, so install Go 1.26 (go.dev/doc/install) and retry"
        )
    return go


def _run(argv: list[str], *, cwd: Path, env: Mapping[str, str], what: str) -> str:
    result = subprocess.run(
        argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StackError(f"{what} failed:\n{(result.stderr or result.stdout)[-4000:]}")
    return result.stdout


def download(module: str, version: str, *, cwd: Path, env: Mapping[str, str]) -> Path:
    """Fetch module@version into the module cache and return its (read-only) directory."""
    out = _run(
        [_go(), "mod", "download", "-json", f"{module}@{version}"],
        cwd=cwd,
        env=env,
        what=f"downloading {module}@{version}",
    )
    info = json.loads(out)
    if "Error" in info:
        raise StackError(f"downloading {module}@{version} failed: {info['Error']}")
    return Path(info["Dir"])


def _copy_writable(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
    for path in (target, *target.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_built(layout: Layout, build: GoBuild) -> Path:
    """Build the binaries unless cached; return the directory that holds them."""
    bin_dir = build.bin_dir(layout)
    if build.is_built(layout):
        return bin_dir
    with _lock(layout.cache_dir / "locks" / f"{build.name}.lock"):
        if build.is_built(layout):  # another process built it while we waited
            return bin_dir
        _build(layout, build)
    return bin_dir


def ensure_tool(layout: Layout, build: GoBuild, binary: str) -> Path:
    """One binary of a build (promtool, amtool): the whole build's copy when that is cached,
    otherwise that binary alone, so a test that needs a tool does not wait for the server too."""
    if build.is_built(layout):
        return build.binary(layout, binary)
    alone = replace(build, name=f"{build.name}-{binary}", binaries={binary: build.binaries[binary]})
    return ensure_built(layout, alone) / binary


def _build(layout: Layout, build: GoBuild) -> None:
    env = go_env(build.unverified)
    scratch_root = layout.cache_dir / "build"
    scratch_root.mkdir(parents=True, exist_ok=True)
    source = scratch_root / f"{build.name}-{build.version}"
    shutil.rmtree(source, ignore_errors=True)
    began = time.monotonic()
    print(f"building {build.name} {build.version} from {build.module} (once)...", flush=True)
    _copy_writable(download(build.module, build.version, cwd=scratch_root, env=env), source)
    # Module zips keep vendor/modules.txt but not the vendored code; build from modules instead.
    shutil.rmtree(source / "vendor", ignore_errors=True)
    for relative, content in build.placeholders.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(content)
    for nested in build.nested:
        target = source / nested.directory
        shutil.rmtree(target, ignore_errors=True)
        _copy_writable(download(nested.module, nested.version, cwd=scratch_root, env=env), target)
    ldflags = " ".join(
        [_LDFLAGS, *(f"-X {var}={value}" for var, value in build.version_vars.items())]
    )
    staging = build.bin_dir(layout).parent / f"{build.bin_dir(layout).name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for binary, package in build.binaries.items():
        argv = ["nice", "-n", _NICENESS, _go(), "build", "-ldflags", ldflags]
        if build.tags:
            argv += ["-tags", ",".join(build.tags)]
        argv += ["-o", str(staging / binary), package]
        _run(argv, cwd=source, env=env, what=f"building {binary} from {build.module}")
    # Rename last: a half-finished build never looks cached.
    shutil.rmtree(build.bin_dir(layout), ignore_errors=True)
    staging.rename(build.bin_dir(layout))
    shutil.rmtree(source, ignore_errors=True)
    elapsed = time.monotonic() - began
    print(f"built {build.name} {build.version} in {elapsed:.0f}s", file=sys.stderr, flush=True)
    _record_build_time(layout, build, elapsed)


def _record_build_time(layout: Layout, build: GoBuild, seconds: float) -> None:
    """Append to a log the benchmark docs are written from (cold build times)."""
    log = layout.cache_dir / "build-times.jsonl"
    entry = {"name": build.name, "version": build.version, "seconds": round(seconds, 1)}
    with log.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


@dataclass(frozen=True)
class CollectorBuild:
    """An OpenTelemetry Collector distribution generated by the Collector Builder (OCB)."""

    builder_version: str
    manifest: Path
    binary_name: str

    @property
    def builder(self) -> GoBuild:
        # The builder's go.mod is clean, but building it like the others keeps one code path.
        return GoBuild(
            name="ocb",
            module="go.opentelemetry.io/collector/cmd/builder",
            version=self.builder_version,
            binaries={"ocb": "."},
        )

    def cache_key(self) -> str:
        """Version plus a digest of the manifest: editing the manifest means a new build."""
        digest = hashlib.sha256(self.manifest.read_bytes()).hexdigest()[:10]
        return f"{self.builder_version}-{digest}"

    def binary(self, layout: Layout) -> Path:
        return layout.cache_dir / "bin" / f"otelcol-{self.cache_key()}" / self.binary_name


def ensure_collector(layout: Layout, build: CollectorBuild) -> Path:
    """Generate the distribution's sources with OCB and compile them, unless cached."""
    binary = build.binary(layout)
    if binary.is_file():
        return binary
    ocb = ensure_built(layout, build.builder).joinpath("ocb")
    with _lock(layout.cache_dir / "locks" / "otelcol.lock"):
        if binary.is_file():
            return binary
        env = go_env()
        source = layout.cache_dir / "build" / f"otelcol-{build.cache_key()}"
        shutil.rmtree(source, ignore_errors=True)
        began = time.monotonic()
        print(f"building the collector from {build.manifest.name} with OCB (once)...", flush=True)
        # OCB writes the sources and resolves their modules; we compile, niced, like the others.
        _run(
            [
                "nice",
                "-n",
                _NICENESS,
                str(ocb),
                f"--config={build.manifest}",
                f"--output-path={source}",
                "--skip-compilation",
            ],
            cwd=layout.cache_dir,
            env=env,
            what="generating the collector with OCB",
        )
        staging = binary.parent.parent / f"{binary.parent.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _run(
            [
                "nice",
                "-n",
                _NICENESS,
                _go(),
                "build",
                "-ldflags",
                _LDFLAGS,
                "-o",
                str(staging / build.binary_name),
                ".",
            ],
            cwd=source,
            env=env,
            what="compiling the collector",
        )
        staging.rename(binary.parent)
        shutil.rmtree(source, ignore_errors=True)
        elapsed = time.monotonic() - began
        print(f"built the collector in {elapsed:.0f}s", file=sys.stderr, flush=True)
        _record_build_time(layout, GoBuild("otelcol", "ocb", build.cache_key(), {}), elapsed)
    return binary
