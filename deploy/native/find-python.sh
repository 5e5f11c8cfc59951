#!/usr/bin/env bash
# `find-python.sh 3.13`: print the path of a CPython 3.13 on this machine, or exit 1 saying so.
# `make <target> PYTHON=3.13` hands that path to uv (which never downloads a Python).
#
# Looked for in this order:
# 1. `python3.13` on PATH, when it runs and is 3.13;
# 2. pyenv's newest 3.13: pyenv's shims answer only for the versions `pyenv global` selects, so
#    `python3.13` on PATH can be a shim that fails (and uv stops at the first one that does);
# 3. uv's own discovery of system interpreters.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=${1:-}
[[ $version =~ ^3\.[0-9]+$ ]] || {
  echo "find-python.sh: '$version' is not a Python version such as 3.13" >&2
  exit 2
}

# Prints the interpreter's real path (not a shim's) only when it is the version asked for.
is_version() {
  "$1" -c 'import sys; v = "%d.%d" % sys.version_info[:2]
if v != sys.argv[1] or sys.implementation.name != "cpython": sys.exit(1)
print(sys.executable)' "$version" 2>/dev/null
}

if command -v "python$version" >/dev/null && is_version "python$version"; then
  exit 0
fi
if command -v pyenv >/dev/null && installed=$(pyenv latest "$version" 2>/dev/null) \
  && found=$(PYENV_VERSION=$installed pyenv which "python$version" 2>/dev/null) \
  && is_version "$found"; then
  exit 0
fi
uv=${UV:-.threadline/cache/uv/bin/uv}
if [[ -x $uv ]] && found=$(UV_PYTHON_DOWNLOADS=never "$uv" python find --system --no-project \
  "$version" 2>/dev/null) && is_version "$found"; then
  exit 0
fi
echo "find-python.sh: no Python $version found (python$version on PATH, pyenv, uv)" >&2
exit 1
