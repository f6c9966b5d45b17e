"""The use cases beyond one record: custom fields, search, lead conversion, merges, deal
stages and pipeline summaries, relations, history and as_of, and events of your own."""

import time
from datetime import datetime, timezone

import pytest

import banyan
from banyan import F


def test_custom_fields_are_defined_listed_renamed_deprecated_and_removed(crm):
    tier = crm.custom_fields.define("contact", "tier", "enum", options=["gold", "silver"],
                                    label="Tier", required=False)
    assert isinstance(tier, banyan.CustomField) and tier.options == ["gold", "silver"]
    crm.contacts.create(first_name="A", last_name="B", custom={"tier": "gold"})
    with pytest.raises(banyan.ValidationError) as bad:
        crm.contacts.create(first_name="C", last_name="D", custom={"tier": "bronze"})
    assert bad.value.field == "custom.tier"
    assert [f.name for f in crm.custom_fields.list("contact")] == ["tier"]
    renamed = crm.custom_fields.rename(tier, "level")
    assert renamed.name == "level"
    assert crm.contacts.query(F["custom.level"] == "gold").count() == 1
    assert crm.custom_fields.deprecate(renamed).deprecated
    crm.custom_fields.remove(renamed)
    assert crm.custom_fields.list("contact") == []


def test_search_finds_records_by_word_prefixes_best_first(crm):
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    crm.companies.create(name="Lovelace Analytical Engines")
    crm.contacts.create(first_name="Grace", last_name="Hopper")
    hits = crm.search("lov")
    assert {h.type for h in hits} == {"contact", "company"}
    contact_hits = crm.search("ada lov", types="contact")
    assert [(h.type, h.id) for h in contact_hits] == [("contact", ada.id)]
    assert contact_hits[0].title and contact_hits[0].score > 0
    with pytest.raises(banyan.ValidationError):
        crm.search("x", types=["pipeline"])


def test_converting_a_lead_makes_a_contact_a_company_and_a_deal(crm, pipeline):
    p, stages = pipeline
    lead = crm.leads.create(first_name="Kat", last_name="Johnson", email="kat@nasa.example",
                            company_name="NASA", title="Mathematician")
    done = crm.leads.convert(lead, deal={"pipeline_id": p.id, "stage_id": stages[1].id,
                                         "amount": banyan.Money(500000)})
    assert done.lead.status == "converted"
    assert done.contact.last_name == "Johnson" and done.contact.title == "Mathematician"
    assert done.company.name == "NASA" and done.company_created
    assert done.deal.stage_id == stages[1].id and done.deal.amount == banyan.Money(500000)
    assert crm.relations.deal_contacts(done.deal) == \
        [banyan.DealContact(done.deal.id, done.contact.id, "decision_maker")]
    with pytest.raises(banyan.Conflict):
        crm.leads.convert(lead)


def test_duplicates_are_found_for_one_record_and_in_groups(crm):
    a = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    b = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ADA@example.com")
    c = crm.contacts.create(first_name="Ann", last_name="Other", email="ada@example.com")
    crm.contacts.create(first_name="Bob", last_name="Else", email="bob@example.com")
    assert crm.contacts.duplicates(a) == [banyan.Duplicate(b.id, ["email", "name"]),
                                          banyan.Duplicate(c.id, ["email"])]
    groups = crm.contacts.duplicate_groups()
    assert banyan.DuplicateGroup("email", [a.id, b.id, c.id]) in groups
    assert banyan.DuplicateGroup("name", [a.id, b.id]) in groups
    assert len(crm.contacts.duplicate_groups(limit=1)) == 1
    with pytest.raises(banyan.ValidationError) as bad:
        crm.contacts.duplicate_groups(limit=0)
    assert bad.value.field == "limit"
    with pytest.raises(banyan.NotFound):
        crm.contacts.duplicates(999999)
    x = crm.companies.create(name="Acme Inc", domain="www.acme.example")
    y = crm.companies.create(name="ACME Ltd", domain="acme.example")
    assert crm.companies.duplicates(x) == [banyan.Duplicate(y.id, ["domain", "name"])]


def test_merging_duplicates_keeps_the_survivor_and_archives_the_losers(crm):
    a = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    b = crm.contacts.create(first_name="Ada", last_name="Lovelace", title="Countess",
                            phone="+44 20 7946 0000")
    merged = crm.contacts.merge(a, b, winners={"phone": b.id})
    assert merged == banyan.Merged(a.id, [b.id])
    survivor = crm.contacts.get(a.id)
    assert survivor.title == "Countess" and survivor.phone == "+44 20 7946 0000"
    loser = crm.contacts.query(F.id == b.id, include_archived=True).first()
    assert loser.merged_into == a.id and loser.archived_at is not None


