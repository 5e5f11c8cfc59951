#!/usr/bin/env bash
# `make setup`: install what Threadline needs when it is missing, and nothing when it is not.
#
# - System packages come from apt: as root directly, through `sudo -n` where that needs no
#   password, otherwise the exact command is printed and setup stops (exit 1) before anything else.
# - uv comes from PyPI, pinned (UV_VERSION in deploy/versions.env), into a virtual environment in
#   the project's git-ignored cache. A system Python that refuses pip installs (PEP 668) is fine
#   with that, and whatever PATH the caller has, the Makefile finds uv there (.threadline/cache/uv).
# - Python packages come from uv.lock, into .venv; with PYTHON=3.13 (what `make test PYTHON=3.13`
#   passes) into .venv-3.13 with that interpreter (deploy/native/find-python.sh finds it), so the
#   default .venv is left as it is.
#
# `setup.sh --test-tools` (what `make test` runs) adds what only the tests need: Chromium.
# Safe to run any number of times; a warm run changes nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

UV_ENV=.threadline/cache/uv
UV_BIN=$UV_ENV/bin/uv
UV_VERSION=$(sed -n 's/^UV_VERSION=//p' deploy/versions.env)
[[ -n $UV_VERSION ]] || fail "UV_VERSION is missing from deploy/versions.env"
PYTHON_FOR_UV=${PYTHON_FOR_UV:-python3}
# uv trusts its bundled Mozilla roots by default; behind a TLS-inspecting proxy (common in
# companies, and on the machines this is built on) only the system's store has the proxy's CA.
export UV_SYSTEM_CERTS=${UV_SYSTEM_CERTS:-1}

# Each check names the Debian package that satisfies it. PostgreSQL 15 is Debian bookworm's
# major, pinned in deploy/versions.env; Java and Maven fetch and run Kafka; venv (with ensurepip)
# is what uv's own environment is made with, and Debian ships it separately from python3.
have_pg_ctl() { compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; }
have_venv() { "$PYTHON_FOR_UV" -c 'import ensurepip, venv' 2>/dev/null; }
declare -A needed=(
  [postgresql]='have_pg_ctl'
  [redis-server]='command -v redis-server'
  [openjdk-17-jre-headless]='command -v java'
  [maven]='command -v mvn'
)
# uv's environment only needs venv while uv is not installed yet.
[[ -x $UV_BIN ]] || needed[python3-venv]='have_venv'
# `make test` also renders VictoriaLogs' web UI in headless Chromium (an e2e test).
[[ ${1:-} == --test-tools ]] && needed[chromium]='command -v chromium'

missing=()
for package in "${!needed[@]}"; do
  eval "${needed[$package]}" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    fail "missing system packages: ${missing[*]}; run this once, then the same make target again:
  sudo apt-get update && sudo ${install[*]}"
  fi
  say "installing with apt: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" "${install[@]}" >/dev/null
fi

# uv in its own environment under the project's cache, at the pinned version.
if [[ ! -x $UV_BIN ]] || [[ $("$UV_BIN" --version 2>/dev/null) != "uv $UV_VERSION"* ]]; then
  command -v "$PYTHON_FOR_UV" >/dev/null \
    || fail "no $PYTHON_FOR_UV on PATH: install Python 3.11 or newer"
  say "installing uv $UV_VERSION from PyPI into $UV_ENV"
  rm -rf "$UV_ENV"
  "$PYTHON_FOR_UV" -m venv "$UV_ENV"
  "$UV_ENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  say "uv is at $PWD/$UV_BIN (every make target uses it; nothing was added to your PATH)"
fi

# The Makefile has found the interpreter already (UV_PYTHON); run alone, this script finds it.
if [[ -n ${PYTHON:-} ]]; then
  [[ -n ${UV_PYTHON:-} ]] || UV_PYTHON=$(UV=$UV_BIN bash deploy/native/find-python.sh "$PYTHON")
  export UV_PYTHON UV_PROJECT_ENVIRONMENT=${UV_PROJECT_ENVIRONMENT:-$PWD/.venv-$PYTHON}
fi
UV_PYTHON_DOWNLOADS=never "$UV_BIN" sync --all-packages --locked --quiet
