#!/usr/bin/env bash
# Make sure the offline Julia base image exists (default jot/julia:1.5.3-bullseye).
# No registry can be reached, so it is built from Debian packages: debootstrap a
# minimal bullseye root with the `julia` package (Julia 1.5.3) and binutils (the
# linker jot-build uses for the runtime's system image) and `docker import` it.
#   usage: scripts/ensure-julia-image.sh [IMAGE]
#   env:   JOT_OFFLINE_JULIA_IMAGE  image name (when no argument is given)
#          JOT_DEBIAN_MIRROR        Debian mirror (default: the one apt uses)
set -euo pipefail
JOT_SCRIPT_NAME=ensure-julia-image.sh
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

image=${1:-${JOT_OFFLINE_JULIA_IMAGE:-jot/julia:1.5.3-bullseye}}
suite=bullseye

"$here/ensure-docker.sh"
linker=$(docker image inspect -f '{{index .Config.Labels "org.jot.linker"}}' "$image" 2>/dev/null || true)
if [ "$linker" = ld ]; then
  exit 0
elif docker image inspect "$image" >/dev/null 2>&1; then
  log "$image has no linker (an older build of this script); building it again"
fi

command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

# Find a mirror that still serves bullseye: apt's own first, then the usual ones.
mirror=$(serving_mirror "$suite")

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/jot-julia-rootfs.XXXXXX")
cleanup() { as_root rm -rf --one-file-system "$rootfs"; }
trap cleanup EXIT

log "debootstrap $suite with julia and binutils from $mirror (about a minute)"
dlog="$rootfs.log"
if ! as_root debootstrap --variant=minbase --include=julia,binutils "$suite" "$rootfs" "$mirror" >"$dlog" 2>&1; then
  tail -n 20 "$dlog" >&2
  die "debootstrap failed; full log: $dlog"
fi
rm -f "$dlog"

# Lean: drop package lists, caches, docs, man pages and non-English locales.
as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/lintian "$rootfs"/usr/share/locale/* "$rootfs"/tmp/*
[ -x "$rootfs/usr/bin/julia" ] || die "julia missing from the bootstrapped root"

log "importing $image"
as_root tar -C "$rootfs" --numeric-owner -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c "LABEL org.jot.base=debian-$suite org.jot.julia=debian-package org.jot.linker=ld" \
  -c 'CMD ["julia"]' \
  - "$image" >/dev/null

version=$(docker run --rm --network host "$image" julia -e 'println(VERSION)') \
  || { docker rmi "$image" >/dev/null 2>&1 || true; die "julia does not run in $image"; }
docker run --rm --network host "$image" bash -c 'command -v sh ls cat ld >/dev/null' \
  || die "$image lacks sh/bash/coreutils/ld"
size=$(docker image inspect -f '{{.Size}}' "$image")
log "built $image: Julia $version, $((size / 1024 / 1024)) MB"
