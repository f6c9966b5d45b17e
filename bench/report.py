#!/usr/bin/env python3
"""Turns a Google Benchmark JSON file into Banyan's JSON-lines benchmark report.

One line per metric: {"suite", "metric", "value", "unit", "baseline", "baseline_value",
"ratio"}. ratio > 1 means Banyan is better: ours/baseline for throughputs, baseline/ours
for latencies. With repetitions, the median of the repetitions is used.
"""
import json
import sys


def runs(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        out[name] = b  # the median aggregate, or the single run
    return out


def line(suite, metric, value, unit, baseline, baseline_value, higher_is_better):
    if higher_is_better:
        ratio = value / baseline_value if baseline_value else None
    else:
        ratio = baseline_value / value if value else None
    return json.dumps({
        "suite": suite, "metric": metric, "value": round(value, 2), "unit": unit,
        "baseline": baseline, "baseline_value": round(baseline_value, 2),
        "ratio": round(ratio, 3) if ratio is not None else None,
    })


def pool(r):
    for db in ("sqlite", "mariadb"):
        for threads, label in (("", "uncontended"), ("/threads:8", "8_threads")):
            ours = r.get(f"pool/{db}/banyan/min_time:0.500/real_time{threads}")
            odb = r.get(f"pool/{db}/odb/min_time:0.500/real_time{threads}")
            if not ours or not odb:
                continue
            for q in ("p50", "p99"):
                yield line("pool", f"{db}.acquire_release.{label}.{q}", ours[f"{q}_ns"], "ns",
                           f"odb_connection_pool_factory", odb[f"{q}_ns"], False)


def store(r):
    for db in ("sqlite", "mariadb"):
        baseline = "raw_sqlite3" if db == "sqlite" else "raw_libmariadb"
        for op in ("insert", "get", "sync_unchanged", "page", "custom_page", "search"):
            ours = r.get(f"store/{db}/{op}/banyan/real_time")
            raw = r.get(f"store/{db}/{op}/raw/real_time")
            if not ours or not raw:
                continue
            yield line("store", f"{db}.{op}", ours["items_per_second"], "ops/s", baseline,
                       raw["items_per_second"], True)
        # A patch of one field against the read-modify-write of the whole record.
        patch = r.get(f"store/{db}/patch/banyan/real_time")
        whole = r.get(f"store/{db}/patch/banyan_read_modify_write/real_time")
        if patch and whole:
            yield line("store", f"{db}.patch", patch["items_per_second"], "ops/s", "banyan_read_modify_write",
                       whole["items_per_second"], True)
        # Encryption at rest against the same work in plain text, side by side.
        for op in ("insert", "email_lookup"):
            sealed = r.get(f"store/{db}/{op}/banyan_encrypted/real_time")
            plain = r.get(f"store/{db}/{op}/banyan/real_time")
            if sealed and plain:
                yield line("store", f"{db}.{op}_encrypted", sealed["items_per_second"], "ops/s",
                           "banyan_unencrypted", plain["items_per_second"], True)


def messaging(r):
    raw = r.get("messaging/raw_zmq/push_pull/iterations:5/real_time")
    raw_rate = raw["items_per_second"] if raw else 0
    for db in ("sqlite", "mariadb"):
        # "" : an application's own message (Outbox::append); "_contacts": a contact
        # created through the repository, whose event is the message.
        for kind in ("", "_contacts"):
            ours = r.get(f"messaging/{db}/durable{kind}/iterations:1/real_time")
            alone = r.get(f"messaging/{db}/write_only{kind}/iterations:1/real_time")
            if ours:
                yield line("messaging", f"{db}.durable{kind}_throughput", ours["items_per_second"],
                           "msg/s", "raw_zmq_push_pull_inproc", raw_rate, True)
            if ours and alone:
                # The same batched writes with no bus: what messaging keeps of them.
                yield line("messaging", f"{db}.durable{kind}_throughput_vs_writes_alone",
                           ours["items_per_second"], "msg/s", "writes_alone",
                           alone["items_per_second"], True)
        drain = r.get(f"messaging/{db}/drain/iterations:1/real_time")
        if drain:
            # The bus alone on events already committed: routing, lease, delivery, ack.
            yield line("messaging", f"{db}.bus_drain_throughput", drain["items_per_second"], "msg/s",
                       "raw_zmq_push_pull_inproc", raw_rate, True)
        lat = r.get(f"messaging/{db}/latency/iterations:1/real_time")
        if lat:
            # At 1,000 messages per second; the baseline is the target (10 ms at p99).
            for q in ("p50", "p99"):
                yield line("messaging", f"{db}.commit_to_handler_at_1000_per_s.{q}",
                           lat[f"{q}_ns"] / 1e6, "ms", "target_p99", 10.0, False)


def json_bodies(r):
    names = ["keys_in_one_object", "empty_objects_in_one_array", "numbers_in_one_array",
             "nested_to_the_limit", "escaped_strings", "default_limits_widest"]
    for i, name in enumerate(names):
        ours = r.get(f"json/banyan/{i}")
        raw = r.get(f"json/nlohmann_unchecked/{i}")
        if not ours or not raw:
            continue
        # Milliseconds per MiB (the goal is under 50), against the unchecked parser.
        per_mib = lambda b: (1 << 20) / b["bytes_per_second"] * 1e3
        yield line("json", f"{name}.ms_per_mib", per_mib(ours), "ms", "nlohmann_unchecked", per_mib(raw),
                   False)


def main():
    suite, path = sys.argv[1], sys.argv[2]
    r = runs(path)
    for l in {"pool": pool, "store": store, "messaging": messaging, "json": json_bodies}[suite](r):
        print(l)


if __name__ == "__main__":
    main()
