#!/usr/bin/env bash
# `make bench`: jot's speed beside its floors, all measured in this run.
#   cold start   container create -> first response   vs  docker run IMAGE julia -e 0
#                                                      (and docker run IMAGE true)
#   warm         p50 / p99 over 1000 invocations of one warm sandbox
#   rebuild      jot-build after a one-line code change vs a fully cached jot-build,
#                and vs the engine's own cost of adding one layer (docker load of
#                a one-file layer, timed over the socket by layer-floor.py)
# Targets (issue 2): warm p50 <= 0.5 ms, p99 <= 2 ms; cold <= 2x julia floor;
# rebuild <= 1.2x cached build.
set -euo pipefail
JOT_SCRIPT_NAME=bench.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${JOT_BENCH_BIN:-target/release}
runs=${JOT_BENCH_RUNS:-5}
export JOT_BASE_IMAGE=${JOT_BASE_IMAGE:-jot/julia:1.5.3-bullseye}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/increment_vector.jl "$work/increment_vector.jl"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# time_ms CMD...: wall milliseconds of one run, output discarded
time_ms() { local t0; t0=$(now_ms); "$@" >/dev/null 2>&1; echo $(( $(now_ms) - t0 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }'; }
json_field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval("d"+sys.argv[1]))' "$1"; }

build() { "$bin/jot-build" "$work/increment_vector.jl" --arg-type 'Vector{Int}'; }
descriptor=$(build)
image=$(json_field "['local_image']['image']" <<<"$descriptor")
log "image $image (base $JOT_BASE_IMAGE), $runs runs per figure, binaries from $bin"

# Floors.
floor_true=$(for _ in $(seq "$runs"); do time_ms docker run --rm --network host --entrypoint true "$image"; done | median)
floor_julia=$(for _ in $(seq "$runs"); do time_ms docker run --rm --network host --entrypoint julia "$image" -e 0; done | median)

# Cold start and warm latency, from jot-invoke's own report.
cold=()
for _ in $(seq "$runs"); do
  report=$("$bin/jot-invoke" --payload '[1,2,3]' --json <<<"$descriptor" 2>&1 >/dev/null | grep '^{')
  cold+=("$(json_field "['first_response_ms']" <<<"$report")")
done
cold_ms=$(printf '%s\n' "${cold[@]}" | median)
warm=$("$bin/jot-invoke" --payload '[1,2,3]' --repeat 1001 --json <<<"$descriptor" 2>&1 >/dev/null | grep '^{')
p50=$(json_field "['warm']['p50_ms']" <<<"$warm")
p99=$(json_field "['warm']['p99_ms']" <<<"$warm")
count=$(json_field "['warm']['count']" <<<"$warm")

# Rebuilds: fully cached vs a one-line change of the user's code.
cached=$(for _ in $(seq "$runs"); do time_ms build; done | median)
# edited_ms FILE CMD...: median over $runs of CMD run after a one-line edit of FILE
edited_ms() {
  local file=$1 i
  shift
  for i in $(seq "$runs"); do
    echo "# edit $i $(date +%s%N)" >>"$file"
    time_ms "$@"
  done | median
}
rebuild=$(edited_ms "$work/increment_vector.jl" build)
layer_floor=$(python3 scripts/layer-floor.py "$image" "$runs")

# For comparison, what a Dockerfile-based tool (SAM, Jot.jl) pays for the same
# code layer: the engine's classic builder, COPY of the script onto the image.
peer="$work/peer"
mkdir -p "$peer"
cp "$work/increment_vector.jl" "$peer/"
printf 'FROM %s\nCOPY increment_vector.jl /var/task/increment_vector.jl\n' "$image" >"$peer/Dockerfile"
docker_build() { DOCKER_BUILDKIT=0 docker build -q --network host -t jot-bench-peer "$peer"; }
docker_build >/dev/null 2>&1
peer_cached=$(for _ in $(seq "$runs"); do time_ms docker_build; done | median)
peer_rebuild=$(edited_ms "$peer/increment_vector.jl" docker_build)
docker image rm jot-bench-peer >/dev/null 2>&1 || true

printf '\n%-44s %12s %12s %8s\n' "figure" "jot" "floor" "ratio"
printf '%-44s %10s ms %10s ms %8s\n' "cold start (create -> first response)" "$cold_ms" "$floor_julia" "$(ratio "$cold_ms" "$floor_julia")"
printf '%-44s %12s %10s ms %8s\n' "  floor: docker run IMAGE true" "" "$floor_true" ""
printf '%-44s %10s ms %12s %8s\n' "warm p50 ($count invocations)" "$p50" "target 0.5" "$(ratio "$p50" 0.5)"
printf '%-44s %10s ms %12s %8s\n' "warm p99 ($count invocations)" "$p99" "target 2.0" "$(ratio "$p99" 2.0)"
printf '%-44s %10s ms %10s ms %8s\n' "rebuild after a one-line change" "$rebuild" "$cached" "$(ratio "$rebuild" "$cached")"
printf '%-44s\n' "  floor: fully cached jot-build"
printf '%-44s %10s ms %10s ms %8s\n' "rebuild after a one-line change" "$rebuild" "$layer_floor" "$(ratio "$rebuild" "$layer_floor")"
printf '%-44s\n' "  floor: the engine loading one new layer"
printf '%-44s %10s ms %10s ms %8s\n' "  docker build (classic): edit / cached" "$peer_rebuild" "$peer_cached" "$(ratio "$peer_rebuild" "$peer_cached")"
printf '%-44s %10s ms %10s ms %8s\n' "  jot rebuild vs docker build after the edit" "$rebuild" "$peer_rebuild" "$(ratio "$rebuild" "$peer_rebuild")"
