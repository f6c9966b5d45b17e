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
