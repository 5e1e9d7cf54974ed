#!/usr/bin/env bash
# The Python function that cold starts are compared with (`make bench`): the
# anchor a Lambda user knows. Built offline like the Julia base image: a
# minimal Debian bullseye root with python3 (debootstrap), AWS's own runtime
# client `awslambdaric` and its wheels from PyPI unpacked into it, and a
# one-line handler doing increment_vector's work. Also fetches the AWS Lambda
# runtime interface emulator (the binary the `aws-sam-cli` wheel carries),
# which runs it locally as AWS's base images are run.
#   usage: scripts/ensure-python-peer.sh     prints "IMAGE RIE_PATH"
#   env:   JOT_PYTHON_PEER_IMAGE  image name (default jot/python-lambda:3.9-bullseye)
#          JOT_DEBIAN_MIRROR      Debian mirror (default: the one apt uses)
#          JOT_CACHE              cache folder (default ~/.cache/jot)
set -euo pipefail
JOT_SCRIPT_NAME=ensure-python-peer.sh
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

image=${JOT_PYTHON_PEER_IMAGE:-jot/python-lambda:3.9-bullseye}
cache=${JOT_CACHE:-$HOME/.cache/jot}
suite=bullseye
rie="$cache/aws-lambda-rie-x86_64"

"$here/ensure-docker.sh" >&2
mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/jot-python-peer.XXXXXX")
cleanup() { as_root rm -rf --one-file-system "$work"; }
trap cleanup EXIT

if [ ! -x "$rie" ]; then
  log "pip download aws-sam-cli (for the runtime interface emulator it carries)"
  python3 -m pip download -q --disable-pip-version-check --no-deps aws-sam-cli -d "$work/sam" >&2 \
    || die "pip download aws-sam-cli failed"
  python3 - "$work"/sam/aws_sam_cli-*.whl "$rie" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    data = z.read("samcli/local/rapid/aws-lambda-rie-x86_64")
with open(out + ".part", "wb") as f:
    f.write(data)
os.chmod(out + ".part", 0o755)
os.replace(out + ".part", out)
PY
fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  mirror=$(serving_mirror "$suite")
  rootfs="$work/root"
  log "debootstrap $suite with python3 from $mirror (about a minute)"
  if ! as_root debootstrap --variant=minbase --include=python3 "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  py=$(as_root chroot "$rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  log "pip download awslambdaric for CPython $py (manylinux wheels)"
  python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version "$py" --implementation cp \
    awslambdaric -d "$work/wheels" >&2 || die "pip download awslambdaric failed"
  # A wheel is a zip laid out for site-packages: unpacking it is installing it.
  as_root mkdir -p "$rootfs/var/runtime" "$rootfs/var/task"
  for wheel in "$work"/wheels/*.whl; do
    as_root python3 -m zipfile -e "$wheel" "$rootfs/var/runtime/"
  done
  printf 'def handler(event, context):\n    return [x + 1 for x in event]\n' \
    | as_root tee "$rootfs/var/task/app.py" >/dev/null
  as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/tmp/*
  log "importing $image"
  as_root tar -C "$rootfs" --numeric-owner -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8 PYTHONPATH=/var/runtime:/var/task LAMBDA_TASK_ROOT=/var/task' \
    -c 'WORKDIR /var/task' \
    -c 'LABEL dev.jot.bench-peer=python' \
    -c 'ENTRYPOINT ["python3", "-m", "awslambdaric"]' \
    -c 'CMD ["app.handler"]' \
    - "$image" >/dev/null
fi
echo "$image $rie"
