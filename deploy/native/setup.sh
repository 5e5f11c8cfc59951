#!/usr/bin/env bash
# `make setup`: install what Threadline needs when it is missing, and nothing when it is not.
# System packages come from apt (as root; otherwise the exact command is printed), uv from PyPI,
# Python packages from uv.lock. Safe to run any number of times; a warm run takes about a second.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# command -> Debian package that provides it (PostgreSQL 15 is Debian bookworm's major, pinned in
# deploy/versions.env; Java and Maven fetch and run Kafka).
declare -A needed=(
  [pg_ctl]=postgresql
  [redis-server]=redis-server
  [java]=openjdk-17-jre-headless
  [mvn]=maven
)
find_pg_ctl() { compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; }

missing=()
for cmd in "${!needed[@]}"; do
  if [[ $cmd == pg_ctl ]]; then find_pg_ctl && continue; else command -v "$cmd" >/dev/null && continue; fi
  missing+=("${needed[$cmd]}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing with apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages: ${missing[*]}"
    echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null; then
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
  command -v uv >/dev/null || { echo "uv was installed but is not on PATH; add ~/.local/bin to PATH" >&2; exit 1; }
fi

UV_PYTHON_DOWNLOADS=never uv sync --all-packages --locked --quiet