def test_deals_move_through_stages_and_pipelines_sum_them(crm, pipeline):
    p, (qualify, propose, won, _) = pipeline
    deal = crm.deals.create(title="Engine", pipeline_id=p.id, stage_id=qualify.id,
                            amount=banyan.Money(100000))
    crm.deals.create(title="Other", pipeline_id=p.id, stage_id=propose.id,
                     amount=banyan.Money(300000))
    moved = crm.deals.patch(deal, stage_id=propose.id)
    assert moved.stage_id == propose.id
    closed = crm.deals.patch(deal, stage_id=won.id)
    assert closed.status == "won" and closed.closed_at is not None
    history = crm.deals.stage_history(deal)
    assert [(h["from_stage_id"], h["to_stage_id"]) for h in history] == \
        [(None, qualify.id), (qualify.id, propose.id), (propose.id, won.id)]
    reopened = crm.deals.reopen(deal, propose)
    assert reopened.status == "open" and reopened.stage_id == propose.id
    summary = crm.pipelines.summary(p)
    assert summary["deals"] == 2 and summary["amount"] == [banyan.Money(400000)]
    by_stage = {s["stage"].name: s for s in summary["stages"]}
    assert by_stage["Propose"]["deals"] == 2
    assert by_stage["Propose"]["weighted_amount"] == [banyan.Money(200000)]
    assert crm.pipelines.summary(p, status="won")["deals"] == 0


def test_relations_link_and_list_from_either_side(crm, pipeline):
    p, stages = pipeline
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace")
    acme = crm.companies.create(name="Acme")
    deal = crm.deals.create(title="D", pipeline_id=p.id, stage_id=stages[0].id)
    note = crm.activities.create(kind="note", subject="Met at the fair")
    vip = crm.tags.create(name="vip")
    assert crm.relations.link_company(ada, acme, primary=True)
    assert not crm.relations.link_company(ada, acme, primary=True)  # nothing changed
    assert crm.relations.companies_of(ada) == [banyan.CompanyLink(ada.id, acme.id, True)]
    assert crm.relations.contacts_of(acme) == [banyan.CompanyLink(ada.id, acme.id, True)]
    assert crm.relations.add_deal_contact(deal, ada, "champion")
    assert crm.relations.deals_of(ada) == [banyan.DealContact(deal.id, ada.id, "champion")]
    assert crm.relations.link_activity(note, ada)
    assert crm.relations.link_activity(note, ("company", acme.id))
    assert sorted(crm.relations.activity_targets(note)) == \
        [("company", acme.id), ("contact", ada.id)]
    assert crm.relations.activities_of(ada) == [note.id]
    assert crm.relations.tag(vip, ada)
    assert crm.relations.tags_of(ada) == [vip.id]
    assert crm.relations.tagged_with(vip) == [("contact", ada.id)]
    assert crm.relations.untag(vip, ada) and crm.relations.tags_of(ada) == []
    assert crm.relations.unlink_company(ada, acme)
    with pytest.raises(banyan.ValidationError):
        crm.relations.add_deal_contact(deal, ada, "boss")


def test_history_lists_every_change_and_as_of_rebuilds_the_past(crm):
    c = crm.contacts.create(first_name="Ada", last_name="Byron")
    before = datetime.now(timezone.utc)
    time.sleep(0.01)
    crm.contacts.patch(c, last_name="Lovelace")
    changes = crm.contacts.history(c, "last_name")
    assert [(ch.before, ch.after) for ch in changes] == [(None, "Byron"), ("Byron", "Lovelace")]
    assert all(isinstance(ch, banyan.FieldChange) for ch in changes)
    assert crm.contacts.as_of(c, before).last_name == "Byron"
    assert crm.contacts.get(c).last_name == "Lovelace"


def test_events_of_your_own_are_published_in_the_transaction(crm):
    c = crm.contacts.create(first_name="Ada", last_name="Lovelace")
    with crm.transaction() as tx:
        event = tx.publish("contact.welcomed", c, {"channel": "email"})
    assert event["type"] == "contact.welcomed" and event["subject"] == ("contact", c.id)
    with pytest.raises(banyan.ValidationError) as bad:
        crm.publish("no dots", c)
    assert bad.value.field == "type"
