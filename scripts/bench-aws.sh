#!/usr/bin/env bash
# `make bench` (AWS part), against MiniStack on 127.0.0.1:4566 and the real
# Docker engine, wall times (median of N runs) and ratios:
#   push     an unchanged image (fast path: the repository already holds its
#            digest)  vs  a first push (a new repository and an image whose
#            code layer the registry has never seen: every run pushes bytes)
#   deploy   an unchanged image (nothing to update, nothing published)
#            vs  a changed one (update code, wait, publish a version, move
#            alias); every changed sample is checked to have published a version
# The engine pushes through scripts/count-proxy.py in front of MiniStack's
# registry, so the fast path is proved to have sent nothing (no request
# reached the registry during those runs); any failing command stops the
# bench. Everything it creates (images, repositories, the function) is removed
# at exit.
# Uses hyperfine when installed, else a bash loop timed with date +%s%N.
#   env: JOT_BENCH_BIN   directory of the jot executables (default: target/release
#                        when it has jot-push, else target/debug)
#        JOT_BENCH_RUNS  runs per figure (default 5)
set -euo pipefail
shopt -s inherit_errexit
JOT_SCRIPT_NAME=bench-aws.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=$(bench_bin jot-push)
runs=${JOT_BENCH_RUNS:-5}
for tool in jot-build jot-push jot-deploy; do
  [ -x "$bin/$tool" ] || die "$bin/$tool is missing: run cargo build first"
done
bash scripts/ensure-ministack.sh

export JOT_BASE_IMAGE=${JOT_BASE_IMAGE:-jot/julia:1.5.3-bullseye}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:4566
unset AWS_PROFILE AWS_SESSION_TOKEN

work=$(mktemp -d)
proxy_pid=
python3 scripts/count-proxy.py 4566 "$work/registry.log" >"$work/proxy.port" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
[ -s "$work/proxy.port" ] || die "scripts/count-proxy.py did not start"
export JOT_REGISTRY=127.0.0.1:$(cat "$work/proxy.port")
name=bench-aws-$$-$(date +%s)
# delete_aws NAME...: delete ECR repositories (with their images) and Lambda
# functions of these names in MiniStack (the same unsigned calls the tests make).
delete_aws() {
  python3 - "$@" <<'PY'
import http.client, json, sys
auth = lambda s: f"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{s}/aws4_request, SignedHeaders=host, Signature=0"
for name in sys.argv[1:]:
    c = http.client.HTTPConnection("127.0.0.1", 4566, timeout=30)
    c.request("POST", "/", json.dumps({"repositoryName": name, "force": True}),
              {"Content-Type": "application/x-amz-json-1.1", "Authorization": auth("ecr"),
               "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DeleteRepository"})
    c.getresponse().read()
    c.request("DELETE", f"/2015-03-31/functions/{name}", headers={"Authorization": auth("lambda")})
    c.getresponse().read()
PY
}
cleanup() {
  local names=("$name")
  for i in $(seq "$runs"); do names+=("$name-first-$i"); done
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  delete_aws "${names[@]}" || true
  remove_images_from "$work"
  rm -rf "$work"
}
trap cleanup EXIT
printf 'increment_vector(v::Vector{Int}) = v .+ 1\n' >"$work/v1.jl"
printf 'increment_vector(v::Vector{Int}) = v .+ 2\n' >"$work/v2.jl"
"$bin/jot-build" "$work/v1.jl" --function increment_vector --name "$name" --arg-type 'Vector{Int}' >"$work/local1.json"
"$bin/jot-build" "$work/v2.jl" --function increment_vector --name "$name" --arg-type 'Vector{Int}' >"$work/local2.json"
"$bin/jot-push" <"$work/local1.json" >"$work/remote1.json" 2>"$work/setup.err" || die "jot-push: $(tail -n 3 "$work/setup.err")"
"$bin/jot-push" <"$work/local2.json" >"$work/remote2.json" 2>"$work/setup.err" || die "jot-push: $(tail -n 3 "$work/setup.err")"
"$bin/jot-deploy" --alias live <"$work/remote2.json" >/dev/null 2>"$work/setup.err" || die "jot-deploy: $(tail -n 3 "$work/setup.err")"
log "function $name, $runs runs per figure, binaries from $bin"

