"""Records through the module: every write use case, the record classes, values of every
kind, and bad input refused with a typed error that changes nothing."""

from datetime import date, datetime, timedelta, timezone

import pytest

import banyan
from banyan import F


def test_a_created_contact_reads_back_whole_as_a_record_object(crm):
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                              title="Countess")
    assert isinstance(ada, banyan.Contact)
    assert ada.id > 0 and ada.version == 1
    assert ada.created_at.tzinfo is not None and ada.created_at <= datetime.now(timezone.utc)
    assert crm.contacts.get(ada.id) == ada
    assert crm.contacts.get(ada) == ada  # a record stands for its id
    assert ada.to_dict()["email"] == "ada@example.com"
    assert repr(ada).startswith(f"Contact(id={ada.id}, first_name='Ada', last_name='Lovelace'")


def test_a_record_object_is_created_from_its_attributes_and_refuses_unknown_ones():
    c = banyan.Contact(first_name="Grace")
    c.last_name = "Hopper"
    assert c.id is None and c.custom == {}
    with pytest.raises(AttributeError):
        c.nickname = "Amazing Grace"
    with pytest.raises(AttributeError):
        banyan.Contact(nickname="x")
    d = c.to_dict()
    d["first_name"] = "changed"
    assert c.first_name == "Grace"  # to_dict is a copy


def test_create_from_a_record_object(crm):
    c = banyan.Contact(first_name="Grace", last_name="Hopper")
    c.emails = [banyan.ContactPoint("grace@navy.mil", "work"), "grace@example.com"]
    stored = crm.contacts.create(c)
    assert stored.email == "grace@navy.mil"  # the first entry is primary when none is flagged
    assert stored.emails == [banyan.ContactPoint("grace@navy.mil", "work", True),
                             banyan.ContactPoint("grace@example.com", None, False)]
    assert crm.contacts.get(stored.id).emails == stored.emails


def test_patch_changes_only_the_named_fields_and_says_when_nothing_changed(crm):
    crm.custom_fields.define("contact", "tier", "enum", options=["gold", "silver"])
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace", title="Countess",
                              custom={"tier": "silver"})
    patched = crm.contacts.patch(ada.id, last_name="King", custom={"tier": "gold"})
    assert (patched.first_name, patched.last_name, patched.title) == ("Ada", "King", "Countess")
    assert patched.custom == {"tier": "gold"} and patched.version == 2
    again = crm.contacts.patch(ada.id, last_name="King")
    assert again.version == 2  # nothing written
    cleared = crm.contacts.patch(ada.id, custom={"tier": None})
    assert cleared.custom == {}
    with pytest.raises(banyan.Conflict) as stale:
        crm.contacts.patch(ada.id, title="Lady", expected_version=1)
    assert stale.value.field == "version"
    assert crm.contacts.get(ada.id).title == "Countess"


def test_upsert_by_external_id_reports_created_updated_and_unchanged(crm):
    first = crm.companies.upsert("acct-1", name="Acme", domain="acme.example")
    assert first.outcome == "created" and first.record.external_id == "acct-1"
    second = crm.companies.upsert("acct-1", name="Acme Corp")
    assert second.outcome == "updated" and second.record.id == first.record.id
    assert second.record.domain == "acme.example"  # fields not given stay
    third = crm.companies.upsert("acct-1", name="Acme Corp")
    assert third.outcome == "unchanged" and third.record.version == second.record.version
    assert crm.companies.by_external_id("acct-1") == third.record
    assert crm.companies.by_external_id("acct-2") is None


def test_archive_restore_and_delete(crm):
    c = crm.contacts.create(first_name="Temp", last_name="Person")
    archived = crm.contacts.archive(c.id)
    assert archived.archived_at is not None
    assert crm.contacts.count() == 0
    assert crm.contacts.count(include_archived=True) == 1
    assert crm.contacts.restore(c.id).archived_at is None
    crm.contacts.delete(c.id)
    assert crm.contacts.find(c.id) is None
    with pytest.raises(banyan.NotFound):
        crm.contacts.get(c.id)


