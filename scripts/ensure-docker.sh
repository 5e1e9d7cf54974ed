#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
# If none does, install Debian's docker.io (if dockerd is missing) and start
# dockerd in the background with no bridge network and no iptables changes:
# containers use `--network host` only.
#   env: JOT_DOCKER_STORAGE_DRIVER  storage driver(s) to try, in order
#                                   (default "overlay2 fuse-overlayfs vfs")
#        JOT_DOCKERD_LOG            dockerd log file
#        JOT_DOCKER_WAIT            seconds to wait for dockerd (default 60)
set -euo pipefail
JOT_SCRIPT_NAME=ensure-docker.sh
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_ok() { timeout 20 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && docker_ok; then
  exit 0
fi

# Only a local unix socket can be served by a dockerd we start.
host_args=()
case "${DOCKER_HOST:-}" in
  "" ) ;;
  unix://*) host_args=(-H "$DOCKER_HOST") ;;
  *) die "DOCKER_HOST=$DOCKER_HOST does not answer and is not a local unix socket" ;;
esac

if ! command -v dockerd >/dev/null 2>&1; then
  # Keep dpkg from starting the packaged service (it would create the bridge).
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    made_policy=1
  fi
  apt_install docker.io
  [ -z "$made_policy" ] || as_root rm -f "$policy"
  command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH"

if [ -n "${JOT_DOCKERD_LOG:-}" ]; then log_file=$JOT_DOCKERD_LOG
elif [ -w /var/log ]; then log_file=/var/log/jot-dockerd.log
else log_file=${TMPDIR:-/tmp}/jot-dockerd.log; fi
wait_s=${JOT_DOCKER_WAIT:-60}

# A dockerd may already be starting (e.g. a concurrent run): give it a chance.
if pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd is running but not answering yet; waiting up to ${wait_s}s"
  wait_for "$wait_s" docker_ok && exit 0
  die "dockerd runs but 'docker info' does not answer; see $log_file"
fi

# A tiny image made from the host's /bin/sh and its libraries, to prove that
# containers really run (no image can be pulled here).
probe_image=jot/probe:latest
probe_ok() {
  if ! docker image inspect "$probe_image" >/dev/null 2>&1; then
    local sh files
    sh=$(readlink -f /bin/sh)
    mapfile -t files < <({ echo "$sh"; ldd "$sh" | grep -oE '/[^ ]+'; } | sort -u)
    tar -ch --absolute-names --transform 's,^/,,' --transform "s,^${sh#/}\$,bin/sh," "${files[@]}" 2>/dev/null \
      | docker import -c 'CMD ["/bin/sh"]' - "$probe_image" >/dev/null || return 1
  fi
  [ "$(timeout 60 docker run --rm --network host "$probe_image" /bin/sh -c 'echo ok' 2>>"$log_file")" = ok ]
}

# Run dockerd directly (not through a shell function) so $! is its pid.
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)

start_dockerd() { # $1 = storage driver
  log "starting dockerd (storage driver $1), log: $log_file"
  echo "=== $(date -u +%FT%TZ) ensure-docker.sh: dockerd --storage-driver=$1" >>"$log_file"
  "${sudo[@]}" nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --storage-driver="$1" "${host_args[@]}" >>"$log_file" 2>&1 </dev/null &
  dockerd_pid=$!
  local deadline=$((SECONDS + wait_s))
  until docker_ok; do
    kill -0 "$dockerd_pid" 2>/dev/null || { log "dockerd ($1) exited early"; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { log "dockerd ($1) did not answer within ${wait_s}s"; return 1; }
    sleep 0.5
  done
}

stop_dockerd() {
  kill "$dockerd_pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$dockerd_pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$dockerd_pid" 2>/dev/null || true
}

read -r -a drivers <<<"${JOT_DOCKER_STORAGE_DRIVER:-overlay2 fuse-overlayfs vfs}"

for driver in "${drivers[@]}"; do
  if [ "$driver" = fuse-overlayfs ] && ! command -v fuse-overlayfs >/dev/null 2>&1; then
    [ -e /dev/fuse ] || continue
    ( apt_install fuse-overlayfs ) || continue
  fi
  if start_dockerd "$driver"; then
    if probe_ok; then
      log "docker ready (storage driver $driver, containers run with --network host)"
      exit 0
    fi
    log "containers do not run with storage driver $driver"
  fi
  stop_dockerd
done
die "could not start a working dockerd; see $log_file"
