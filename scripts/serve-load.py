"""Closed-loop load through a Lambda Invoke endpoint, as a client sees it.

python3 serve-load.py URL PATH CONCURRENCY SECONDS MAX_REQUESTS PAYLOAD EXPECTED
Each of CONCURRENCY threads keeps one HTTP/1.1 connection alive (http.client)
and sends PAYLOAD until SECONDS pass or MAX_REQUESTS are sent in all; every
answer must be 200 with body EXPECTED. Prints "THROUGHPUT P50_MS P99_MS COUNT".
"""
import http.client
import sys
import threading
import time
import urllib.parse

url, path, concurrency, seconds, limit, payload, expected = sys.argv[1:8]
url = urllib.parse.urlparse(url)
concurrency, seconds, limit = int(concurrency), float(seconds), int(limit)
payload, expected = payload.encode(), expected.encode()
lock = threading.Lock()
sent = 0
times = []
errors = []


def worker(barrier):
    global sent
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    mine = []

    def call():
        conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or body != expected:
            raise AssertionError((r.status, body[:200]))

    try:
        call()  # warm-up: connection and sandbox
        barrier.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            with lock:
                if sent >= limit:
                    break
                sent += 1
            t0 = time.perf_counter()
            call()
            mine.append((time.perf_counter() - t0) * 1000)
    except Exception as e:  # noqa: BLE001 - reported below, fails the run
        errors.append(repr(e))
        barrier.abort()
    with lock:
        times.extend(mine)


barrier = threading.Barrier(concurrency + 1)
threads = [threading.Thread(target=worker, args=(barrier,)) for _ in range(concurrency)]
for t in threads:
    t.start()
barrier.wait(timeout=120)
start = time.perf_counter()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
if errors:
    sys.exit(f"serve-load: {len(errors)} client(s) failed: {errors[0]}")
times.sort()
n = len(times)
if n == 0:
    sys.exit("serve-load: no request was timed")
print(f"{n / elapsed:.0f} {times[n // 2]:.3f} {times[min(n - 1, int(n * 0.99))]:.3f} {n}")
