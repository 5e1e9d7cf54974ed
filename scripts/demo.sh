#!/usr/bin/env bash
# The main job from README.md: build examples/increment_vector.jl into a Lambda
# image and invoke it locally, exactly as Lambda would run it.
# Uses the official Julia image when it is present or can be pulled; otherwise
# (no internet) the project's offline Julia image, and says so.
set -euo pipefail
JOT_SCRIPT_NAME=demo.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-docker.sh
bin=target/debug
if [ -z "${JOT_BASE_IMAGE:-}" ]; then
  official="julia:$(sed -n 's/^pub const DEFAULT_JULIA_VERSION: &str = "\(.*\)";/\1/p' crates/jot-core/src/build.rs)"
  if docker image inspect "$official" >/dev/null 2>&1 || timeout 60 docker pull "$official" >/dev/null 2>&1; then
    export JOT_BASE_IMAGE=$official
  else
    export JOT_BASE_IMAGE=${JOT_OFFLINE_JULIA_IMAGE:-jot/julia:1.5.3-bullseye}
    log "the official image $official cannot be had (no network?); using the offline image $JOT_BASE_IMAGE"
    bash scripts/ensure-julia-image.sh "$JOT_BASE_IMAGE"
  fi
fi
log "building with base image $JOT_BASE_IMAGE"
set -x
"$bin/jot-build" examples/increment_vector.jl --arg-type 'Vector{Int}' \
  | "$bin/jot-invoke" --local --payload '[1,2,3]' --expect '[2,3,4]'
