#!/usr/bin/env bash
# `make bench` (inventory part), against MiniStack on 127.0.0.1:4566:
#   jot-ls --remote over N jots (default 300): each an ECR repository with an
#   image, a function pinned to it, one published version and an alias, all
#   tagged as jot's, beside the same listing made one call at a time, as a
#   careful script would (the calls jot-ls makes, no GetFunction of a version
#   whose CodeSha256 already gives its digest):
#     - with botocore in one Python process, one call after another (all N)
#     - with the AWS CLI, one process per call, as Jot.jl does, over S jots
#       (default 10: ~0.4 s a call), beside jot-ls over the same S jots
#   Every figure has the same warm-up (one untimed run) and the same number
#   of timed runs (median, min-max); each ratio compares the same jots.
# Every run creates its own names (bench-ls-PID-…) and removes them with
# jot-rm at the end, also on failure.
#   env: JOT_BENCH_BIN   directory of the jot executables (default: target/release
#                        when it has jot-ls, else target/debug)
#        JOT_BENCH_RUNS  runs of jot-ls (median; default 3)
#        JOT_BENCH_LS_N  jots (default 300); JOT_BENCH_LS_SAMPLE  AWS CLI sample (10)
#        JOT_VENV        virtualenv with MiniStack; awscli is installed there
set -euo pipefail
JOT_SCRIPT_NAME=bench-ls.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=$(bench_bin jot-ls)
runs=${JOT_BENCH_RUNS:-3}
count=${JOT_BENCH_LS_N:-300}
sample=${JOT_BENCH_LS_SAMPLE:-10}
venv=${JOT_VENV:-$HOME/.cache/jot/venv}
awscli_version=${JOT_AWSCLI_VERSION:-1.46.3}
for tool in jot-ls jot-rm; do
  [ -x "$bin/$tool" ] || die "$bin/$tool is missing: run cargo build first"
done
bash scripts/ensure-ministack.sh
if [ ! -x "$venv/bin/aws" ]; then
  log "pip install awscli==$awscli_version (the peer: one AWS CLI process per call)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "awscli==$awscli_version" >&2 \
    || die "pip install awscli==$awscli_version failed"
fi

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:4566
unset AWS_PROFILE AWS_SESSION_TOKEN
prefix=bench-ls-$$-$(date +%s)
work=$(mktemp -d)
cleanup() {
  "$bin/jot-rm" "$prefix-*" --yes --force -q >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "creating $count jots named $prefix-NNN (repository + image, function, version, alias)"
"$venv/bin/python" - "$prefix" "$count" <<'EOF'
import hashlib, json, sys
from concurrent.futures import ThreadPoolExecutor
import botocore.session
prefix, count = sys.argv[1], int(sys.argv[2])
session = botocore.session.get_session()
ecr = session.create_client("ecr", endpoint_url="http://127.0.0.1:4566")
lam = session.create_client("lambda", endpoint_url="http://127.0.0.1:4566")
def make(i):
    name = f"{prefix}-{i:03d}"
    tags = {"dev.jot.name": name, "dev.jot.function": "f", "dev.jot.tree-hash": "00",
            "dev.jot.responder-kind": "script", "org.opencontainers.image.source": "/bench/f.jl"}
    repo = ecr.create_repository(repositoryName=name,
                                 tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + hashlib.sha256(name.encode()).hexdigest()}})
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="t1", imageDigest=digest)
    uri = repo["repository"]["repositoryUri"]
    lam.create_function(FunctionName=name, PackageType="Image", Code={"ImageUri": f"{uri}@{digest}"},
                        Role="arn:aws:iam::123456789012:role/bench-ls", Tags=tags)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
with ThreadPoolExecutor(8) as pool:
    list(pool.map(make, range(count)))
EOF

now_ns() { date +%s%N; }
# timed OUT CMD...: one untimed warm-up run, then $runs timed runs of CMD
# (milliseconds, one a line, into OUT); any failure stops the bench.
timed() {
  local out=$1 t0; shift
  : >"$out"
  "$@" >/dev/null 2>"$work/timed.err" || die "$* failed: $(tail -n 3 "$work/timed.err")"
  for _ in $(seq "$runs"); do
    t0=$(now_ns)
    "$@" >/dev/null 2>"$work/timed.err" || die "$* failed: $(tail -n 3 "$work/timed.err")"
    echo $(( ($(now_ns) - t0) / 1000000 )) >>"$out"
  done
}
# stats FILE: "median (min-max)" in seconds; median_of FILE: the median in ms
median_of() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
stats() { sort -n "$1" | awk '{a[NR]=$1} END {m=(NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f s (%.2f-%.2f)", m/1000, a[1]/1000, a[NR]/1000}'; }

