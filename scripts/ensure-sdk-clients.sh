#!/usr/bin/env bash
# Make sure the AWS SDK clients the jot-serve tests drive (boto3 and the AWS
# CLI, both from PyPI) are installed in their own virtualenv, apart from
# MiniStack's (the AWS CLI pins its own botocore).
#   env: JOT_SDK_VENV  virtualenv (default ~/.cache/jot/sdk-venv)
# Prints nothing on success; the tests find the clients in $JOT_SDK_VENV/bin.
set -euo pipefail
JOT_SCRIPT_NAME=ensure-sdk-clients.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

venv=${JOT_SDK_VENV:-$HOME/.cache/jot/sdk-venv}
if [ -x "$venv/bin/aws" ] && "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  exit 0
fi
make_venv "$venv"
log "pip install boto3 awscli"
"$venv/bin/python" -m pip install -q --disable-pip-version-check boto3 awscli >&2 \
  || die "pip install boto3 awscli failed"
