"""Loads contacts from a CSV file into Banyan through the Python module: upserts by
external id in batches, one transaction per batch, so a rerun updates rather than
duplicates and a bad row names its line without stopping the load.

    python3 examples/python/importer.py contacts.csv [--url URL] [--batch 500]
    python3 examples/python/importer.py --generate 50000 contacts.csv   # a sample file

Columns: external_id, first_name, last_name, email, phone, title (others are ignored).
"""

import argparse
import csv
import random
import sys
import tempfile
import time

import banyan

COLUMNS = ("external_id", "first_name", "last_name", "email", "phone", "title")


def generate(path: str, rows: int) -> None:
    firsts = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John"]
    lasts = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus"]
    rng = random.Random(7)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(rows):
            first, last = rng.choice(firsts), rng.choice(lasts)
            writer.writerow([f"legacy-{i}", first, last, f"{first}.{last}.{i}@example.com".lower(),
                             f"+1 555 {i:07d}", rng.choice(["", "CTO", "Engineer"])])


def load(crm: banyan.Engine, path: str, batch: int) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    with open(path, newline="") as source:
        rows = list(enumerate(csv.DictReader(source), start=2))  # line 1 is the header
    for start in range(0, len(rows), batch):
        with crm.transaction() as tx:
            for line, row in rows[start:start + batch]:
                values = {k: (row.get(k) or None) for k in COLUMNS[1:]}
                values["first_name"] = values["first_name"] or ""
                values["last_name"] = values["last_name"] or ""
                try:
                    written = tx.contacts.upsert(row["external_id"], **values)
                    counts[written.outcome] += 1
                except banyan.ValidationError as error:
                    counts["refused"] += 1
                    print(f"{path}:{line}: {error.field}: {error}", file=sys.stderr)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--url", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--generate", type=int, metavar="ROWS", help="write a sample CSV instead")
    args = parser.parse_args()
    if args.generate:
        generate(args.csv, args.generate)
        return
    url = args.url or f"sqlite://{tempfile.mkdtemp()}/import.db"
    with banyan.open(url) as db:
        started = time.perf_counter()
        counts = load(db.engine(), args.csv, args.batch)
        seconds = time.perf_counter() - started
        rows = sum(counts.values())
        print(f"{rows} rows in {seconds:.1f} s ({rows / seconds:.0f} rows/s): {counts} into {url}")


if __name__ == "__main__":
    main()
