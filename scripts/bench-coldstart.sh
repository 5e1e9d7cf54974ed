#!/usr/bin/env bash
# `make bench`, cold starts (issue 12): the first response of three functions,
# each variant beside floors measured in the same run, all timed the same way:
# whole commands (start to exit, container removal included), interleaved
# round by round, median of JOT_BENCH_RUNS (>= 5).
#   functions  increment_vector; summarise_sales (structs sorted, grouped and
#              formatted with Printf: compiles a lot on its first call);
#              SalesReport (the same work as a package, precompiled at build,
#              using a second local package, SalesCore, tracked by path);
#              stdlib_user (LinearAlgebra and Dates, outside the lean system
#              image: their caches load at the first request, issue 24)
#   variants   plain; warm-up (--warmup-payload, --warmup-always: the call moves
#              into init) - the whole command pays it either way on demand;
#              compiled (--compile: the event as exemplar, and for the package
#              --compile-tests: runtime and responder in one system image);
#              snap-start (--init-type snap-start locally: the lifecycle, not a
#              restore; the split shows what a restored sandbox would skip)
#   floors     docker run --rm IMAGE true; docker run --rm IMAGE julia -e 0
#   python     the anchor a Lambda user knows: a Python function (AWS's runtime
#              client awslambdaric, Debian bullseye, scripts/ensure-python-peer.sh)
#              started under the AWS runtime interface emulator, invoked once
#              and removed (scripts/python-coldstart.py, a whole command too)
# Also: each image's size beside the base image's, each build's time, and the
# internal split (jot-invoke --local --json) of the first invocation.
#   env: JOT_BENCH_RUNS (>= 5), JOT_BENCH_BIN, JOT_BASE_IMAGE;
#        JOT_BENCH_FUNCTIONS / JOT_BENCH_VARIANTS  a subset, space-separated
#        (default: all four functions; plain warmup compiled; full, the
#        plain build with --full-sysimage, is also a variant)
set -euo pipefail
JOT_SCRIPT_NAME=bench-coldstart.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${JOT_BENCH_BIN:-target/release}
runs=${JOT_BENCH_RUNS:-5}
[ "$runs" -ge 5 ] || die "JOT_BENCH_RUNS must be at least 5 (medians of fewer say little)"
export JOT_BASE_IMAGE=${JOT_BASE_IMAGE:-jot/julia:1.5.3-bullseye}
work=$(mktemp -d)
results=$work/results
# Every image built here is from sources under $work: removed on any exit.
trap 'remove_images_from "$work"; rm -rf "$work"' EXIT
cp -r scripts/bench-coldstart/. examples/increment_vector.jl "$work/"
read -r python_image rie < <(bash scripts/ensure-python-peer.sh) || die "the Python peer could not be built"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
json_field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval("d"+sys.argv[1]))' "$1"; }

sales='[{"region":"north","product":"tea","units":3,"price":2.5},{"region":"south","product":"jam","units":1,"price":4.0},{"region":"north","product":"jam","units":2,"price":4.0}]'
# name|path|build flags|payload
functions=(
  "increment_vector|$work/increment_vector.jl|--arg-type Vector{Int}|[1,2,3]"
  "summarise_sales|$work/summarise_sales.jl|--arg-type Vector{Sale}|$sales"
  "SalesReport|$work/SalesReport|--function report --arg-type Vector{Sale}|$sales"
  "stdlib_user|$work/stdlib_user.jl|--arg-type Vector{Float64}|[1.0,2.0,3.0]"
)

# Build every function plain and with the warm-up, timing each build (the
# runtime stage exists after the first; a package's build precompiles it).
images=()
only_functions=" ${JOT_BENCH_FUNCTIONS:-increment_vector summarise_sales SalesReport stdlib_user} "
variants=${JOT_BENCH_VARIANTS:-plain warmup compiled}
[[ " $variants " == *" plain "* ]] || die "JOT_BENCH_VARIANTS must include plain (its answer is the expected one)"
for entry in "${functions[@]}"; do
  IFS='|' read -r name path flags payload <<<"$entry"
  [[ "$only_functions" == *" $name "* ]] || continue
  for variant in $variants; do
    extra=()
    [ "$variant" = warmup ] && extra=(--warmup-payload "$payload" --warmup-always)
    [ "$variant" = compiled ] && extra=(--compile --test-payload "$payload")
    [ "$variant" = compiled ] && [ -d "$path" ] && extra+=(--compile-tests)
    [ "$variant" = full ] && extra=(--full-sysimage)
    # shellcheck disable=SC2086  # $flags is a word list
    t0=$(now_ms)
    descriptor=$("$bin/jot-build" "$path" $flags --name "bench-cs-${name,,}-$variant" "${extra[@]}")
    build_ms=$(( $(now_ms) - t0 ))
    image=$(json_field "['local_image']['image']" <<<"$descriptor")
    size=$(docker image inspect --format '{{.Size}}' "$image")
    echo "build $name $variant $build_ms $size" >>"$results"
    images+=("$name|$variant|$image|$payload")
  done
done
base_size=$(docker image inspect --format '{{.Size}}' "$JOT_BASE_IMAGE")
echo "base $base_size" >>"$results"
log "built ${#images[@]} images on $JOT_BASE_IMAGE; $runs interleaved rounds"

