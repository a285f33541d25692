#!/usr/bin/env bash
# Regenerates the lockfile fixtures with the real tools, each pinned to a version.
# Needs network access to PyPI; the tests themselves never run this.
# Usage: bash tests/data/lockfiles/regenerate.sh [STEP...]  (steps: uv piplock piptools
#        poetry2 poetry1 pdm pipenv; default all)
set -euo pipefail
# Resolve against PyPI alone, whatever the local pip configuration says.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INPUT=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL || true
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
trap 'echo "regenerate.sh: failed at line $LINENO" >&2' ERR
steps="${*:-uv piplock piptools poetry2 poetry1 pdm pipenv}"
wants() { [[ " $steps " == *" $1 "* ]]; }

tool() {  # tool NAME SPEC... : a venv with the given packages
  python3 -m venv "$work/$1"
  "$work/$1/bin/pip" install -q "${@:2}"
}
fresh() {  # fresh DIR: a clean copy of the fixture project
  rm -rf "$work/p-$1"; cp -r "$here/project" "$work/p-$1"; rm -f "$work/p-$1/Pipfile"
  echo "$work/p-$1"
}

if wants uv; then
tool uv "uv==0.13.8"
p=$(fresh uv)
(cd "$p" && "$work/uv/bin/uv" lock -q)
mkdir -p "$here/uv" && cp "$p/uv.lock" "$here/uv/uv.lock" && cp "$p/pyproject.toml" "$here/uv/"
(cd "$p" && "$work/uv/bin/uv" export -q --format pylock.toml --all-extras --all-groups -o pylock.toml)
mkdir -p "$here/pylock-uv" && cp "$p/pylock.toml" "$here/pylock-uv/pylock.toml" && cp "$p/pyproject.toml" "$here/pylock-uv/"
(cd "$p" && "$work/uv/bin/uv" pip compile -q --generate-hashes --universal pyproject.toml -o requirements.txt)
mkdir -p "$here/uv-pip-compile" && cp "$p/requirements.txt" "$here/uv-pip-compile/requirements.txt" && cp "$p/pyproject.toml" "$here/uv-pip-compile/"
fi

if wants piplock; then
tool piplock "pip==26.3"
p=$(fresh piplock)
(cd "$p" && "$work/piplock/bin/pip" lock -q . -o pylock.toml)
mkdir -p "$here/pylock-pip" && cp "$p/pylock.toml" "$here/pylock-pip/pylock.toml"
fi

if wants piptools; then
tool piptools "pip-tools==7.6.2"
p=$(fresh piptools)
(cd "$p" && "$work/piptools/bin/pip-compile" -q --generate-hashes --strip-extras -o requirements.txt pyproject.toml)
mkdir -p "$here/pip-compile" && cp "$p/requirements.txt" "$here/pip-compile/requirements.txt" && cp "$p/pyproject.toml" "$here/pip-compile/"
fi

if wants poetry2; then
tool poetry2 "poetry==2.5.1"
p=$(fresh poetry2)
# Poetry 2 asks for PEP 691 JSON; through an HTML-only (PEP 503) mirror it needs a legacy source.
printf '\n[[tool.poetry.source]]\nname = "pypi-simple"\nurl = "https://pypi.org/simple/"\npriority = "primary"\n' >> "$p/pyproject.toml"
(cd "$p" && "$work/poetry2/bin/poetry" lock -q)
mkdir -p "$here/poetry2" && cp "$p/poetry.lock" "$here/poetry2/poetry.lock" && cp "$p/pyproject.toml" "$here/poetry2/"
fi

if wants poetry1; then
tool poetry1 "poetry==1.8.5"
rm -rf "$work/p-poetry1"; cp -r "$here/project-poetry1" "$work/p-poetry1"
printf '\n[[tool.poetry.source]]\nname = "pypi-simple"\nurl = "https://pypi.org/simple/"\npriority = "primary"\n' >> "$work/p-poetry1/pyproject.toml"
(cd "$work/p-poetry1" && "$work/poetry1/bin/poetry" lock -q --no-update)
mkdir -p "$here/poetry1" && cp "$work/p-poetry1/poetry.lock" "$here/poetry1/poetry.lock" && cp "$work/p-poetry1/pyproject.toml" "$here/poetry1/"
fi

if wants pdm; then
# pdm's own dependencies broke with later hishel/httpx releases: resolve them as of its release.
"$work/uv/bin/uv" venv -q "$work/pdm" 2>/dev/null || { tool uv "uv==0.13.8"; "$work/uv/bin/uv" venv -q "$work/pdm"; }
VIRTUAL_ENV="$work/pdm" "$work/uv/bin/uv" pip install -q --exclude-newer 2025-11-15 "pdm==2.26.1"
p=$(fresh pdm)
(cd "$p" && "$work/pdm/bin/pdm" lock -q -G :all)
mkdir -p "$here/pdm" && cp "$p/pdm.lock" "$here/pdm/pdm.lock" && cp "$p/pyproject.toml" "$here/pdm/"
fi

if wants pipenv; then
tool pipenv "pipenv==2026.10.3"
rm -rf "$work/p-pipenv"; mkdir -p "$work/p-pipenv"; cp "$here/project/Pipfile" "$work/p-pipenv/"
(cd "$work/p-pipenv" && PIPENV_VENV_IN_PROJECT=1 "$work/pipenv/bin/pipenv" lock)
mkdir -p "$here/pipenv" && cp "$work/p-pipenv/Pipfile.lock" "$here/pipenv/Pipfile.lock" && cp "$work/p-pipenv/Pipfile" "$here/pipenv/"
fi
echo "fixtures regenerated in $here"
