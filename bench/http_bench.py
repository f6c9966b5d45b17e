#!/usr/bin/env python3
"""./scripts/bench.sh http: banyan-server under load on loopback, side by side in the same
run with a minimal Beast server that answers a fixed JSON body (the limit here).

1. wrk, GET by id, a filtered list page and create, at 64 and 1,000 connections:
   requests per second and p50/p99 latency, medians of the repetitions, each banyan run
   followed at once by the same run against the minimal server.
2. GET by id at 1,000 connections at a fixed offered rate (http_hold.py, open loop: wrk
   runs closed loop, where latency is the queue that 1,000 connections build).
3. 50,000 connections held open at a light total rate (1,000 requests per second), over
   four server processes sharing ports through SO_REUSEPORT (one process may open at
   most 20,000 files here) on two loopback addresses (one address has only 28,000
   ephemeral ports), driven by four http_hold.py clients: p50/p99 and connections held.

Prints one JSON line per metric, as bench/report.py does.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

SUITE = "http"
BASELINE = "minimal_beast_server"


def log(*a):
    print("[bench http]", *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, log_path, wait_for=r"listening on \S+?:(\d+)"):
    out = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(log_path) as f:
            found = re.search(wait_for, f.read())
        if found:
            return proc, int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"{cmd[0]} did not start; see {log_path}")


def stop(*procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def seed(port, count, key):
    names = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright"]
    for start_at in range(0, count, 100):
        items = [{"first_name": f"First{i}", "last_name": f"{names[i % len(names)]}{i % 97}",
                  "email": f"seed{i}@example.com"} for i in range(start_at, min(start_at + 100, count))]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/contacts/batch", data=json.dumps({"items": items}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + key},
                                     method="POST")
        with urllib.request.urlopen(req) as r:
            assert r.status == 201


LUA = {
    "get": """
