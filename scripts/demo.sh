#!/usr/bin/env bash
# The main job from README.md: build examples/increment_vector.jl into a Lambda
# image and invoke it locally, exactly as Lambda would run it.
# Uses the official Julia image when the engine has it (JOT_DEMO_PULL=1 tries
# to pull it first); otherwise the project's offline Julia image, and says so.
# Nothing is pulled unless asked: on machines without internet even trying
# sends traffic where it must not go.
set -euo pipefail
JOT_SCRIPT_NAME=demo.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-docker.sh
bin=target/debug
if [ -z "${JOT_BASE_IMAGE:-}" ]; then
  version=$(sed -n 's/^pub const DEFAULT_JULIA_VERSION: &str = "\(.*\)";/\1/p' crates/jot-image/src/base.rs)
  [ -n "$version" ] || die "cannot read DEFAULT_JULIA_VERSION from crates/jot-image/src/base.rs"
  official="julia:$version"
  if [ "${JOT_DEMO_PULL:-0}" = 1 ] && ! docker image inspect "$official" >/dev/null 2>&1; then
    timeout 300 docker pull "$official" >&2 || log "could not pull $official"
  fi
  if docker image inspect "$official" >/dev/null 2>&1; then
    export JOT_BASE_IMAGE=$official
  else
    export JOT_BASE_IMAGE=${JOT_OFFLINE_JULIA_IMAGE:-jot/julia:1.5.3-bullseye}
    log "the official image $official is not in the engine (JOT_DEMO_PULL=1 pulls it); using the offline image $JOT_BASE_IMAGE"
    bash scripts/ensure-julia-image.sh "$JOT_BASE_IMAGE"
  fi
fi
log "building with base image $JOT_BASE_IMAGE"
set -x
"$bin/jot-build" examples/increment_vector.jl --arg-type 'Vector{Int}' \
  | "$bin/jot-invoke" --local --payload '[1,2,3]' --expect '[2,3,4]'
