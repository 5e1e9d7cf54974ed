#!/usr/bin/env python3
"""A TCP forwarder that counts what reaches an upstream, for `make bench`:
proof that a fast path sent nothing (scripts/bench-aws.sh puts it in front of
MiniStack's registry).

Usage: count-proxy.py UPSTREAM_PORT LOG_FILE
Listens on 127.0.0.1 (an ephemeral port, printed on stdout), forwards every
connection to 127.0.0.1:UPSTREAM_PORT and appends one line to LOG_FILE per
HTTP request line seen from the client. Runs until killed.
"""
import re
import socket
import sys
import threading

upstream_port, log_path = int(sys.argv[1]), sys.argv[2]
log_lock = threading.Lock()
request_line = re.compile(rb"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]\r\n")


def pump(src, dst, record):
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            if record:
                for match in request_line.finditer(data):
                    with log_lock, open(log_path, "a") as log:
                        log.write(f"{match.group(1).decode()} {match.group(2).decode()}\n")
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    serve(conn)