# The answer every timed invocation must give: the plain image's, taken once
# untimed (increment_vector's is known); every variant must give the same.
declare -A expected
for entry in "${images[@]}"; do
  IFS='|' read -r name variant image payload <<<"$entry"
  [ "$variant" = plain ] || continue
  answer=$("$bin/jot-invoke" --local --image "$image" --payload "$payload" 2>"$work/expect.err") \
    || die "$name: the untimed first invocation failed: $(tail -n 3 "$work/expect.err")"
  expected[$name]=$answer
done
[ "${expected[increment_vector]:-[2,3,4]}" = "[2,3,4]" ] || die "increment_vector answered ${expected[increment_vector]}, not [2,3,4]"

# One image stands for the floors (they do not depend on the code layer).
floor_image=$(cut -d'|' -f3 <<<"${images[0]}")
for round in $(seq "$runs"); do
  t0=$(now_ms); docker run --rm --network host --entrypoint true "$floor_image" >/dev/null 2>&1
  echo "floor true $(( $(now_ms) - t0 ))" >>"$results"
  t0=$(now_ms); docker run --rm --network host --entrypoint julia "$floor_image" -e 0 >/dev/null 2>&1
  echo "floor julia $(( $(now_ms) - t0 ))" >>"$results"
  t0=$(now_ms)
  python3 scripts/python-coldstart.py "$python_image" "$rie" '[1,2,3]' '[2,3,4]' \
    || die "the Python peer failed in round $round"
  echo "floor python $(( $(now_ms) - t0 ))" >>"$results"
  for entry in "${images[@]}"; do
    IFS='|' read -r name variant image payload <<<"$entry"
    types=(on-demand)
    [ "$variant" = warmup ] && types=(on-demand snap-start)
    for type in "${types[@]}"; do
      label=$variant
      [ "$type" = snap-start ] && label=snapstart
      t0=$(now_ms)
      # A wrong answer (exit 4) or any failure stops the bench: a figure of a
      # run that did not do the work is no figure.
      if ! "$bin/jot-invoke" --local --image "$image" --payload "$payload" --init-type "$type" \
          --expect "${expected[$name]}" --json >/dev/null 2>"$work/invoke.err"; then
        die "$name $label: jot-invoke failed in round $round: $(tail -n 3 "$work/invoke.err")"
      fi
      elapsed=$(( $(now_ms) - t0 ))
      report=$(grep '^{' "$work/invoke.err" | head -n 1)
      [ -n "$report" ] || die "$name $label: jot-invoke --json printed no timings"
      echo "invoke $name $label $elapsed $report" >>"$results"
    done
  done
  log "round $round of $runs done"
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [l.rstrip("\n").split(" ", 4) for l in open(sys.argv[1])]
med = lambda xs: statistics.median(xs) if xs else float("nan")
floor = {k: med([float(r[2]) for r in rows if r[0] == "floor" and r[1] == k]) for k in ("true", "julia", "python")}
base = next(int(r[1]) for r in rows if r[0] == "base")
builds = {(r[1], r[2]): (int(r[3]), int(r[4])) for r in rows if r[0] == "build"}
print(f"\nfloors (median of whole commands): docker run --rm IMAGE true {floor['true']:.0f} ms, "
      f"docker run --rm IMAGE julia -e 0 {floor['julia']:.0f} ms; Python (awslambdaric under the AWS "
      f"emulator, create -> answer -> removed) {floor['python']:.0f} ms ({floor['python'] - floor['true']:+.0f} ms over true)")
print(f"{'function':18} {'variant':10} {'whole ms':>9} {'+ms true':>8} {'x true':>7} {'x python':>8} {'x julia':>8} "
      f"{'build ms':>9} {'image MB':>9} {'+base MB':>8} {'read MB':>7}   internal split of the first invocation (median ms)")
phases = ["container_create_start", "julia_start", "runtime_load", "responder_load", "warm_up",
          "to_first_next", "snapshot_restore", "first_response"]
for (name, variant) in dict.fromkeys((r[1], r[2]) for r in rows if r[0] == "invoke"):
    mine = [r for r in rows if r[0] == "invoke" and r[1] == name and r[2] == variant]
    whole = med([float(r[3]) for r in mine])
    splits = [json.loads(r[4]).get("cold_start") or {} for r in mine if len(r) > 4 and r[4]]
    split = "  ".join(f"{p} {med([s[p + '_ms'] for s in splits if p + '_ms' in s]):.0f}"
                      for p in phases if any(p + "_ms" in s for s in splits))
    build_ms, size = builds.get((name, "warmup" if variant == "snapstart" else variant), (0, 0))
    reads = [json.loads(r[4]).get("init_bytes_read") for r in mine if len(r) > 4 and r[4]]
    reads = [b for b in reads if b is not None]
    read = f"{med(reads) / 1e6:7.1f}" if reads else f"{'-':>7}"
    print(f"{name:18} {variant:10} {whole:9.0f} {whole - floor['true']:+8.0f} {whole / floor['true']:7.2f} "
          f"{whole / floor['python']:8.2f} {whole / floor['julia']:8.2f} "
          f"{build_ms:9d} {size / 1e6:9.1f} {(size - base) / 1e6:8.1f} {read}   {split}")
print(f"base image {base / 1e6:.1f} MB; read MB: bytes read from storage during init (cgroup I/O "
      "statistics; reads served by the page cache are not counted).  Targets (issue 24): plain "
      "increment_vector <= 1.1x Python and <= 1.7x true, compiled <= 0.9x Python and <= 1.35x true; "
      "jot's layers <= 90 MB plain, <= 120 MB compiled.")
PY