def test_values_of_every_kind_round_trip(crm, pipeline):
    pipeline, (stage, *_) = pipeline
    company = crm.companies.create(name="Acme")
    crm.custom_fields.define("deal", "signed_on", "date")
    crm.custom_fields.define("deal", "kickoff", "datetime")
    crm.custom_fields.define("deal", "seats", "number")
    crm.custom_fields.define("deal", "ratio", "decimal")
    crm.custom_fields.define("deal", "renewal", "bool")
    crm.custom_fields.define("deal", "regions", "multi_enum", options=["eu", "us", "apac"])
    crm.custom_fields.define("deal", "budget", "currency")
    kickoff = datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=timezone(timedelta(hours=1)))
    custom = {"signed_on": date(2026, 2, 1), "kickoff": kickoff, "seats": 40, "ratio": 0.25,
              "renewal": True, "regions": ["eu", "us"], "budget": banyan.Money(990000, "EUR")}
    deal = crm.deals.create(title="Big one", company_id=company, pipeline_id=pipeline.id,
                            stage_id=stage.id, amount=banyan.Money(1250000, "EUR"),
                            expected_close=date(2026, 6, 30), custom=custom)
    got = crm.deals.get(deal.id)
    assert got.amount == banyan.Money(1250000, "EUR")
    assert got.expected_close == date(2026, 6, 30)
    assert got.status == "open"
    assert got.custom["kickoff"] == kickoff and got.custom["kickoff"].tzinfo == timezone.utc
    assert got.custom == {**custom, "kickoff": kickoff}
    assert got.company_id == company.id


@pytest.mark.parametrize("values, field", [
    ({"first_name": 7}, "first_name"),
    ({"first_name": "A", "email": "not-an-email"}, "email"),
    ({"first_name": "A", "owner_id": "seven"}, "owner_id"),
    ({"first_name": "A", "nickname": "x"}, "nickname"),
    ({"first_name": "A", "version": 3}, "version"),
    ({"first_name": "A", "emails": [banyan.ContactPoint("a@example.com", primary="yes")]},
     "emails[0].primary"),
    ({"first_name": "A", "addresses": [banyan.Address(kind="home", city="Paris")]},
     "addresses[0].kind"),
    ({"first_name": "A", "created_at": datetime(2020, 1, 1)}, "created_at"),
    ({"first_name": "A", "custom": {"nope": 1}}, "custom.nope"),
    ({"first_name": "A", "custom": {"nope": object()}}, "custom.nope"),
])
def test_bad_input_is_a_validation_error_naming_the_field_and_writes_nothing(crm, values, field):
    with pytest.raises(banyan.ValidationError) as error:
        crm.contacts.create(**values)
    assert error.value.field == field
    assert isinstance(error.value, ValueError) and error.value.code == "validation"
    assert crm.contacts.count() == 0


def test_a_patch_of_a_field_the_store_sets_is_refused(crm):
    c = crm.contacts.create(first_name="A", last_name="B")
    for field, value in (("id", 9), ("created_at", datetime.now(timezone.utc))):
        with pytest.raises(banyan.ValidationError) as error:
            crm.contacts.patch(c.id, **{field: value})
        assert error.value.field == field
    assert crm.contacts.get(c.id) == c


def test_a_transaction_commits_at_the_end_and_rolls_back_on_an_exception(crm):
    with crm.transaction() as tx:
        a = tx.contacts.create(first_name="In", last_name="Transaction")
        assert tx.contacts.get(a.id).id == a.id
    assert crm.contacts.get(a.id).last_name == "Transaction"
    with pytest.raises(RuntimeError):
        with crm.transaction() as tx:
            b = tx.contacts.create(first_name="Rolled", last_name="Back")
            raise RuntimeError("stop")
    assert crm.contacts.find(b.id) is None
    assert crm.contacts.count(F.first_name == "Rolled") == 0


def test_a_failed_call_inside_a_transaction_leaves_it_usable_and_writes_nothing(crm):
    crm.contacts.create(first_name="First", last_name="Owner", external_id="ext-1")
    with crm.transaction() as tx:
        tx.contacts.create(first_name="Kept", last_name="One")
        with pytest.raises(banyan.ValidationError):
            tx.contacts.create(first_name="", last_name="")
        with pytest.raises(banyan.Conflict) as taken:  # the row's own statement fails
            tx.contacts.create(first_name="Second", last_name="Owner", external_id="ext-1")
        assert taken.value.field == "external_id"
        with pytest.raises(banyan.ValidationError):
            tx.contacts.upsert("ext-2", first_name="Bad", last_name="Mail", email="nope")
        tx.contacts.create(first_name="Kept", last_name="Two")
    assert crm.contacts.count() == 3
    assert crm.contacts.count(first_name="Kept") == 2
    assert crm.search("Second") == [] and crm.search("Mail") == []  # no index rows either
    assert crm.contacts.by_external_id("ext-2") is None


def test_migrated_records_keep_their_creation_time_and_author(crm):
    author = crm.users.create(email="legacy@example.com", name="Legacy")
    then = datetime(2019, 2, 11, 10, 0, tzinfo=timezone.utc)
    c = crm.contacts.create(first_name="Old", last_name="Timer", created_at=then,
                            created_by=author.id)
    assert c.created_at == then and c.created_by == author.id
