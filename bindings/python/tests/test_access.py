"""The one front door from Python: principals, scopes and masks, and every error the
engine raises as its own exception class."""

import threading

import pytest

import banyan
from banyan import F


@pytest.fixture
def office(crm):
    """Two teams with a sales rep each, and a contact owned by each rep."""
    north = crm.teams.create(name="North")
    south = crm.teams.create(name="South")
    reps = []
    for name, team in (("nina", north), ("sam", south)):
        user = crm.users.create(email=f"{name}@example.com", name=name)
        crm.access.assign_role(user, "sales_rep")
        crm.access.add_member(team, user)
        reps.append(user)
    contacts = [crm.contacts.create(first_name="Of", last_name=rep.name, email=f"c-{rep.name}@x.io",
                                    owner_id=rep.id, team_id=team.id)
                for rep, team in zip(reps, (north, south))]
    return reps, contacts


def test_a_user_principal_reads_from_the_database_and_sees_only_its_scope(db, office):
    (nina, sam), (ninas, sams) = office
    as_nina = db.engine(user=nina.id)
    assert as_nina.principal.user_id == nina.id
    assert as_nina.principal.roles == ["sales_rep"]
    assert as_nina.contacts.get(ninas.id).email == "c-nina@x.io"
    with pytest.raises(banyan.NotFound):
        as_nina.contacts.get(sams.id)  # another team's: as if it did not exist
    assert [c.id for c in as_nina.contacts.query()] == [ninas.id]
    assert as_nina.contacts.count() == 1
    mine = as_nina.contacts.create(first_name="New", last_name="Lead")
    assert mine.owner_id == nina.id and mine.created_by == nina.id


def test_sensitive_fields_are_masked_for_a_principal_without_read_sensitive(db, office):
    _, (ninas, _) = office
    reader = db.engine(banyan.Principal(name="auditor", roles=["read_only"]))
    seen = reader.contacts.get(ninas.id)
    assert seen.email is None and seen.emails == []
    assert seen.last_name == "nina"
    with pytest.raises(banyan.PermissionDenied) as denied:
        reader.contacts.query(F.email == "c-nina@x.io").all()
    assert denied.value.field == "email"


def test_duplicates_name_only_records_and_matches_the_principal_may_see(db, crm, office):
    (nina, _), (ninas, sams) = office
    twin = crm.contacts.create(first_name="Of", last_name="nina", email="c-sam@x.io",
                               owner_id=nina.id)
    as_nina = db.engine(user=nina.id)
    # Sam's contact shares the twin's email, but it is another team's: never named.
    assert as_nina.contacts.duplicates(twin) == [banyan.Duplicate(ninas.id, ["name"])]
    assert sams.id not in {i for g in as_nina.contacts.duplicate_groups() for i in g.ids}
    assert banyan.Duplicate(sams.id, ["email"]) in crm.contacts.duplicates(twin)
    # A reader that sees no email learns of no email match.
    reader = db.engine(banyan.Principal(name="auditor", roles=["read_only"]))
    assert reader.contacts.duplicates(twin) == [banyan.Duplicate(ninas.id, ["name"])]
    assert [g.rule for g in reader.contacts.duplicate_groups()] == ["name"]
    with pytest.raises(banyan.NotFound):
        as_nina.contacts.duplicates(sams)


def test_a_right_the_principal_lacks_is_permission_denied_and_changes_nothing(db, office):
    _, (ninas, _) = office
    reader = db.engine(banyan.Principal(name="auditor", roles=["read_only"]))
    with pytest.raises(banyan.PermissionDenied):
        reader.contacts.create(first_name="Not", last_name="Allowed")
    with pytest.raises(banyan.PermissionDenied):
        reader.contacts.patch(ninas.id, title="Boss")
    crm = db.engine()
    assert crm.contacts.count(first_name="Not") == 0
    assert crm.contacts.get(ninas.id).title is None


def test_administration_needs_an_administrator(db, office):
    (nina, _), _ = office
    with pytest.raises(banyan.PermissionDenied):
        db.engine(user=nina.id).access.assign_role(nina, "admin")
    assert db.engine().access.roles_of(nina) == ["sales_rep"]


def test_every_error_code_has_its_exception_class():
    for code, cls in {"not_found": banyan.NotFound, "conflict": banyan.Conflict,
                      "validation": banyan.ValidationError,
                      "permission_denied": banyan.PermissionDenied,
                      "rate_limited": banyan.RateLimited, "pool_exhausted": banyan.PoolExhausted,
                      "unavailable": banyan.Unavailable, "internal": banyan.InternalError,
                      "closed": banyan.Closed}.items():
        assert issubclass(cls, banyan.Error) and cls.code == code
    assert issubclass(banyan.NotFound, LookupError)
    assert issubclass(banyan.ValidationError, ValueError)


def test_errors_carry_the_engines_message_and_field(crm):
    with pytest.raises(banyan.NotFound) as missing:
        crm.contacts.get(424242)
    assert "424242" in missing.value.message or "not found" in missing.value.message.lower()
    assert str(missing.value) == missing.value.message
    crm.users.create(email="one@example.com", name="One")
    with pytest.raises(banyan.Conflict) as duplicate:
        crm.users.create(email="one@example.com", name="Again")
    assert duplicate.value.field == "email"


def test_a_bad_url_is_a_validation_error_and_an_unreachable_server_unavailable():
    with pytest.raises(banyan.ValidationError) as bad:
        banyan.open("postgres://somewhere/crm")
    assert bad.value.field == "url"
    with pytest.raises(banyan.Unavailable):
        banyan.open("mysql://root@127.0.0.1:1/nothing_listens_here", pool_timeout=1)


def test_a_pool_with_no_free_connection_is_pool_exhausted(url):
    with pytest.raises(banyan.ValidationError) as small:
        banyan.open(url, pool_size=1)
    assert small.value.field == "pool_size"
    with banyan.open(url, pool_size=2, pool_timeout=0.2) as db:
        crm = db.engine()
        held = [crm.transaction(read_only=True), crm.transaction(read_only=True)]
        try:
            with pytest.raises(banyan.PoolExhausted):
                crm.contacts.count()
        finally:
            for tx in held:
                tx.rollback()
        assert crm.contacts.count() == 0  # the connections are free again


def test_a_pool_exhausted_in_another_thread_does_not_hold_up_this_one(url):
    # The waiting thread releases the GIL, so this thread goes on and frees a connection.
    with banyan.open(url, pool_size=2, pool_timeout=10) as db:
        crm = db.engine()
        held = crm.transaction()
        held.contacts.count()
        other = crm.transaction(read_only=True)
        result = {}

        def wait_for_connection():
            result["count"] = crm.contacts.count()

        waiter = threading.Thread(target=wait_for_connection)
        waiter.start()
        held.contacts.create(first_name="Made", last_name="Meanwhile")
        held.commit()
        waiter.join(20)
        other.rollback()
        assert result == {"count": 1}
