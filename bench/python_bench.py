"""The Python module against the limit and against what Python users pick, in one run.

    PYTHONPATH=<build>/python python3 bench/python_bench.py [--reps 5]
    (./scripts/bench.sh python builds the module in build-bench and runs this)

Four workloads on SQLite files, each against three targets:
  - banyan:     the module (`crm.contacts.create(...)`, ...), the system principal;
  - sqlite3:    Python's built-in sqlite3 running by hand the statements Banyan runs for the
                same work (the row, its search document, match keys and contact-point key,
                its outbox event, its audit entry chained to the head), on a database
                Banyan created: the limit;
  - sqlalchemy: SQLAlchemy's ORM (Debian's python3-sqlalchemy) mapped onto the same
                contacts table, writing the row alone (it knows nothing of events or the
                audit trail), a session per transaction, pooled connections with the same
                PRAGMAs (WAL, synchronous=NORMAL) as the other two.
Workloads: insert one record per transaction; insert in batches of 500 per transaction;
get by id (a random id, one call); a filtered page (last name starting "Lo", sorted by
last name, 50 rows). Prints one JSON object per line per metric and baseline, medians over
the repetitions: {"suite","metric","value","unit","baseline","baseline_value","ratio"},
ratio = banyan / baseline (higher is better for Banyan).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid

import banyan
from banyan import F

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Lorenz", "Lopez"]
SINGLE = 1000
BATCHES, BATCH = 10, 500
GETS = 5000
PAGES = 1000


def person(i: int) -> dict:
    return {"first_name": FIRST[i % len(FIRST)], "last_name": LAST[(i // 8) % len(LAST)],
            "email": f"user{i}@example.com", "title": "Engineer"}


def timed(work, count: int) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


# ---- banyan ---------------------------------------------------------------------------


class BanyanTarget:
    name = "banyan"

    def __init__(self, folder: str) -> None:
        self.db = banyan.open(f"sqlite://{folder}/banyan.db")
        self.crm = self.db.engine()
        self.ids: list = []

    def insert_single(self, start: int) -> None:
        for i in range(start, start + SINGLE):
            self.ids.append(self.crm.contacts.create(**person(i)).id)

    def insert_batches(self, start: int) -> None:
        for b in range(BATCHES):
            with self.crm.transaction() as tx:
                for i in range(start + b * BATCH, start + (b + 1) * BATCH):
                    self.ids.append(tx.contacts.create(**person(i)).id)

    def get(self, ids: list) -> None:
        for i in ids:
            self.crm.contacts.get(i)

    def page(self) -> None:
        q = self.crm.contacts.query(F.last_name.startswith("Lo"), order_by="last_name")
        for _ in range(PAGES):
            q.page(50)

    def close(self) -> None:
        self.db.close()


# ---- raw sqlite3 ----------------------------------------------------------------------

COLUMNS = ("id, version, owner_id, team_id, created_at, created_by, updated_at, updated_by, "
           "external_id, archived_at, custom_fields, first_name, last_name, email, phone, "
           "email_index, title, emails, phones, addresses, merged_into_id")


def soundex(name: str) -> str:
    codes = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"),
             **dict.fromkeys("dt", "3"), "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}
    letters = [c for c in name.lower() if c.isalpha()]
    if not letters:
        return ""
    out, last = letters[0].upper(), codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != last:
            out += code
        if c not in "hw":
            last = code
    return (out + "000")[:4]


class Sqlite3Target:
    name = "sqlite3"

    def __init__(self, folder: str) -> None:
        path = f"{folder}/raw.db"
        banyan.open(f"sqlite://{path}").close()  # Banyan's schema, then Python's sqlite3 alone
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "case_sensitive_like=ON", "busy_timeout=5000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.ids: list = []

    def _insert(self, i: int) -> int:
        c = person(i)
        now = 1790000000000000 + i
        points = json.dumps([{"value": c["email"], "label": "", "primary": True}])
        cur = self.db.execute(
            "INSERT INTO contacts (version, owner_id, team_id, created_at, created_by, "
            "updated_at, updated_by, external_id, archived_at, custom_fields, first_name, "
            "last_name, email, phone, title, emails, phones, addresses) VALUES "
            "(1, NULL, NULL, ?, NULL, ?, NULL, NULL, NULL, '{}', ?, ?, ?, NULL, ?, ?, '[]', '[]')",
            (now, now, c["first_name"], c["last_name"], c["email"], c["title"], points))
        rid = cur.lastrowid
        self.db.execute("INSERT INTO search_index (rowid, object_type, object_id, title, body) "
                        "VALUES (? * 16 + 4, 'contact', ?, ?, ?)",
                        (rid, rid, f"{c['first_name']} {c['last_name']}", c["email"]))
        # A row per statement, as Banyan writes them (a statement of several rows would
        # make SQLite flush the full-text index's pending terms).
        for rule, key in (("email", c["email"]),
                          ("name", f"{soundex(c['first_name'])} {soundex(c['last_name'])}")):
            self.db.execute("INSERT INTO match_keys (object_type, object_id, rule, match_key) "
                            "VALUES ('contact', ?, ?, ?)", (rid, rule, key))
        self.db.execute("INSERT INTO record_points (object_type, object_id, kind, point_key) "
                        "VALUES ('contact', ?, 'email', ?)", (rid, c["email"]))
        payload = json.dumps({"id": rid, "version": 1, "created_at": now, "updated_at": now,
                              **c, "emails": json.loads(points), "custom": {}})
        self.db.execute("INSERT INTO outbox_events (event_id, event_type, aggregate_type, "
                        "aggregate_id, aggregate_version, occurred_at, actor_id, payload) "
                        "VALUES (?, 'contact.created', 'contact', ?, 1, ?, NULL, ?)",
                        (uuid.uuid4().hex, rid, now, payload))
        last_id, last_hash = self.db.execute(
            "SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
        text = "".join(f"{len(p)}:{p};" for p in (last_hash, str(last_id + 1), str(now), "0", "",
                                                  "", "created", "contact", str(rid), payload, ""))
        digest = hashlib.sha256(text.encode()).hexdigest()
        self.db.execute("INSERT INTO audit_log (id, at, actor_id, actor, origin, action, "
                        "object_type, object_id, changes, detail, prev_hash, hash) VALUES "
                        "(?, ?, 0, '', '', 'created', 'contact', ?, ?, '', ?, ?)",
                        (last_id + 1, now, rid, payload, last_hash, digest))
        self.db.execute("UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1",
                        (last_id + 1, digest))
        return rid

    def insert_single(self, start: int) -> None:
        for i in range(start, start + SINGLE):
            self.db.execute("BEGIN IMMEDIATE")
            self.ids.append(self._insert(i))
            self.db.execute("COMMIT")

    def insert_batches(self, start: int) -> None:
        for b in range(BATCHES):
            self.db.execute("BEGIN IMMEDIATE")
            for i in range(start + b * BATCH, start + (b + 1) * BATCH):
                self.ids.append(self._insert(i))
            self.db.execute("COMMIT")

    def get(self, ids: list) -> None:
        names = [c.strip() for c in COLUMNS.split(",")]
        for i in ids:  # a transaction and a dict per record, as a Python user gets them
            self.db.execute("BEGIN")
            row = self.db.execute(f"SELECT {COLUMNS} FROM contacts WHERE id = ?", (i,)).fetchone()
            dict(zip(names, row))
            self.db.execute("COMMIT")

    def page(self) -> None:
        names = [c.strip() for c in COLUMNS.split(",")]
        for _ in range(PAGES):
            self.db.execute("BEGIN")
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM contacts WHERE archived_at IS NULL AND last_name LIKE ? "
                "ESCAPE '!' ORDER BY last_name ASC, id ASC LIMIT 51", ("Lo%",)).fetchall()
            [dict(zip(names, r)) for r in rows]
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


# ---- SQLAlchemy's ORM -----------------------------------------------------------------


class SqlAlchemyTarget:
    name = "sqlalchemy"

    def __init__(self, folder: str) -> None:
        import sqlalchemy
        from sqlalchemy import Column, Integer, Text
        from sqlalchemy.orm import Session, declarative_base

        path = f"{folder}/orm.db"
        banyan.open(f"sqlite://{path}").close()
        base = declarative_base()

        class Contact(base):
            __tablename__ = "contacts"
            id = Column(Integer, primary_key=True)
            version = Column(Integer, nullable=False)
            owner_id = Column(Integer)
            team_id = Column(Integer)
            created_at = Column(Integer, nullable=False)
            created_by = Column(Integer)
            updated_at = Column(Integer, nullable=False)
            updated_by = Column(Integer)
            external_id = Column(Text)
            archived_at = Column(Integer)
            custom_fields = Column(Text)
            first_name = Column(Text, nullable=False)
            last_name = Column(Text, nullable=False)
            email = Column(Text)
            phone = Column(Text)
            email_index = Column(Text)
            title = Column(Text)
            emails = Column(Text)
            phones = Column(Text)
            addresses = Column(Text)
            merged_into_id = Column(Integer)

        self.Contact = Contact
        self.Session = Session
        # A pool that keeps its connections, as SQLAlchemy 2 does for SQLite files (1.4,
        # Debian's, opens one per session by default: a tenth of the speed, not a fair race).
        self.engine = sqlalchemy.create_engine(f"sqlite:///{path}",
                                               poolclass=sqlalchemy.pool.QueuePool)

        @sqlalchemy.event.listens_for(self.engine, "connect")
        def same_settings(connection, _record) -> None:  # as Banyan's and the raw baseline's
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           "case_sensitive_like=ON", "busy_timeout=5000"):
                connection.execute(f"PRAGMA {pragma}")

        self.ids: list = []

    def _new(self, i: int):
        now = 1790000000000000 + i
        return self.Contact(version=1, created_at=now, updated_at=now, custom_fields="{}",
                            emails="[]", phones="[]", addresses="[]", **person(i))

    def insert_single(self, start: int) -> None:
        for i in range(start, start + SINGLE):
            with self.Session(self.engine) as session:
                c = self._new(i)
                session.add(c)
                session.commit()
                self.ids.append(c.id)

    def insert_batches(self, start: int) -> None:
        for b in range(BATCHES):
            with self.Session(self.engine) as session:
                batch = [self._new(i) for i in range(start + b * BATCH, start + (b + 1) * BATCH)]
                session.add_all(batch)
                session.commit()
                self.ids.extend(c.id for c in batch)

    def get(self, ids: list) -> None:
        for i in ids:
            with self.Session(self.engine) as session:
                session.get(self.Contact, i)

    def page(self) -> None:
        for _ in range(PAGES):
            with self.Session(self.engine) as session:
                (session.query(self.Contact)
                 .filter(self.Contact.archived_at.is_(None), self.Contact.last_name.like("Lo%"))
                 .order_by(self.Contact.last_name, self.Contact.id).limit(51).all())

    def close(self) -> None:
        self.engine.dispose()


# ---- the run --------------------------------------------------------------------------

METRICS = [("insert_one_per_transaction", "rows/s"), ("insert_batches_of_500", "rows/s"),
           ("get_by_id", "gets/s"), ("filtered_page", "pages/s")]


def one_round(target_class) -> dict:
    folder = tempfile.mkdtemp(prefix="banyan-pybench-")
    target = target_class(folder)
    try:
        out = {"insert_one_per_transaction": timed(lambda: target.insert_single(0), SINGLE),
               "insert_batches_of_500": timed(lambda: target.insert_batches(SINGLE),
                                              BATCHES * BATCH)}
        ids = random.Random(1).choices(target.ids, k=GETS)
        out["get_by_id"] = timed(lambda: target.get(ids), GETS)
        out["filtered_page"] = timed(target.page, PAGES)
        return out
    finally:
        target.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    targets = [BanyanTarget, Sqlite3Target, SqlAlchemyTarget]
    results = {t.name: {m: [] for m, _ in METRICS} for t in targets}
    for rep in range(args.reps):  # interleaved, so a noisy spell hits every target alike
        for t in targets:
            for metric, value in one_round(t).items():
                results[t.name][metric].append(value)
        print(f"round {rep + 1}/{args.reps} done", file=sys.stderr)
    for metric, unit in METRICS:
        ours = statistics.median(results["banyan"][metric])
        for baseline in ("sqlite3", "sqlalchemy"):
            theirs = statistics.median(results[baseline][metric])
            print(json.dumps({"suite": "python", "metric": metric, "value": round(ours, 1),
                              "unit": unit, "baseline": baseline,
                              "baseline_value": round(theirs, 1),
                              "ratio": round(ours / theirs, 3)}))


if __name__ == "__main__":
    main()