local ids = tonumber(os.getenv("BANYAN_BENCH_IDS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BANYAN_BENCH_KEY")
request = function() return wrk.format("GET", "/v1/contacts/" .. math.random(1, ids)) end
""",
    "list": """
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BANYAN_BENCH_KEY")
request = function() return wrk.format("GET", "/v1/contacts?last_name%5Bstarts_with%5D=Smith&sort=last_name&limit=20") end
""",
    "create": """
local n = 0
local tag = tostring(math.random(1, 1000000000))
request = function()
  n = n + 1
  local body = '{"first_name":"Load","last_name":"Test ' .. tag .. '-' .. n .. '","email":"load' .. tag .. '-' .. n .. '@example.com"}'
  return wrk.format("POST", "/v1/contacts", {["Content-Type"] = "application/json",
                                            ["Authorization"] = "Bearer " .. os.getenv("BANYAN_BENCH_KEY")}, body)
end
""",
}


PROBLEMS = []  # runs with failed requests: the benchmark fails loudly at the end


def seconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(port, script, connections, duration, env):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
                          "-s", script, f"http://127.0.0.1:{port}"], capture_output=True, text=True, env=env, check=True)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = seconds(re.search(r"\n\s+50%\s+(\S+)", text).group(1))
    p99 = seconds(re.search(r"\n\s+99%\s+(\S+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    if non2xx or errors:
        PROBLEMS.append(f"wrk on {port} ({script}, c={connections}): "
                        f"{non2xx.group(0) if non2xx else ''} {errors.group(0) if errors else ''}")
    return rps, p50, p99


def line(metric, value, unit, baseline_value, higher_is_better):
    ratio = (value / baseline_value if higher_is_better else baseline_value / value) if value and baseline_value else None
    return json.dumps({"suite": SUITE, "metric": metric, "value": round(value, 3), "unit": unit, "baseline": BASELINE,
                       "baseline_value": round(baseline_value, 3), "ratio": round(ratio, 3) if ratio else None})


def established(port):
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True)
    return len(out.stdout.splitlines())


def hold(args, kind, port, work, connections=None, rate=None, clients_n=4):
    """`clients_n` clients sharing `connections` (default 50,000: 12,500 each, half of the
    clients on each loopback address) at `rate` requests per second in all."""
    connections = connections or args.hold_connections
    rate = rate or args.hold_rate
    clients = []
    per = connections // clients_n
    for i in range(clients_n):
        host = "127.0.0.1" if i < clients_n / 2 or clients_n == 1 else "127.0.0.2"
        paths = (["/healthz"] if kind.startswith("minimal")
                 else [f"/v1/contacts/{1 + (i * 7919 + k * 104729) % args.seed}" for k in range(64)])
        clients.append(subprocess.Popen(
            [sys.executable, args.hold, host, str(port), str(per), str(rate / clients_n), str(args.hold_seconds)] + paths,
            stdin=subprocess.PIPE, text=True,
            stdout=open(f"{work}/hold-{kind}-{i}.out", "w"), stderr=open(f"{work}/hold-{kind}-{i}.err", "w")))

    def wait_all(pattern):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = 0
            for i in range(clients_n):
                with open(f"{work}/hold-{kind}-{i}.err") as f:
                    done += re.search(pattern, f.read()) is not None
            if done == clients_n or any(c.poll() is not None for c in clients):
                return
            time.sleep(0.5)

    def tell_all(word):
        for c in clients:
            if c.poll() is None:
                c.stdin.write(word + "\n")
                c.stdin.flush()

    # All connections open and warmed up, then the timed part for all at once; the count of
    # connections held is taken after it, before any client closes one.
    wait_all(r"open \d+")
    tell_all("go")
    wait_all(r"sent \d+")
    held = established(port)
    tell_all("close")
    for c in clients:
        c.wait()
    latencies = []
    failures = 0
    for i in range(clients_n):
        with open(f"{work}/hold-{kind}-{i}.out") as f:
            latencies += [float(v) for v in f.read().split()]
        with open(f"{work}/hold-{kind}-{i}.err") as f:
            err = f.read()
        found = re.search(r"sent \d+ failures (\d+)", err)
        warm = re.search(r"warm-up failures (\d+)", err)
        failures += (int(found.group(1)) if found else 1) + (int(warm.group(1)) if warm else 1)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000.0
    log(f"hold {kind}: {held} connections held, {len(latencies)} requests, {failures} failures, "
        f"p50 {pick(0.5):.2f} ms p99 {pick(0.99):.2f} ms")
    if failures:
        PROBLEMS.append(f"hold {kind}: {failures} requests failed")
    return held, pick(0.5), pick(0.99), failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--minimal", required=True)
    ap.add_argument("--hold", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=10000)
    ap.add_argument("--hold-connections", type=int, default=50000)
    ap.add_argument("--hold-rate", type=float, default=1000)
    ap.add_argument("--hold-seconds", type=float, default=30)
    ap.add_argument("--skip-hold", action="store_true")
    ap.add_argument("--skip-wrk", action="store_true")
    args = ap.parse_args()
    work = args.work
    os.makedirs(work, exist_ok=True)
    lines = []

    db = f"sqlite://{work}/bench.db"
    # Every route needs credentials: an administrator's API key, made as an operator would.
    user = subprocess.run([args.cli, "user", "add", "--email", "bench@example.com", "--name", "Bench", "--role", "admin",
                           "--if-missing", "--database", db], check=True, capture_output=True, text=True).stdout.strip()
    key = subprocess.run([args.cli, "apikey", "create", "--user", user, "--name", "bench", "--database", db],
                         check=True, capture_output=True, text=True).stdout.strip()
    os.environ["BANYAN_BENCH_KEY"] = key  # for wrk's scripts and the hold clients
    # Limits far above what one machine can send: the limiter runs on every request, as in
    # production, but never refuses (the load comes from one principal and one address, so
    # the per-address connection cap is raised as an operator would for 1,000 connections).
    unlimited = "1000000000/1s"
    banyan, bport = start([args.server, "--listen", "127.0.0.1:0", "--database", db, "--threads", str(args.threads),
                           "--rate-reads", unlimited, "--rate-writes", unlimited, "--rate-bulk", unlimited,
                           "--rate-address", unlimited, "--max-connections-per-address", "20000"],
                          f"{work}/banyan.log")
    minimal, mport = start([args.minimal, "127.0.0.1", "0", str(args.threads)], f"{work}/minimal.log")
    log(f"banyan-server on {bport}, minimal server on {mport}; seeding {args.seed} contacts")
    seed(bport, args.seed, key)
    env = dict(os.environ, BANYAN_BENCH_IDS=str(args.seed))
    for name, code in LUA.items():
        with open(f"{work}/{name}.lua", "w") as f:
            f.write(code)
    for connections in (() if args.skip_wrk else (64, 1000)):
        for name in ("get", "list", "create"):
            ours, base = [], []
            for rep in range(args.reps):
                ours.append(wrk(bport, f"{work}/{name}.lua", connections, args.duration, env))
                base.append(wrk(mport, f"{work}/{name}.lua", connections, args.duration, env))
                log(f"{name} c={connections} rep {rep + 1}: banyan {ours[-1][0]:.0f}/s p99 {ours[-1][2] * 1e3:.2f} ms; "
                    f"minimal {base[-1][0]:.0f}/s p99 {base[-1][2] * 1e3:.2f} ms")
            med = lambda runs, k: statistics.median(r[k] for r in runs)
            metric = f"{name}.c{connections}"
            lines.append(line(f"{metric}.throughput", med(ours, 0), "req/s", med(base, 0), True))
            lines.append(line(f"{metric}.p50", med(ours, 1) * 1e3, "ms", med(base, 1) * 1e3, False))
            lines.append(line(f"{metric}.p99", med(ours, 2) * 1e3, "ms", med(base, 2) * 1e3, False))
    if not args.skip_wrk:
        # Open loop: 1,000 connections, 5,000 GETs per second offered, for the latency a
        # request sees when the server keeps up (the p99 target at 1,000 connections).
        ours = hold(args, "banyan-open", bport, work, connections=1000, rate=5000, clients_n=1)
        base = hold(args, "minimal-open", mport, work, connections=1000, rate=5000, clients_n=1)
        lines.append(line("get.c1000.open_loop_5000_per_s.p50", ours[1], "ms", base[1], False))
        lines.append(line("get.c1000.open_loop_5000_per_s.p99", ours[2], "ms", base[2], False))
    stop(banyan, minimal)

    if not args.skip_hold:
        port = free_port()
        servers = []
        for i in range(4):
            host = "127.0.0.1" if i < 2 else "127.0.0.2"
            # As an operator would run a server for this many clients from few addresses: no
            # rate limits, and a per-address connection cap above what one address holds.
            servers.append(start([args.server, "--listen", f"{host}:{port}", "--database", db, "--threads", "1",
                                  "--reuse-port", "--no-messaging", "--no-access-log", "--idle-timeout", "600s",
                                  "--rate-reads", unlimited, "--rate-writes", unlimited, "--rate-bulk", unlimited,
                                  "--rate-address", unlimited, "--max-connections-per-address", "20000"],
                                 f"{work}/hold-banyan-server-{i}.log")[0])
        ours = hold(args, "banyan", port, work)
        stop(*servers)
        port = free_port()
        servers = [start([args.minimal, "127.0.0.1" if i < 2 else "127.0.0.2", str(port), "1", "--reuse-port"],
                         f"{work}/hold-minimal-{i}.log")[0] for i in range(4)]
        base = hold(args, "minimal", port, work)
        stop(*servers)
        lines.append(line("hold50k.connections_held", ours[0], "connections", base[0], True))
        lines.append(line("hold50k.p50", ours[1], "ms", base[1], False))
        lines.append(line("hold50k.p99", ours[2], "ms", base[2], False))
        lines.append(line("hold50k.failed_requests", ours[3], "requests", base[3], False))
    print("\n".join(lines))
    if PROBLEMS:
        for p in PROBLEMS:
            log(f"FAILED: {p}")
        sys.exit(f"bench http: {len(PROBLEMS)} runs had failed requests (see above); the figures are not valid")


main()
