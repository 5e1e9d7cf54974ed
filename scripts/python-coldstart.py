#!/usr/bin/env python3
"""One cold start of the Python peer (scripts/ensure-python-peer.sh), timed by
`make bench` as a whole command, as `jot-invoke --local --image IMAGE` is:
create and start a container of IMAGE under the AWS runtime interface
emulator, send one invocation, check the answer, remove the container.

Usage: python-coldstart.py IMAGE RIE_PATH PAYLOAD EXPECTED
Talks to the engine over its unix socket (as jot does, no docker CLI
process); host networking, ports picked free; exits non-zero, the container
removed, when anything fails or the answer is not EXPECTED (compared as JSON).
"""
import http.client
import json
import os
import socket
import sys
import time

image, rie, payload, expected = sys.argv[1:5]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def engine(method, path, body=None):
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    conn = UnixConnection(host[len("unix://"):])
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, "/v1.41" + path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = response.read()
    if response.status >= 300:
        sys.exit(f"python-coldstart.py: {method} {path}: {response.status} {answer[:200]!r}")
    return json.loads(answer) if answer else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


invoke_port, api_port = free_port(), free_port()
created = engine("POST", "/containers/create", {
    "Image": image,
    "Entrypoint": ["/aws-lambda-rie"],
    "Cmd": ["--runtime-interface-emulator-address", f"127.0.0.1:{invoke_port}",
            "--runtime-api-address", f"127.0.0.1:{api_port}",
            "python3", "-m", "awslambdaric", "app.handler"],
    "Labels": {"dev.jot.bench-peer": "python"},
    "HostConfig": {"NetworkMode": "host", "Binds": [f"{rie}:/aws-lambda-rie:ro"]},
})
container = created["Id"]
try:
    engine("POST", f"/containers/{container}/start")
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", invoke_port, timeout=30)
            conn.request("POST", "/2015-03-31/functions/function/invocations", body=payload.encode())
            response = conn.getresponse()
            body = response.read()
            break
        except (ConnectionRefusedError, ConnectionResetError):
            if time.monotonic() > deadline:
                sys.exit("python-coldstart.py: the emulator never listened")
            time.sleep(0.002)
    if response.status != 200 or json.loads(body) != json.loads(expected):
        sys.exit(f"python-coldstart.py: answered {response.status} {body[:200]!r}, expected {expected}")
finally:
    engine("DELETE", f"/containers/{container}?force=true")