rows=$("$bin/jot-ls" --remote "$prefix-*" --json | wc -l)
[ "$rows" -eq "$count" ] || die "jot-ls listed $rows jots, expected $count"
mapfile -t sample_names < <(for i in $(seq 0 $((sample - 1))); do printf '%s-%03d\n' "$prefix" "$i"; done)
rows=$("$bin/jot-ls" --remote "${sample_names[@]}" --json | wc -l)
[ "$rows" -eq "$sample" ] || die "jot-ls listed $rows of the $sample sample jots"

# The same calls one at a time: list functions and repositories (all pages),
# then per jot GetFunction, ListVersionsByFunction, ListAliases, GetFunction
# of each version, ListTagsForResource and DescribeImages of the repository.
cat >"$work/sequential.py" <<'EOF'
import subprocess, sys, json, time
mode, prefix, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "cli":
    def call(service, op, **kw):
        args = ["aws", service, op, "--output", "json"]
        for k, v in kw.items():
            args += ["--" + k, v]
        return json.loads(subprocess.run(args, check=True, capture_output=True).stdout or "{}")
else:
    import botocore.session
    session = botocore.session.get_session()
    clients = {s: session.create_client(s, endpoint_url="http://127.0.0.1:4566") for s in ("ecr", "lambda")}
    names = {"function-name": "FunctionName", "qualifier": "Qualifier", "repository-name": "repositoryName",
             "resource-arn": "resourceArn"}
    def call(service, op, **kw):
        client, kw = clients[service], {names[k]: v for k, v in kw.items()}
        op = op.replace("-", "_")
        if op in ("list_functions", "describe_repositories"):
            # All pages, as the CLI does by itself.
            return client.get_paginator(op).paginate(**kw).build_full_result()
        return getattr(client, op)(**kw)
functions = [f["FunctionName"] for f in call("lambda", "list-functions")["Functions"]]
repos = call("ecr", "describe-repositories")["repositories"]
mine = sorted(f for f in functions if f.startswith(prefix))[:limit]
assert len(mine) == limit, (len(mine), limit)
arns = {r["repositoryName"]: r["repositoryArn"] for r in repos}
for name in mine:
    call("lambda", "get-function", **{"function-name": name})
    versions = call("lambda", "list-versions-by-function", **{"function-name": name})["Versions"]
    call("lambda", "list-aliases", **{"function-name": name})
    for v in versions:
        # As jot-ls: a version's own GetFunction only when CodeSha256 is not the image digest.
        sha = v.get("CodeSha256", "")
        if v["Version"] != "$LATEST" and not (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
            call("lambda", "get-function", **{"function-name": name, "qualifier": v["Version"]})
    call("ecr", "list-tags-for-resource", **{"resource-arn": arns[name]})
    call("ecr", "describe-images", **{"repository-name": name})
print(len(mine))
EOF
timed "$work/jot-all" "$bin/jot-ls" --remote "$prefix-*" --json
timed "$work/sdk-all" "$venv/bin/python" "$work/sequential.py" sdk "$prefix" "$count"
timed "$work/jot-sample" "$bin/jot-ls" --remote "${sample_names[@]}" --json
timed "$work/cli-sample" env PATH="$venv/bin:$PATH" "$venv/bin/python" "$work/sequential.py" cli "$prefix" "$sample"

ratio() { awk -v a="$(median_of "$1")" -v b="$(median_of "$2")" 'BEGIN { printf "%.1fx", (b > 0) ? a / b : 0 }'; }
echo
echo "jot-ls --remote (each jot: repository + image, function, version, alias), $bin;"
echo "one warm-up and $runs timed runs of each, median (min-max):"
printf '  %-52s %26s\n' "jot-ls --remote --json, $count jots" "$(stats "$work/jot-all")"
printf '  %-52s %26s  (%s jot-ls)\n' "one call at a time, botocore in one process, $count jots" \
  "$(stats "$work/sdk-all")" "$(ratio "$work/sdk-all" "$work/jot-all")"
printf '  %-52s %26s\n' "jot-ls --remote --json, $sample jots" "$(stats "$work/jot-sample")"
printf '  %-52s %26s  (%s jot-ls)\n' "one AWS CLI process per call, $sample jots" \
  "$(stats "$work/cli-sample")" "$(ratio "$work/cli-sample" "$work/jot-sample")"
