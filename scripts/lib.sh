# Shared helpers for the scripts/ensure-*.sh and bench*.sh scripts. Source it; do not run it.
# shellcheck shell=bash

JOT_SCRIPT_NAME=${JOT_SCRIPT_NAME:-$(basename "$0")}

log() { printf '%s: %s\n' "$JOT_SCRIPT_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run as root, or through sudo when available.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root to run: $*"; fi
}

# apt_install PKG...: install Debian packages, running `apt-get update` once
# per process (and only if the package lists look missing or stale).
JOT_APT_UPDATED=${JOT_APT_UPDATED:-}
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  if [ -z "$JOT_APT_UPDATED" ]; then
    local lists=/var/lib/apt/lists
    if [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -360 2>/dev/null | head -n 1)" ]; then
      log "apt-get update"
      as_root apt-get update -qq >&2 || die "apt-get update failed"
    fi
    JOT_APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# wait_for SECONDS CMD...: retry CMD every 0.5 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# The Debian mirror apt uses here (first http(s) URI for Debian in the apt sources).
debian_mirror() {
  local uri
  uri=$(
    { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | grep -E '^https?://' | grep -v -- '-security' | grep -i 'debian' | head -n 1
  ) || true
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# serving_mirror SUITE: the first Debian mirror that still serves SUITE
# ($JOT_DEBIAN_MIRROR, apt's own, then the usual ones); dies when none does.
serving_mirror() {
  local m
  for m in ${JOT_DEBIAN_MIRROR:-} "$(debian_mirror)" http://deb.debian.org/debian http://archive.debian.org/debian; do
    if curl -fsSI --max-time 15 "${m%/}/dists/$1/Release" >/dev/null 2>&1; then printf '%s\n' "${m%/}"; return; fi
  done
  die "no Debian mirror serving $1 is reachable"
}

# remove_images_from DIR: remove the jot images built from sources under DIR
# (their org.opencontainers.image.source label), with every tag they carry.
remove_images_from() {
  local dir=$1 ids
  ids=$(docker images -q --no-trunc --filter label=dev.jot.tree-hash | sort -u)
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086
  docker image inspect --format '{{.Id}} {{index .Config.Labels "org.opencontainers.image.source"}}' $ids 2>/dev/null \
    | awk -v dir="$dir" 'index($2, dir) == 1 {print $1}' \
    | xargs -r docker image rm -f >/dev/null 2>&1 || true
}

# make_venv DIR: create a Python virtualenv at DIR unless it has a python,
# installing python3-venv first when the system Python lacks it.
make_venv() {
  local venv=$1
  [ -x "$venv/bin/python" ] && return 0
  log "creating virtualenv $venv"
  mkdir -p "$(dirname "$venv")"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    apt_install python3-venv
    /usr/bin/python3 -m venv "$venv"
  fi
}

# bench_bin TOOL: the directory of the jot executables for a benchmark:
# $JOT_BENCH_BIN, else target/release when it holds TOOL, else target/debug.
bench_bin() {
  local dir=${JOT_BENCH_BIN:-}
  if [ -z "$dir" ]; then
    if [ -x "target/release/$1" ]; then dir=target/release; else dir=target/debug; fi
  fi
  (cd "$dir" && pwd)
}
