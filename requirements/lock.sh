#!/usr/bin/env bash
# Regenerates bastion's own hash-locked requirement files (needs network access to PyPI).
#   install.txt  runtime dependencies + the ruff and sbom extras + the build backend (quick start)
#   test.txt     all of the above + the inventory, proxy, provenance, watch and test extras (README's second command, .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--universal --generate-hashes --python-version 3.11 --quiet)
uv pip compile pyproject.toml requirements/build.in --extra ruff --extra sbom "${common[@]}" \
    -o requirements/install.txt
uv pip compile pyproject.toml requirements/build.in --extra ruff --extra sbom --extra inventory --extra proxy --extra provenance --extra watch \
    --extra test "${common[@]}" \
    -o requirements/test.txt
