#!/usr/bin/env bash
# Runs the test suite twice in a row and prints what the engine and MiniStack
# hold before, between and after: containers, images (tagged and dangling) and
# MiniStack's repositories, functions and roles. Issue 11 asks that two runs
# leave nothing behind; the first run on a fresh machine may add the shared
# runtime stage (jot-runtime:KEY, kept on purpose), the second must add nothing.
#   usage: bash scripts/leak-check.sh [TEST COMMAND...]   (default: make test)
set -euo pipefail
JOT_SCRIPT_NAME=leak-check.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-sdk-clients.sh
aws_cli() {
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    "${JOT_SDK_VENV:-$HOME/.cache/jot/sdk-venv}/bin/aws" --endpoint-url http://127.0.0.1:4566 "$@"
}
count() { # count LABEL: one line of counts
  local containers images dangling repos functions roles
  containers=$(docker ps -aq | wc -l)
  images=$(docker images -q --filter dangling=false | sort -u | wc -l)
  dangling=$(docker images -q --filter dangling=true | wc -l)
  repos=$(aws_cli ecr describe-repositories --query 'length(repositories)' --output text)
  functions=$(aws_cli lambda list-functions --query 'length(Functions)' --output text)
  roles=$(aws_cli iam list-roles --query 'length(Roles)' --output text)
  printf '%-8s containers %3s  images %3s  dangling %3s  repositories %3s  functions %3s  roles %3s\n' \
    "$1" "$containers" "$images" "$dangling" "$repos" "$functions" "$roles"
}
[ $# -gt 0 ] || set -- make test
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
count before | tee -a "$counts"
"$@"
count between | tee -a "$counts"
"$@"
count after | tee -a "$counts"
echo "== leak check (two runs of: $*)"
cat "$counts"
