#!/usr/bin/env python3
"""Holds many keep-alive connections open and sends requests over them at a light, fixed
total rate; prints the latency of every request (microseconds, one per line) to stdout.

    http_hold.py HOST PORT CONNECTIONS RATE SECONDS PATH...

One process may open at most 20,000 files here, so ./scripts/bench.sh http runs several
of these side by side. Connections open in waves (the listen backlog is finite); the
clock for SECONDS starts once all are open. Each request goes to a connection picked in
turn, PATHs in turn; a connection that closes or errs counts as a failure (stderr).
Before the clock starts every connection serves one request (a warm-up, so that each is
accepted and live, not waiting in the listen backlog); those are not timed. Then it waits
for a line on stdin before the timed part, and for another before closing: the
orchestrator starts and ends several clients together, so that one client's warm-up or
12,500 closes do not land in another's timed part.
"""
import asyncio
import gc
import os
import sys
import time


async def main():
    host, port, count, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    paths = sys.argv[6:] or ["/healthz"]
    # A bearer credential for routes that need one (ignored by the minimal server).
    key = os.environ.get("BANYAN_BENCH_KEY")
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    conns = []
    for start in range(0, count, 500):
        opened = await asyncio.gather(*[asyncio.open_connection(host, port) for _ in range(start, min(start + 500, count))],
                                      return_exceptions=True)
        for c in opened:
            if isinstance(c, Exception):
                print(f"connect failed: {c}", file=sys.stderr)
            else:
                conns.append(c)
    latencies = []
    failures = 0
    busy = [False] * len(conns)

    async def one(i, path):
        nonlocal failures
        reader, writer = conns[i]
        busy[i] = True
        began = time.perf_counter()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                failures += 1
            latencies.append((time.perf_counter() - began) * 1e6)
        except Exception as e:  # a closed or broken connection
            failures += 1
            print(f"request failed: {e!r}", file=sys.stderr)
        busy[i] = False

    for start in range(0, len(conns), 500):
        await asyncio.gather(*[one(i, paths[i % len(paths)]) for i in range(start, min(start + 500, len(conns)))])
    warm_failures, failures = failures, 0
    latencies.clear()
    print(f"open {len(conns)} warm-up failures {warm_failures}", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "go"
    gc.disable()  # no collector pauses in the timed part

    tasks = []
    interval = 1.0 / rate
    began = time.perf_counter()
    n = 0
    while True:
        due = began + n * interval
        now = time.perf_counter()
        if now - began >= seconds:
            break
        if due > now:
            await asyncio.sleep(due - now)
        i = n % len(conns)
        if not busy[i]:
            tasks.append(asyncio.ensure_future(one(i, paths[n % len(paths)])))
        n += 1
    await asyncio.gather(*tasks)
    sys.stdout.write("\n".join(f"{v:.0f}" for v in latencies) + "\n")
    sys.stdout.flush()
    print(f"sent {len(tasks)} failures {failures}", file=sys.stderr, flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "close"
    for _, w in conns:
        w.close()


asyncio.run(main())
