"""The GIL is released while the engine works, threads share a database, and objects that
outlive their transaction or database fail with a clear error, never a crash."""

import gc
import threading
import time

import pytest

import banyan


def test_python_threads_run_while_a_thread_waits_in_the_engine(url):
    # One transaction inserts a user and holds on; a second thread's insert of the same
    # email waits for it inside the engine (SQLite's write lock; MariaDB's lock on the
    # unique key). If that wait held the GIL, this thread could not run to commit the
    # first, and the second would time out instead of seeing the committed duplicate.
    with banyan.open(url) as db:
        crm = db.engine()
        first = crm.transaction()
        first.users.create(email="same@example.com", name="First")
        outcome = {}

        def second_writer():
            try:
                crm.users.create(email="same@example.com", name="Second")
                outcome["created"] = True
            except banyan.Error as error:
                outcome["error"] = error

        writer = threading.Thread(target=second_writer)
        writer.start()
        ticks = 0
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:  # pure Python work while the writer waits
            ticks += 1
        assert writer.is_alive(), "the second insert waits for the first transaction"
        first.commit()
        writer.join(30)
        assert not writer.is_alive()
        assert isinstance(outcome.get("error"), banyan.Conflict), outcome
        assert outcome["error"].field == "email"
        assert ticks > 1000
        assert [u.name for u in crm.users.query(email="same@example.com")] == ["First"]


def test_several_threads_write_and_read_at_once(db):
    crm = db.engine()
    errors = []

    def work(n):
        try:
            for i in range(40):
                c = crm.contacts.create(first_name=f"T{n}", last_name=f"N{i}")
                assert crm.contacts.get(c.id).first_name == f"T{n}"
        except Exception as error:  # reported below, with the thread's number
            errors.append((n, error))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert crm.contacts.count() == 240
    for n in range(6):
        assert crm.contacts.count(first_name=f"T{n}") == 40


def test_a_transaction_used_after_it_ended_is_closed(crm):
    with crm.transaction() as tx:
        c = tx.contacts.create(first_name="Done", last_name="Tx")
    assert not tx.active
    with pytest.raises(banyan.Closed):
        tx.contacts.get(c.id)
    with pytest.raises(banyan.Closed):
        tx.commit()
    tx.rollback()  # harmless
    assert c.first_name == "Done"  # records are plain values


def test_closing_the_database_rolls_back_open_transactions(url):
    db = banyan.open(url)
    crm = db.engine()
    open_tx = crm.transaction()
    open_tx.contacts.create(first_name="Never", last_name="Committed")
    query = crm.contacts.query()
    db.close()
    db.close()  # idempotent
    assert db.closed and not open_tx.active
    for action in (lambda: open_tx.contacts.count(), lambda: open_tx.commit(),
                   lambda: crm.contacts.count(), lambda: query.all(),
                   lambda: db.transaction(), lambda: db.backend):
        with pytest.raises(banyan.Closed):
            action()
    with banyan.open(url) as again:
        assert again.engine().contacts.count() == 0


def test_a_transaction_keeps_its_database_alive_after_the_last_reference_goes(url):
    db = banyan.open(url)
    tx = db.transaction()
    del db
    gc.collect()
    tx.contacts.create(first_name="Still", last_name="Here")
    tx.commit()
    del tx
    gc.collect()
    with banyan.open(url) as again:
        assert again.engine().contacts.count(first_name="Still") == 1


def test_a_transaction_dropped_without_commit_rolls_back(url):
    with banyan.open(url) as db:
        crm = db.engine()
        tx = crm.transaction()
        tx.contacts.create(first_name="Dropped", last_name="Tx")
        del tx
        gc.collect()
        assert crm.contacts.count() == 0
        crm.contacts.create(first_name="Next", last_name="Write")  # the lock was let go
        assert crm.contacts.count() == 1


def test_closing_waits_for_a_call_in_flight_in_another_thread(url):
    db = banyan.open(url)
    crm = db.engine()
    crm.contacts.create(first_name="A", last_name="B")
    results = []

    def reader():
        try:
            while True:
                results.append(crm.contacts.count())
        except banyan.Closed:
            results.append("closed")

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.05)
    db.close()
    t.join(30)
    assert results and results[-1] == "closed"
    assert all(r == 1 for r in results[:-1])
