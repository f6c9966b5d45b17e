"""Queries: the filter builder, sorting, limits, iteration that pages behind the scenes,
counts, and DataFrames."""

import threading

import pytest

import banyan
from banyan import F


@pytest.fixture
def people(crm):
    crm.custom_fields.define("contact", "tier", "enum", options=["gold", "silver"])
    rows = [("Ada", "Lovelace", "ada@example.com", "gold"),
            ("Grace", "Hopper", None, "silver"),
            ("Alan", "Turing", "alan@example.com", None),
            ("Linus", "Lorenz", "linus@example.com", "gold"),
            ("Edsger", "Dijkstra", None, None)]
    out = []
    for first, last, email, tier in rows:
        custom = {"tier": tier} if tier else {}
        out.append(crm.contacts.create(first_name=first, last_name=last, email=email,
                                       custom=custom))
    return out


def names(records):
    return [r.last_name for r in records]


def test_the_issue_example_filters_by_prefix_and_presence(crm, people):
    q = crm.contacts.query(F.last_name.startswith("Lo") & ~F.email.is_null(),
                           order_by="last_name")
    assert names(q) == ["Lorenz", "Lovelace"]


def test_conditions_combine_with_and_or_not(crm, people):
    assert names(crm.contacts.query((F.first_name == "Ada") | (F.first_name == "Alan"),
                                    order_by="first_name")) == ["Lovelace", "Turing"]
    assert names(crm.contacts.query(~(F.email == None), order_by="id")) == \
        ["Lovelace", "Turing", "Lorenz"]  # noqa: E711 (== None is is_null)
    assert names(crm.contacts.query(F.email != None, F.last_name != "Turing",
                                    order_by="id")) == ["Lovelace", "Lorenz"]  # noqa: E711
    assert names(crm.contacts.query(F.last_name.isin(["Hopper", "Turing"]),
                                    order_by="-last_name")) == ["Turing", "Hopper"]
    assert names(crm.contacts.query(F.last_name.contains("OR") | F.last_name.contains("iN"),
                                    order_by="id")) == ["Turing", "Lorenz"]  # ignoring case
    assert names(crm.contacts.query(F.id > people[2].id, order_by="id")) == \
        ["Lorenz", "Dijkstra"]


def test_custom_fields_filter_by_name(crm, people):
    assert names(crm.contacts.query(F["custom.tier"] == "gold", order_by="last_name")) == \
        ["Lorenz", "Lovelace"]
    assert crm.contacts.count(F["custom.tier"].is_null()) == 2


def test_keyword_conditions_are_equality(crm, people):
    assert names(crm.contacts.query(first_name="Grace")) == ["Hopper"]


def test_sorting_on_several_keys_and_limits(crm):
    for first, last in [("B", "Same"), ("A", "Same"), ("C", "Other")]:
        crm.contacts.create(first_name=first, last_name=last)

    def pairs(q):
        return [(c.last_name, c.first_name) for c in q]

    assert pairs(crm.contacts.query(order_by=("last_name", "-first_name"))) == \
        [("Other", "C"), ("Same", "B"), ("Same", "A")]
    assert pairs(crm.contacts.query(order_by="-last_name,first_name")) == \
        [("Same", "A"), ("Same", "B"), ("Other", "C")]
    assert pairs(crm.contacts.query(order_by="first_name").limit(2)) == \
        [("Same", "A"), ("Same", "B")]
    assert crm.contacts.query(order_by="-first_name").first().first_name == "C"
    assert crm.contacts.query(F.last_name == "Nobody").first() is None


def test_iteration_pages_through_every_record_once(crm):
    with crm.transaction() as tx:
        for i in range(230):
            tx.contacts.create(first_name=f"P{i:03}", last_name="Paged")
    q = crm.contacts.query(last_name="Paged", order_by="first_name").page_size(7)
    seen = [c.first_name for c in q]
    assert seen == [f"P{i:03}" for i in range(230)]
    assert q.count() == 230
    assert len(q.limit(15).all()) == 15
    page = q.page(10)
    second = q.page(10, page.next_cursor)
    assert [c.first_name for c in second.items] == [f"P{i:03}" for i in range(10, 20)]


def test_iteration_under_concurrent_inserts_neither_repeats_nor_skips(crm):
    with crm.transaction() as tx:
        for i in range(150):
            tx.contacts.create(first_name=f"Old{i:03}", last_name="Before")
    stop = threading.Event()
    inserted = []

    def insert():
        n = 0
        while not stop.is_set():
            inserted.append(crm.contacts.create(first_name=f"New{n:03}", last_name="During").id)
            n += 1

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        seen = [c.id for c in crm.contacts.query(order_by="id").page_size(10)]
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen))  # no record twice
    before = [c.id for c in crm.contacts.query(last_name="Before")]
    assert set(before) <= set(seen)  # nothing that existed before is skipped
    assert seen == sorted(seen)
    assert inserted, "the writer ran alongside the iteration"


def test_an_unknown_field_in_a_filter_or_sort_is_a_validation_error(crm, people):
    with pytest.raises(banyan.ValidationError) as error:
        crm.contacts.query(F.nickname == "x").all()
    assert error.value.field == "nickname"
    with pytest.raises(banyan.ValidationError):
        crm.contacts.query(order_by="nickname").all()


def test_conditions_cannot_be_combined_with_python_keywords():
    with pytest.raises(TypeError):
        bool(F.a == 1)
    with pytest.raises(TypeError):
        (F.a == 1) & "b"


def test_to_pandas_has_a_column_per_field_and_custom_value(crm, people):
    pandas = pytest.importorskip("pandas")
    frame = crm.contacts.query(order_by="id").to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert len(frame) == 5
    assert list(frame["last_name"]) == names(people)
    assert "custom.tier" in frame.columns
    assert frame["custom.tier"].tolist()[:2] == ["gold", "silver"]
