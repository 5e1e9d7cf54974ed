"""Closed-loop load through a Lambda Invoke endpoint, as a client sees it.

python3 serve-load.py URL PATH CONCURRENCY SECONDS MAX_REQUESTS PAYLOAD EXPECTED
Each of CONCURRENCY client processes (forked, so no client waits for
another's turn at Python's global lock) keeps one HTTP/1.1 connection alive
over a raw socket and sends PAYLOAD, one request written at once, until
SECONDS pass or its share of MAX_REQUESTS is sent; every answer must be 200
with body EXPECTED (Content-Length or chunked). Prints "THROUGHPUT P50_MS
P99_MS COUNT". Both servers of `make bench` are measured through it alike.
"""
import multiprocessing
import socket
import sys
import time
import urllib.parse

url, path, concurrency, seconds, limit, payload, expected = sys.argv[1:8]
url = urllib.parse.urlparse(url)
concurrency, seconds, limit = int(concurrency), float(seconds), int(limit)
payload, expected = payload.encode(), expected.encode()
request = (
    f"POST {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
).encode() + payload


class Connection:
    """One kept-alive connection: a request out, one response back."""

    def __init__(self):
        self.sock = socket.create_connection((url.hostname, url.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def take_line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def take(self, n):
        while len(self.buffer) < n:
            self.fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def call(self):
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self.fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(b":")
            headers[key.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = self.take(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                size = int(self.take_line().split(b";")[0], 16)
                body += self.take(size)
                self.take_line()
                if size == 0:
                    break
        else:
            raise AssertionError(("no length", head[:200]))
        if status != 200 or body != expected:
            raise AssertionError((status, body[:200]))


def worker(share, barrier, results):
    times, error, window = [], None, (0.0, 0.0)
    try:
        conn = Connection()
        conn.call()  # warm-up: connection and sandbox
        barrier.wait()
        # CLOCK_MONOTONIC: one clock for every process.
        clock = time.perf_counter
        begin = clock()
        end = begin + seconds
        while len(times) < share:
            t0 = clock()
            if t0 >= end:
                break
            conn.call()
            times.append((clock() - t0) * 1000)
        window = (begin, clock())
    except Exception as e:  # noqa: BLE001 - reported below, fails the run
        error = repr(e)
        barrier.abort()
    results.put((times, error, window))


if __name__ == "__main__":
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(concurrency + 1)
    results = context.Queue()
    shares = [limit // concurrency + (1 if i < limit % concurrency else 0) for i in range(concurrency)]
    workers = [context.Process(target=worker, args=(s, barrier, results)) for s in shares]
    for w in workers:
        w.start()
    try:
        barrier.wait(timeout=120)
    except Exception:  # noqa: BLE001 - a worker failed; its error is collected below
        pass
    collected = [results.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    errors = [e for _, e, _ in collected if e]
    if errors:
        sys.exit(f"serve-load: {len(errors)} client(s) failed: {errors[0]}")
    # From the first worker's start to the last one's end.
    elapsed = max(w[1] for _, _, w in collected) - min(w[0] for _, _, w in collected)
    times = sorted(t for ts, _, _ in collected for t in ts)
    n = len(times)
    if n == 0:
        sys.exit("serve-load: no request was timed")
    print(f"{n / elapsed:.0f} {times[n // 2]:.3f} {times[min(n - 1, int(n * 0.99))]:.3f} {n}")
