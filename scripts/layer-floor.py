#!/usr/bin/env python3
"""The engine's own cost of adding one layer to an image, the floor of a
rebuild after a code change, for `make bench`: writes the archives that
`docker load -i` then loads, timed as a whole command as jot-build is.

Usage: layer-floor.py STAGE_IMAGE RUNS DIR

Writes DIR/1.tar … DIR/RUNS.tar, each holding one new single-file layer on
top of STAGE_IMAGE's layers (exactly the shape jot-build loads), tagged
jot-bench-layer-floor:PID-N; prints those references, one a line, for the
caller to remove.
"""

import hashlib
import http.client
import io
import json
import os
import socket
import sys
import tarfile
import time

API = "/v1.41"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def request(method, path, body=None):
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        sys.exit(f"layer-floor.py: only unix sockets are supported, not {host}")
    conn = UnixConnection(host[len("unix://"):])
    headers = {"Content-Type": "application/x-tar"} if body is not None else {}
    conn.request(method, API + path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status >= 300:
        sys.exit(f"layer-floor.py: {method} {path}: {response.status} {data[:200]!r}")
    return data


def add(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def one_layer_archive(stage, reference, code):
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.GNU_FORMAT) as layer:
        for d in ("var/", "var/task/"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            layer.addfile(info)
        add(layer, "var/task/f.jl", code)
    layer_bytes = layer_buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    diff_ids = stage["RootFS"]["Layers"] + [diff_id]
    config = json.dumps({
        "architecture": stage.get("Architecture", "amd64"),
        "os": stage.get("Os", "linux"),
        "config": stage["Config"],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id[len("sha256:"):] + "/layer.tar"
    manifest = json.dumps([{
        "Config": config_name,
        "RepoTags": [reference],
        "Layers": [d[len("sha256:"):] + "/layer.tar" for d in diff_ids],
    }]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        add(archive, config_name, config)
        add(archive, layer_name, layer_bytes)
        add(archive, "manifest.json", manifest)
    return out.getvalue()


def main():
    stage_ref, runs, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stage = json.loads(request("GET", f"/images/{stage_ref}/json"))
    for i in range(1, runs + 1):
        reference = f"jot-bench-layer-floor:{os.getpid()}-{i}"
        code = f"f(x) = x + {i}  # {time.time_ns()}\n".encode()
        with open(os.path.join(out_dir, f"{i}.tar"), "wb") as f:
            f.write(one_layer_archive(stage, reference, code))
        print(reference)


if __name__ == "__main__":
    main()
