#!/usr/bin/env bash
# Make sure cargo-lambda (PyPI wheel `cargo-lambda`, a prebuilt binary) is
# installed in its own virtualenv: `make bench` runs its `watch` beside
# jot-serve as the peer.
#   env: JOT_CARGO_LAMBDA_VENV  virtualenv (default ~/.cache/jot/cargo-lambda-venv)
# Prints the path of the cargo-lambda executable.
set -euo pipefail
JOT_SCRIPT_NAME=ensure-cargo-lambda.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv=${JOT_CARGO_LAMBDA_VENV:-$HOME/.cache/jot/cargo-lambda-venv}
if [ ! -x "$venv/bin/cargo-lambda" ]; then
  make_venv "$venv"
  log "pip install cargo-lambda"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check cargo-lambda >&2 \
    || die "pip install cargo-lambda failed"
fi
echo "$venv/bin/cargo-lambda"
