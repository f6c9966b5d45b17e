"""The message bus from Python: subscribers, durable consumers with exactly-once effects,
handlers that raise (retried, never lost), and no deadlock between handlers holding the
GIL and threads waiting in the engine."""

import threading
import time

import pytest

import banyan

WAIT = 30  # seconds: generous, the machine is shared


def wait_for(predicate, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def test_a_subscriber_sees_events_after_they_commit(db):
    crm = db.engine()
    seen = []
    with db.bus() as bus:
        bus.subscribe("contact.*", seen.append)
        time.sleep(0.3)  # a subscriber sees what is published once it is connected
        ada = crm.contacts.create(first_name="Ada", last_name="Lovelace")
        wait_for(lambda: any(e.type == "contact.created" for e in seen), "contact.created")
    event = next(e for e in seen if e.type == "contact.created")
    assert isinstance(event, banyan.Event)
    assert event.subject == ("contact", ada.id) and event.version == 1
    assert event.payload["last_name"] == "Lovelace"


def test_a_durable_consumer_applies_each_event_exactly_once(db):
    crm = db.engine()
    with db.bus() as bus:
        bus.declare_queue("welcome", "contact.created")
        handled = []

        def welcome(message, tx):
            handled.append(message.event.id)
            contact_id = message.event.subject[1]
            note = tx.activities.create(kind="note", subject=f"Welcome {contact_id}")
            tx.relations.link_activity(note, message.event.subject)

        bus.consume("welcome", welcome, exactly_once="welcome-note")
        people = [crm.contacts.create(first_name=f"P{i}", last_name="New") for i in range(3)]
        wait_for(lambda: crm.activities.count() == 3, "three welcome notes")
    for p in people:
        assert len(crm.relations.activities_of(p)) == 1
    with crm.transaction() as tx:  # a redelivery would be skipped
        assert not tx.record_processed("welcome-note", handled[0])


def test_a_handler_that_raises_gets_the_message_again(db):
    crm = db.engine()
    attempts = []
    with db.bus() as bus:
        bus.declare_queue("flaky", "contact.created", initial_delay=0.05)

        def flaky(message):
            attempts.append(message.attempt)
            if message.attempt == 1:
                raise RuntimeError("the service is down")

        bus.consume("flaky", flaky)
        crm.contacts.create(first_name="Retry", last_name="Me")
        wait_for(lambda: attempts[-1:] == [2], "the second attempt")
        wait_for(lambda: bus.metrics()["acked"] >= 1, "the ack")
        assert bus.metrics()["dead_lettered"] == 0
    assert attempts == [1, 2]


def test_a_permanent_error_dead_letters_at_once(db):
    crm = db.engine()
    attempts = []
    with db.bus() as bus:
        bus.declare_queue("strict", "contact.created")

        def strict(message):
            attempts.append(message.attempt)
            raise banyan.PermanentError("this contact can never be welcomed")

        bus.consume("strict", strict)
        crm.contacts.create(first_name="Bad", last_name="Data")
        wait_for(lambda: bus.metrics()["dead_lettered"] == 1, "the dead letter")
    assert attempts == [1]


def test_handlers_using_the_engine_never_deadlock_with_threads_waiting_in_it(db):
    crm = db.engine()
    with db.bus() as bus:
        bus.declare_queue("busy", "contact.created")
        done = []

        def busy(message):  # holds the GIL, then waits in the engine
            done.append(crm.contacts.patch(message.event.subject[1], title="seen").id)

        bus.consume("busy", busy)
        for i in range(20):
            crm.contacts.create(first_name=f"B{i}", last_name="Busy")
            crm.contacts.count()  # this thread in the engine too
        wait_for(lambda: len(done) == 20, "every handler")
        stopper = threading.Thread(target=bus.stop)
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive(), "stop() returned"
    assert crm.contacts.count(title="seen") == 20


def test_closing_the_database_stops_its_buses(url):
    db = banyan.open(url)
    bus = db.bus()
    bus.subscribe("*", lambda event: None)
    bus.start()
    db.close()
    with pytest.raises(banyan.Closed):
        bus.metrics()
    bus.stop()  # harmless


def test_dead_letters_are_listed_replayed_and_purged_by_an_administrator(db):
    crm = db.engine()
    attempts = []
    healed = threading.Event()
    with db.bus() as bus:
        bus.declare_queue("picky", "contact.created")

        def picky(message):
            attempts.append(message.attempt)
            if not healed.is_set():
                raise banyan.PermanentError("no welcome for " + str(message.event.subject[1]))

        bus.consume("picky", picky)
        bad = crm.contacts.create(first_name="Bad", last_name="Data")
        other = crm.contacts.create(first_name="Also", last_name="Bad")
        wait_for(lambda: bus.metrics()["dead_lettered"] == 2, "two dead letters")
        letters = crm.dead_letters.list(queue="picky")
        assert [d.event.subject for d in letters] == [("contact", other.id), ("contact", bad.id)]
        first = letters[-1]
        assert isinstance(first, banyan.DeadLetter) and first.error_class == "permanent"
        assert f"no welcome for {bad.id}" in first.last_error and first.replayed_at is None
        assert crm.dead_letters.get(first.id) == first
        assert crm.dead_letters.history("picky", first.event.id) == [first]
        assert [d.id for d in crm.dead_letters] == [d.id for d in letters]
        assert crm.dead_letters.list(event_type="deal.created") == []
        assert [(q.queue, q.depth) for q in crm.dead_letters.stats()] == [("picky", 2)]
        with pytest.raises(banyan.ValidationError) as bad_filter:
            crm.dead_letters.list(colour="red")
        assert bad_filter.value.field == "colour"

        # Fixed: one replayed by id comes back to its handler; the entry stays as history.
        healed.set()
        crm.dead_letters.replay(first.id)
        wait_for(lambda: len(attempts) == 3, "the replayed message")
        with pytest.raises(banyan.Conflict):
            crm.dead_letters.replay(first.id)
        assert crm.dead_letters.get(first.id).replayed_at is not None
        assert [d.id for d in crm.dead_letters.list()] == [letters[0].id]
        assert len(crm.dead_letters.list(include_replayed=True)) == 2
        report = crm.dead_letters.replay(queue="picky")
        assert report == banyan.ReplayReport(1, [])
        wait_for(lambda: len(attempts) == 4, "the second replayed message")
    assert crm.dead_letters.stats() == []
    assert crm.dead_letters.purge(first.id) is True
    assert crm.dead_letters.purge(first.id) is False
    assert crm.dead_letters.purge(include_replayed=True) == 1
    with pytest.raises(banyan.NotFound):
        crm.dead_letters.get(first.id)


def test_dead_letters_and_sagas_need_an_administrator(db):
    crm = db.engine()
    assert crm.sagas.stats() == []
    with pytest.raises(banyan.NotFound):
        crm.sagas.get(12345)
    rep = db.engine(banyan.Principal(name="rep", roles=["sales_rep"]))
    with pytest.raises(banyan.PermissionDenied):
        rep.dead_letters.list()
    with pytest.raises(banyan.PermissionDenied):
        rep.sagas.stats()