# The commands measured. Each first push has its own repository and its own
# script (a new code layer), built before timing; a counter picks the next.
for i in $(seq "$runs"); do
  printf 'increment_vector(v::Vector{Int}) = v .+ 1\n# first push %s %s\n' "$i" "$name" >"$work/first$i.jl"
  "$bin/jot-build" "$work/first$i.jl" --function increment_vector --name "$name-first-$i" \
    --arg-type 'Vector{Int}' >"$work/first$i.json"
done
echo 0 >"$work/n"
cat >"$work/first-push.sh" <<EOF
n=\$(( \$(cat "$work/n") + 1 )); echo "\$n" >"$work/n"
"$bin/jot-push" <"$work/first\$n.json"
EOF
cat >"$work/fast-push.sh" <<EOF
"$bin/jot-push" <"$work/local1.json"
EOF
# A changed deploy alternates between the two images, starting with the one
# not deployed (remote2 is), so each run updates code; each prints its version.
cat >"$work/changed-deploy.sh" <<EOF
n=\$(( \$(cat "$work/n") + 1 )); echo "\$n" >"$work/n"
"$bin/jot-deploy" --alias live <"$work/remote\$(( (n + 1) % 2 + 1 )).json" >>"$work/versions"
EOF
cat >"$work/unchanged-deploy.sh" <<EOF
"$bin/jot-deploy" --alias live <"$work/remote2.json"
EOF

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# measure SCRIPT: median wall milliseconds over $runs runs
measure() {
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --runs "$runs" --warmup 0 --export-json "$work/h.json" --output null \
      "bash $1" >/dev/null 2>"$work/measure.err" || die "$1 failed: $(tail -n 3 "$work/measure.err")"
    python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000, 1))' "$work/h.json"
  else
    for _ in $(seq "$runs"); do
      t0=$(now_ns)
      bash -e "$1" >/dev/null 2>"$work/measure.err" || die "$1 failed: $(tail -n 3 "$work/measure.err")"
      echo $(( ($(now_ns) - t0) / 1000000 ))
    done | median
  fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0) ? a / b : 0 }'; }

first_push=$(measure "$work/first-push.sh")
[ -s "$work/registry.log" ] || die "the first pushes sent no request to the registry: the proxy counts nothing"
: >"$work/registry.log"
fast_push=$(measure "$work/fast-push.sh")
# The fast path's proof: not one request reached the registry.
[ ! -s "$work/registry.log" ] || die "the unchanged pushes sent $(wc -l <"$work/registry.log") request(s) to the registry: $(head -n 3 "$work/registry.log" | tr '\n' ' ')"
echo 0 >"$work/n"
: >"$work/versions"
changed_deploy=$(measure "$work/changed-deploy.sh")
published=$(python3 -c 'import json,sys; print(len({json.loads(l)["function"]["version"] for l in open(sys.argv[1]) if l.strip()}))' "$work/versions")
[ "$published" -eq "$runs" ] || die "only $published of $runs changed deploys published a new version"
"$bin/jot-deploy" --alias live <"$work/remote2.json" >/dev/null 2>"$work/setup.err" || die "jot-deploy: $(tail -n 3 "$work/setup.err")"
unchanged_deploy=$(measure "$work/unchanged-deploy.sh")

tool=$(command -v hyperfine >/dev/null 2>&1 && echo hyperfine || echo "bash loop")
echo "AWS (MiniStack), median of $runs runs ($tool):"
printf '  push   first (new repository, new layer) %8s ms\n' "$first_push"
printf '  push   unchanged (fast path)             %8s ms   %s faster; 0 registry requests\n' "$fast_push" "$(ratio "$first_push" "$fast_push")"
printf '  deploy changed (%s new versions)         %8s ms\n' "$published" "$changed_deploy"
printf '  deploy unchanged image                   %8s ms   %s faster\n' "$unchanged_deploy" "$(ratio "$changed_deploy" "$unchanged_deploy")"
