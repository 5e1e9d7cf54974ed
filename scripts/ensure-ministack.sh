#!/usr/bin/env bash
# Make sure MiniStack (local AWS emulator: ECR + registry, Lambda, IAM, STS)
# answers on 127.0.0.1:$MINISTACK_PORT. Installs it from PyPI into a virtualenv
# when missing, then starts it in the background.
#   env: MINISTACK_PORT         port (default 4566)
#        JOT_VENV               virtualenv (default ~/.cache/jot/venv)
#        JOT_MINISTACK_VERSION  PyPI version to install (default pinned below)
#        JOT_STATE_DIR          log and pid files (default ~/.cache/jot)
#        JOT_MINISTACK_WAIT     seconds to wait for it (default 60)
set -euo pipefail
JOT_SCRIPT_NAME=ensure-ministack.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=${MINISTACK_PORT:-4566}
venv=${JOT_VENV:-$HOME/.cache/jot/venv}
version=${JOT_MINISTACK_VERSION:-1.5.33}
state=${JOT_STATE_DIR:-$HOME/.cache/jot}
log_file=$state/ministack-$port.log
pid_file=$state/ministack-$port.pid
health_url=http://127.0.0.1:$port/_ministack/health

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
healthy() { curl -fsS --max-time 2 "$health_url" 2>/dev/null | grep -q '"services"'; }

if healthy; then
  exit 0
fi

# Install (or upgrade to the pinned version) when missing.
if ! compgen -G "$venv/lib/python3*/site-packages/ministack-$version.dist-info" >/dev/null \
   || [ ! -x "$venv/bin/ministack" ]; then
  make_venv "$venv"
  log "pip install ministack==$version"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "ministack==$version" >&2 \
    || die "pip install ministack==$version failed"
fi

# Something else on the port?
if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
  die "127.0.0.1:$port answers but is not a healthy MiniStack ($health_url)"
fi

mkdir -p "$state"
log "starting MiniStack on 127.0.0.1:$port, log: $log_file"
echo "=== $(date -u +%FT%TZ) ensure-ministack.sh: ministack $version" >>"$log_file"
BIND_HOST=127.0.0.1 GATEWAY_PORT=$port IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 \
  MINISTACK_ACCOUNT_ID=123456789012 \
  nohup "$venv/bin/ministack" >>"$log_file" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pid_file"

deadline=$((SECONDS + ${JOT_MINISTACK_WAIT:-60}))
until healthy; do
  kill -0 "$pid" 2>/dev/null || { tail -n 5 "$log_file" >&2; die "MiniStack exited; see $log_file"; }
  [ "$SECONDS" -lt "$deadline" ] || die "MiniStack did not answer $health_url in time; see $log_file"
  sleep 0.3
done

# Smoke test: an ECR call must answer with JSON.
out=$(curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/" \
  -H 'Content-Type: application/x-amz-json-1.1' \
  -H 'X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories' \
  -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0' \
  -d '{}') || die "ECR DescribeRepositories failed; see $log_file"
case "$out" in *'"repositories"'*) ;; *) die "unexpected ECR answer: $out" ;; esac
log "MiniStack $version ready on 127.0.0.1:$port (pid $pid)"
