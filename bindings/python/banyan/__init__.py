"""Banyan, the embeddable CRM engine, in your Python process.

    import banyan
    from banyan import F

    db = banyan.open("sqlite:///tmp/crm.db")
    crm = db.engine()                       # the system principal; db.engine(user=7) acts as a user
    ada = crm.contacts.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    for c in crm.contacts.query(F.last_name.startswith("lo"), order_by="-created_at"):
        print(c.first_name, c.email)
    with crm.transaction() as tx:           # commits at the end, rolls back on an exception
        tx.contacts.patch(ada, title="Countess")

Every call goes through the engine as a principal: a record the principal may not read
is NotFound, sensitive fields it may not see come back as None. Outside a transaction each
call is a transaction of its own. Errors are banyan.Error subclasses (NotFound, Conflict,
ValidationError with .field, PermissionDenied, PoolExhausted, Unavailable, ...). The GIL is
released while the engine works, so Python threads run alongside it.
"""

from __future__ import annotations

import atexit as _atexit
import copy as _copy
import json as _json
import os as _os
import weakref as _weakref
from dataclasses import dataclass as _dataclass, field as _dc_field
from datetime import datetime
from typing import Any, Iterator, NamedTuple, Optional

from . import _banyan
from ._banyan import Principal
from ._query import EVERYTHING as _EVERYTHING
from ._query import Condition, F, Field
from ._query import combine as _combine

__version__: str = _banyan.__version__

__all__ = [
    "open", "Database", "Engine", "Transaction", "Principal", "F", "Field", "Condition",
    "Query", "Page", "Money", "ContactPoint", "Address", "Record", "User", "Team", "Tag",
    "Company", "Contact", "Lead", "Pipeline", "Stage", "Deal", "Activity", "Written",
    "FieldChange", "SearchHit", "CustomField", "Conversion", "Duplicate", "DuplicateGroup",
    "Merged", "CompanyLink",
    "DealContact", "Access", "Error", "NotFound", "Conflict", "ValidationError", "PermissionDenied",
    "RateLimited", "PoolExhausted", "Unavailable", "InternalError", "Closed", "PermanentError",
    "Bus", "Event", "Message", "DeadLetter", "DeadLetters", "QueueDepth", "ReplayReport",
    "SagaCount", "Sagas",
]


# ---- errors ---------------------------------------------------------------------------


class Error(Exception):
    """Every error Banyan raises: ``.code`` names its kind, ``.field`` the offending field
    (validation errors and unique-key conflicts), ``.message`` the engine's message."""

    code = "error"

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(Error, LookupError):
    """The record does not exist, or the principal may not read it."""

    code = "not_found"


class Conflict(Error):
    """A stale version, a duplicate unique key, or a state that forbids the change."""

    code = "conflict"


class ValidationError(Error, ValueError):
    """The input is malformed; ``.field`` names the field."""

    code = "validation"


class PermissionDenied(Error):
    """The principal may not do this."""

    code = "permission_denied"


class RateLimited(Error):
    """Too many requests; try again later."""

    code = "rate_limited"


class PoolExhausted(Error):
    """No database connection became free in time (``open(pool_timeout=...)``)."""

    code = "pool_exhausted"


class Unavailable(Error):
    """The database cannot be reached or refuses service."""

    code = "unavailable"


class InternalError(Error):
    """A bug or an unexpected failure; the message says what."""

    code = "internal"


class Closed(Error):
    """A database, engine or transaction used after it was closed or ended."""

    code = "closed"


class PermanentError(Error):
    """Raise from a message handler when trying again cannot help: the message goes to the
    dead-letter queue at once (ValidationError, NotFound and PermissionDenied do too)."""

    code = "permanent"


_ERRORS = {cls.code: cls for cls in (NotFound, Conflict, ValidationError, PermissionDenied,
                                     RateLimited, PoolExhausted, Unavailable, InternalError,
                                     Closed, PermanentError)}


# ---- values ---------------------------------------------------------------------------


@_dataclass(frozen=True)
class Money:
    """An amount in minor units (cents for USD) of an ISO 4217 currency."""

    minor_units: int
    currency: str = "USD"


@_dataclass
class ContactPoint:
    """An email address or phone number of a contact, lead or company."""

    value: str
    label: Optional[str] = None
    primary: bool = False


@_dataclass
class Address:
    """A postal address; ``kind`` is billing, shipping, mailing or other, ``country`` an
    ISO 3166-1 alpha-2 code."""

    kind: str = "other"
    label: Optional[str] = None
    primary: bool = False
    street: Optional[str] = None
    city: Optional[str] = None
    region: Optional[str] = None
    postal_code: Optional[str] = None
    country: Optional[str] = None


_banyan._register(money=Money, contact_point=ContactPoint, address=Address, errors=_ERRORS)


# ---- records --------------------------------------------------------------------------

# Fields only the store sets: None on a record not yet stored.
_STORE_SET = ("id", "version", "created_at", "created_by", "updated_at", "updated_by",
              "archived_at")


class Record:
    """A record of one type: its standard fields as attributes, ``custom`` a dict of its
    custom values. Records are plain values: they outlive their transaction and database.
    """

    _type: str = ""
    _fields: tuple = ()
    _writable: frozenset = frozenset()
    _defaults: dict = {}

    def __init__(self, **values: Any) -> None:
        state = _copy.deepcopy(self._defaults)
        object.__setattr__(self, "__dict__", state)
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def _wrap(cls, state: dict) -> "Record":
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", state)
        return record

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "custom" and name not in self._fields:
            raise AttributeError(f"a {self._type} has no field {name!r}")
        self.__dict__[name] = value

    def to_dict(self) -> dict:
        """The record's fields and ``custom`` as a new dict."""
        return _copy.deepcopy(self.__dict__)

    def _written(self) -> dict:
        """What a create of this record writes: the fields a caller sets, and the creation
        time and author when given (migrated data)."""
        values = {name: self.__dict__[name] for name in self._fields if name in self._writable}
        for name in ("created_at", "created_by"):
            if self.__dict__.get(name) is not None:
                values[name] = self.__dict__[name]
        values["custom"] = dict(self.__dict__.get("custom") or {})
        return values

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = []
        state = self.__dict__
        for name in self._fields:
            value = state.get(name)
            if name == "id" or (name in self._writable and value != self._defaults.get(name)):
                shown.append(f"{name}={value!r}")
        if state.get("custom"):
            shown.append(f"custom={state['custom']!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _record_class(type_name: str, fields: list, defaults: dict) -> type:
    names = tuple(name for name, _ in fields)
    defaults = dict(defaults)
    for name in _STORE_SET:
        defaults[name] = None
    class_name = "".join(part.capitalize() for part in type_name.split("_"))
    return type(class_name, (Record,), {
        "__doc__": f"A {type_name} record. Fields: {', '.join(names)}; custom values in .custom.",
        "__module__": __name__,
        "_type": type_name,
        "_fields": names,
        "_writable": frozenset(name for name, flags in fields if flags["writable"]),
        "_sensitive": frozenset(name for name, flags in fields if flags["sensitive"]),
        "_defaults": defaults,
    })


_CLASSES = {t: _record_class(t, fields, defaults) for t, fields, defaults in _banyan.record_types()}
User = _CLASSES["user"]
Team = _CLASSES["team"]
Tag = _CLASSES["tag"]
Company = _CLASSES["company"]
Contact = _CLASSES["contact"]
Lead = _CLASSES["lead"]
Pipeline = _CLASSES["pipeline"]
Stage = _CLASSES["stage"]
Deal = _CLASSES["deal"]
Activity = _CLASSES["activity"]


def _wrap(state: Optional[dict], type_name: str) -> Any:
    return None if state is None else _CLASSES[type_name]._wrap(state)


class Written(NamedTuple):
    """What an upsert did: the record as stored, and ``"created"``, ``"updated"`` or
    ``"unchanged"``."""

    record: Record
    outcome: str


class FieldChange(NamedTuple):
    """One change to one field in a record's history (values decoded from JSON; None for
    values the principal may not see)."""

    entry: int
    at: datetime
    actor_id: Optional[int]
    actor: str
    action: str
    field: str
    before: Any
    after: Any


class SearchHit(NamedTuple):
    """A record found by search: its type and id, its title, and a score (higher is better)."""

    type: str
    id: int
    title: str
    score: float


class CompanyLink(NamedTuple):
    """A contact's link to a company."""

    contact_id: int
    company_id: int
    primary: bool


class DealContact(NamedTuple):
    """A contact's part in a deal."""

    deal_id: int
    contact_id: int
    role: str


class Conversion(NamedTuple):
    """What converting a lead made: the converted lead, its contact, its company (found or
    made: ``company_created``) and the deal, when one was asked for."""

    lead: Record
    contact: Record
    company: Record
    company_created: bool
    deal: Optional[Record]


class Duplicate(NamedTuple):
    """A likely duplicate: the record's id and the rules it matched on."""

    id: int
    rules: list


class DuplicateGroup(NamedTuple):
    """Records that share one key: the rule and their ids, ascending."""

    rule: str
    ids: list


class Merged(NamedTuple):
    """A merge: the surviving record's id and the ids merged into it (now archived)."""

    survivor: int
    merged: list


@_dataclass
class CustomField:
    """A custom field definition."""

    id: int
    version: int
    object_type: str
    name: str
    label: str
    type: str
    required: bool = False
    default: Any = None
    options: list = _dc_field(default_factory=list)
    min: Optional[float] = None
    max: Optional[float] = None
    max_length: Optional[int] = None
    scale: int = 2
    deprecated: bool = False
    sensitive: bool = False


# ---- queries --------------------------------------------------------------------------


class Page(NamedTuple):
    """One page of a query: its records and the cursor of the next page (None at the end)."""

    items: list
    next_cursor: Optional[str]


class Query:
    """Records of one type that match a filter, in an order. Iterating pages through them
    with a cursor behind the scenes (keyset pages: records inserted or deleted meanwhile
    never make one repeat or go missing). Queries are immutable: each method returns a new
    one."""

    def __init__(self, scope: "_Scope", cls: type, where: Condition = _EVERYTHING,
                 order: tuple = (), limit: Optional[int] = None, archived: bool = False,
                 page_size: int = 500) -> None:
        self._scope = scope
        self._cls = cls
        self._where = where
        self._order = order
        self._limit = limit
        self._archived = archived
        self._page_size = page_size

    def _with(self, **changes: Any) -> "Query":
        q = Query(self._scope, self._cls, self._where, self._order, self._limit, self._archived,
                  self._page_size)
        for name, value in changes.items():
            setattr(q, "_" + name, value)
        return q

    def where(self, *conditions: Condition, **equal: Any) -> "Query":
        """Only the records that also match every condition (and ``field == value``)."""
        return self._with(where=_combine((self._where, *conditions), equal))

    def order_by(self, *keys: str) -> "Query":
        """Sorted by these fields (``"-created_at"`` for descending); ties by id."""
        return self._with(order=_sort_keys(keys))

    def limit(self, n: Optional[int]) -> "Query":
        """At most ``n`` records (None: all)."""
        if n is not None and n < 0:
            raise ValueError("limit: at least 0")
        return self._with(limit=n)

    def include_archived(self, include: bool = True) -> "Query":
        """Archived records too."""
        return self._with(archived=include)

    def page_size(self, n: int) -> "Query":
        """Records fetched per round trip while iterating (1..1000; default 500)."""
        if not 1 <= n <= 1000:
            raise ValueError("page_size: 1..1000")
        return self._with(page_size=n)

    def page(self, size: int = 50, cursor: Optional[str] = None) -> Page:
        """One page of ``size`` records after ``cursor`` (a previous page's next_cursor)."""
        items, next_cursor = self._scope._call(
            _banyan.query, self._cls._type, self._where._tree, list(self._order), size, cursor,
            self._archived, read=True)
        return Page([self._cls._wrap(i) for i in items], next_cursor)

    def __iter__(self) -> Iterator[Any]:
        left = self._limit
        cursor = None
        while left is None or left > 0:
            size = self._page_size if left is None else min(left, self._page_size)
            page = self.page(size, cursor)
            yield from page.items
            if left is not None:
                left -= len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return

    def all(self) -> list:
        """Every record, as a list."""
        return list(self)

    def first(self) -> Optional[Any]:
        """The first record, or None."""
        items = self.page(1).items
        return items[0] if items else None

    def count(self) -> int:
        """How many records match (the limit aside)."""
        return self._scope._call(_banyan.count, self._cls._type, self._where._tree,
                                 self._archived, read=True)

    def to_pandas(self) -> Any:
        """The records as a pandas DataFrame: a column per standard field, then one per
        custom value (``custom.<name>``). Needs pandas (Debian: python3-pandas)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas() needs pandas (Debian: apt install python3-pandas)") \
                from None
        rows = []
        custom_names: dict = {}
        for record in self:
            row = record.to_dict()
            for name, value in row.pop("custom").items():
                row["custom." + name] = value
                custom_names[name] = None
            rows.append(row)
        columns = list(self._cls._fields) + ["custom." + n for n in sorted(custom_names)]
        return pandas.DataFrame.from_records(rows, columns=columns)

    def __repr__(self) -> str:
        return (f"Query({self._cls.__name__}, {self._where!r}, order_by={list(self._order)}, "
                f"limit={self._limit})")


def _sort_keys(keys: tuple) -> tuple:
    out = []
    for key in keys:
        if isinstance(key, (list, tuple)):
            out.extend(_sort_keys(tuple(key)))
        elif isinstance(key, str):
            out.extend(k.strip() for k in key.split(",") if k.strip())
        else:
            raise TypeError("sort keys are field names, '-' before one for descending")
    return tuple(out)


# ---- use cases ------------------------------------------------------------------------


class Records:
    """The records of one type, as the principal may use them."""

    def __init__(self, scope: "_Scope", cls: type) -> None:
        self._scope = scope
        self._cls = cls
        self._type = cls._type

    def _call(self, fn: Any, *args: Any, read: bool = False) -> Any:
        return self._scope._call(fn, self._type, *args, read=read)

    def get(self, id: Any) -> Any:
        """The record with this id (NotFound when there is none the principal may read)."""
        return self._cls._wrap(self._call(_banyan.get, id, read=True))

    def find(self, id: Any) -> Optional[Any]:
        """The record with this id, or None."""
        try:
            return self.get(id)
        except NotFound:
            return None

    def by_external_id(self, external_id: str) -> Optional[Any]:
        """The record with this external id, or None."""
        return _wrap(self._call(_banyan.find_by_external_id, external_id, read=True), self._type)

    def create(self, record: Optional[Record] = None, /, **values: Any) -> Any:
        """Stores a new record, from a record object or from field values (``custom=`` a
        dict). ``created_at``/``created_by`` keep migrated data's (needs the import right).
        Returns the record as stored."""
        if record is not None:
            if not isinstance(record, self._cls):
                raise TypeError(f"expected a {self._cls.__name__}")
            values = {**record._written(), **values}
        return self._cls._wrap(self._call(_banyan.create, values))

    def patch(self, id: Any, /, *, expected_version: Optional[int] = None, **values: Any) -> Any:
        """Changes the named fields only (``custom={"tier": "gold"}`` sets one custom value,
        None clears it). ``expected_version``: Conflict unless the stored record is at it.
        Returns the record as stored (unchanged, and unwritten, when nothing differs)."""
        state, _ = self._call(_banyan.patch, id, values, expected_version)
        return self._cls._wrap(state)

    def upsert(self, external_id: str, /, **values: Any) -> Written:
        """Patches the record with this external id with the given fields, or creates it.
        Returns the record and ``"created"``, ``"updated"`` or ``"unchanged"``."""
        state, outcome = self._call(_banyan.upsert, {"external_id": external_id, **values})
        return Written(self._cls._wrap(state), outcome)

    def archive(self, id: Any) -> Any:
        """Archives (soft-deletes) the record; queries skip it unless asked."""
        return self._cls._wrap(self._call(_banyan.archive, id, False))

    def restore(self, id: Any) -> Any:
        """Restores an archived record."""
        return self._cls._wrap(self._call(_banyan.archive, id, True))

    def delete(self, id: Any) -> None:
        """Deletes the record for good (its history stays in the audit trail)."""
        self._call(_banyan.remove, id)

    def query(self, *conditions: Condition, order_by: Any = (), limit: Optional[int] = None,
              include_archived: bool = False, **equal: Any) -> Query:
        """The records matching every condition (and ``field == value``), e.g.
        ``query(F.last_name.startswith("Lo"), order_by="-created_at")``."""
        keys = (order_by,) if isinstance(order_by, str) else tuple(order_by)
        return Query(self._scope, self._cls, _combine(conditions, equal), _sort_keys(keys),
                     limit, include_archived)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.query())

    def count(self, *conditions: Condition, include_archived: bool = False, **equal: Any) -> int:
        """How many records match."""
        return self.query(*conditions, include_archived=include_archived, **equal).count()

    def history(self, id: Any, field: Optional[str] = None) -> list:
        """Every change to the record's fields (or to ``field``), oldest first."""
        changes = self._scope._call(_banyan.history, self._type, id, field or "", read=True)
        return [FieldChange(c["entry"], c["at"], c["actor_id"], c["actor"], c["action"],
                            c["field"], _json.loads(c["before"]), _json.loads(c["after"]))
                for c in changes]

    def as_of(self, id: Any, when: datetime) -> Any:
        """The record as it was at ``when`` (an aware datetime)."""
        return self._cls._wrap(self._call(_banyan.as_of, id, when, read=True))


class _Mergeable(Records):
    def duplicates(self, record: Any) -> list:
        """The likely duplicates of ``record`` among the records the principal reads, as
        ``Duplicate(id, rules)`` with rules from ``"email"``, ``"phone"``, ``"domain"``,
        ``"name"``, most rules first. A rule on a sensitive field (a person's email or
        phone) counts only where the principal sees that field on both records."""
        return [Duplicate(id, list(rules)) for id, rules in self._call(_banyan.duplicates, record,
                                                                      read=True)]

    def duplicate_groups(self, limit: int = 100) -> list:
        """Groups of two or more records sharing a key, as ``DuplicateGroup(rule, ids)``,
        by rule then key, narrowed as :meth:`duplicates` narrows (at most ``limit``, 1 to
        1000)."""
        return [DuplicateGroup(rule, list(ids))
                for rule, ids in self._call(_banyan.duplicate_groups, limit, read=True)]

    def merge(self, survivor: Any, losers: Any, winners: Optional[dict] = None) -> Merged:
        """Merges duplicates into ``survivor``: ``winners`` maps a field (``"email"``,
        ``"custom.tier"``) to the record whose value the survivor keeps; other fields keep
        the survivor's, or the first loser's where it has none. Losers are archived."""
        losers = [losers] if isinstance(losers, (int, Record)) else list(losers)
        survivor_id, merged = self._call(_banyan.merge, survivor, losers, winners)
        return Merged(survivor_id, list(merged))


class Contacts(_Mergeable):
    """Contacts."""


class Companies(_Mergeable):
    """Companies."""


class Leads(_Mergeable):
    """Leads, which convert into contacts, companies and deals."""

    def convert(self, lead: Any, *, company: Any = None, deal: Optional[dict] = None) -> Conversion:
        """Converts the lead: a contact, joined to ``company`` (else the company matching the
        lead's email domain among those the principal reads, else a new one), and a deal when
        ``deal`` is given (``{"pipeline_id": ..., "stage_id": ..., "title": ...,
        "amount": Money(...), "expected_close": date, "contact_role": "decision_maker"}``)."""
        r = self._scope._call(_banyan.convert_lead, lead, company, deal)
        return Conversion(Lead._wrap(r["lead"]), Contact._wrap(r["contact"]),
                          Company._wrap(r["company"]), r["company_created"],
                          _wrap(r["deal"], "deal"))


class Deals(Records):
    """Deals; a patch of ``stage_id`` moves one through its pipeline."""

    def reopen(self, deal: Any, stage: Any = None, *, expected_version: Optional[int] = None) -> Any:
        """Reopens a won or lost deal (into ``stage``, else the stage it was in)."""
        return Deal._wrap(self._scope._call(_banyan.reopen_deal, deal, stage, expected_version))

    def stage_history(self, deal: Any) -> list:
        """The stages the deal went through, oldest first (dicts)."""
        return self._scope._call(_banyan.stage_history, deal, read=True)


class Pipelines(Records):
    """Pipelines."""

    def summary(self, pipeline: Any, status: Optional[str] = None) -> dict:
        """Deals per stage with their amounts (and weighted amounts) per currency, over the
        deals the principal may read; ``status`` ("open", "won", "lost") narrows them."""
        s = self._scope._call(_banyan.pipeline_summary, pipeline, status, read=True)
        s["pipeline"] = Pipeline._wrap(s["pipeline"])
        for stage in s["stages"]:
            stage["stage"] = Stage._wrap(stage["stage"])
        return s


class CustomFields:
    """Custom field definitions: read with their type, changed by its administrators."""

    def __init__(self, scope: "_Scope") -> None:
        self._scope = scope

    def define(self, object_type: str, name: str, type: str = "text", **options: Any) -> CustomField:
        """Defines a field (``type``: text, long_text, number, decimal, date, datetime, bool,
        enum, multi_enum, url, email, phone, currency; ``options`` as CustomField's:
        label, required, default, options, min, max, max_length, scale, sensitive)."""
        spec = {"object_type": object_type, "name": name, "type": type, **options}
        return CustomField(**self._scope._call(_banyan.define_field, spec))

    def list(self, object_type: Optional[str] = None) -> list:
        """The definitions (of one record type)."""
        return [CustomField(**d)
                for d in self._scope._call(_banyan.list_fields, object_type, read=True)]

    def rename(self, field: Any, name: str) -> CustomField:
        """Renames a field; stored values follow it."""
        return CustomField(**self._scope._call(_banyan.change_field, _id(field), "rename", name))

    def deprecate(self, field: Any, deprecated: bool = True) -> CustomField:
        """Marks a field deprecated (kept, no longer offered), or not."""
        return CustomField(**self._scope._call(_banyan.change_field, _id(field), "deprecate",
                                               deprecated))

    def remove(self, field: Any) -> None:
        """Deletes a field definition."""
        self._scope._call(_banyan.change_field, _id(field), "remove", None)


def _id(value: Any) -> Any:
    return value.id if isinstance(value, (CustomField, Record)) else value


class Relations:
    """Links between records: tags, contacts and companies, deal contacts, activity
    targets. A target is a record or a ``(type, id)`` pair. Each change answers whether it
    changed anything, emits an event and is an audit entry."""

    def __init__(self, scope: "_Scope") -> None:
        self._scope = scope

    def _call(self, what: str, a: Any, b: Any = None, extra: Any = None, read: bool = False) -> Any:
        return self._scope._call(_banyan.relation, what, a, b, extra, read=read)

    def link_company(self, contact: Any, company: Any, primary: bool = False) -> bool:
        """Links a contact to a company (``primary``: its main one)."""
        return self._call("link_company", contact, company, primary)

    def unlink_company(self, contact: Any, company: Any) -> bool:
        """Unlinks a contact from a company."""
        return self._call("unlink_company", contact, company)

    def companies_of(self, contact: Any) -> list:
        """The contact's company links (CompanyLink)."""
        return [CompanyLink(*link) for link in self._call("companies_of", contact, read=True)]

    def contacts_of(self, company: Any) -> list:
        """The company's contact links (CompanyLink)."""
        return [CompanyLink(*link) for link in self._call("contacts_of", company, read=True)]

    def add_deal_contact(self, deal: Any, contact: Any, role: str = "other") -> bool:
        """Adds a contact to a deal in a role (decision_maker, champion, influencer,
        economic_buyer, technical_buyer, end_user, other), or changes its role."""
        return self._call("add_deal_contact", deal, contact, role)

    def remove_deal_contact(self, deal: Any, contact: Any) -> bool:
        """Removes a contact from a deal."""
        return self._call("remove_deal_contact", deal, contact)

    def deal_contacts(self, deal: Any) -> list:
        """The deal's contacts and their roles (DealContact)."""
        return [DealContact(*link) for link in self._call("deal_contacts", deal, read=True)]

    def deals_of(self, contact: Any) -> list:
        """The deals the contact is part of (DealContact)."""
        return [DealContact(*link) for link in self._call("deals_of", contact, read=True)]

    def link_activity(self, activity: Any, target: Any) -> bool:
        """Attaches an activity to a record it concerns."""
        return self._call("link_activity", activity, target)

    def unlink_activity(self, activity: Any, target: Any) -> bool:
        """Detaches an activity from a record."""
        return self._call("unlink_activity", activity, target)

    def activity_targets(self, activity: Any) -> list:
        """The records an activity concerns, as (type, id) pairs."""
        return self._call("activity_targets", activity, read=True)

    def activities_of(self, target: Any) -> list:
        """The ids of the activities attached to a record."""
        return self._call("activities_of", target, read=True)

    def tag(self, tag: Any, target: Any) -> bool:
        """Tags a record."""
        return self._call("tag", tag, target)

    def untag(self, tag: Any, target: Any) -> bool:
        """Removes a tag from a record."""
        return self._call("untag", tag, target)

    def tags_of(self, target: Any) -> list:
        """The ids of a record's tags."""
        return self._call("tags_of", target, read=True)

    def tagged_with(self, tag: Any) -> list:
        """The records with a tag, as (type, id) pairs."""
        return self._call("tagged_with", tag, read=True)


class Access:
    """Users' roles and teams, changed by administrators (PermissionDenied otherwise)."""

    def __init__(self, scope: "_Scope") -> None:
        self._scope = scope

    def assign_role(self, user: Any, role: str) -> None:
        """Gives the user a role ("admin", "manager", "sales_rep", "read_only",
        "integration", or a custom one)."""
        self._scope._call(_banyan.access, "assign_role", user, role)

    def revoke_role(self, user: Any, role: str) -> None:
        """Takes a role from the user."""
        self._scope._call(_banyan.access, "revoke_role", user, role)

    def add_member(self, team: Any, user: Any) -> None:
        """Makes the user a member of the team."""
        self._scope._call(_banyan.access, "add_member", user, team)

    def roles_of(self, user: Any) -> list:
        """The user's role names."""
        return self._scope._call(_banyan.access, "roles_of", user, None, read=True)


class _Scope:
    """What an Engine and a Transaction both offer: every use case, as one principal."""

    principal: Principal

    def _call(self, fn: Any, *args: Any, read: bool = False) -> Any:
        raise NotImplementedError

    @property
    def users(self) -> Records:
        """Users (people and service accounts)."""
        return Records(self, User)

    @property
    def teams(self) -> Records:
        """Teams."""
        return Records(self, Team)

    @property
    def tags(self) -> Records:
        """Tags."""
        return Records(self, Tag)

    @property
    def companies(self) -> Companies:
        """Companies."""
        return Companies(self, Company)

    @property
    def contacts(self) -> Contacts:
        """Contacts."""
        return Contacts(self, Contact)

    @property
    def leads(self) -> Leads:
        """Leads."""
        return Leads(self, Lead)

    @property
    def pipelines(self) -> Pipelines:
        """Pipelines."""
        return Pipelines(self, Pipeline)

    @property
    def stages(self) -> Records:
        """Pipeline stages."""
        return Records(self, Stage)

    @property
    def deals(self) -> Deals:
        """Deals."""
        return Deals(self, Deal)

    @property
    def activities(self) -> Records:
        """Activities: tasks, notes, calls, meetings, emails."""
        return Records(self, Activity)

    @property
    def custom_fields(self) -> CustomFields:
        """Custom field definitions."""
        return CustomFields(self)

    @property
    def relations(self) -> Relations:
        """Links between records."""
        return Relations(self)

    @property
    def access(self) -> Access:
        """Users' roles and teams (administrators)."""
        return Access(self)

    def search(self, query: str, types: Any = (), limit: int = 20) -> list:
        """Ranked full-text search (every word as a prefix) over the records the principal
        may read; ``types`` narrows it ("contact", "company", ...)."""
        types = [types] if isinstance(types, str) else list(types)
        return [SearchHit(ref[0], ref[1], title, score)
                for ref, title, score in self._call(_banyan.search, query, types, limit,
                                                    read=True)]

    def publish(self, type: str, subject: Any, payload: Optional[dict] = None) -> dict:
        """Appends your own event (``"<object>.<what>"``) about ``subject`` (a record the
        principal may update) to the outbox: relayed with the engine's events when the
        transaction commits, gone if it rolls back."""
        return self._call(_banyan.publish, type, subject, _json.dumps(payload or {}))


class Transaction(_Scope):
    """One database transaction, as one principal. As a context manager it commits when
    the block ends and rolls back when it raises. Used after it ended: Closed."""

    def __init__(self, database: "Database", principal: Principal, read_only: bool = False) -> None:
        self.principal = principal
        self._tx = database._live().begin(principal, read_only, True)

    def _call(self, fn: Any, *args: Any, read: bool = False) -> Any:
        return fn(self._tx, *args)

    def commit(self) -> None:
        """Commits (Conflict or Unavailable when the database refuses; nothing is kept)."""
        self._tx.commit()

    def rollback(self) -> None:
        """Rolls back; does nothing when already ended."""
        self._tx.rollback()

    @property
    def active(self) -> bool:
        """Until committed, rolled back, or its database closed."""
        return self._tx.active

    def record_processed(self, consumer: str, message_id: str) -> bool:
        """Notes in this transaction that ``consumer`` handled the message: True the first
        time, False when it already did (skip its effects). Exactly-once effects from
        at-least-once delivery, when the effects are written in this transaction too."""
        return _banyan.record_processed(self._tx, consumer, message_id)

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is None and self._tx.active:
            self._tx.commit()
        else:
            self._tx.rollback()


class Engine(_Scope):
    """Every use case as one principal; each call outside ``transaction()`` runs in a
    transaction of its own."""

    def __init__(self, database: "Database", principal: Principal) -> None:
        self._database = database
        self.principal = principal

    def _call(self, fn: Any, *args: Any, read: bool = False) -> Any:
        tx = self._database._live().begin(self.principal, read, False)
        try:
            result = fn(tx, *args)
            tx.commit()
            return result
        finally:
            tx.rollback()  # nothing when committed

    def transaction(self, read_only: bool = False) -> Transaction:
        """A transaction as this engine's principal: ``with crm.transaction() as tx:``."""
        return Transaction(self._database, self.principal, read_only)

    @property
    def dead_letters(self) -> "DeadLetters":
        """Messages that failed for good (administrators only)."""
        return DeadLetters(self)

    @property
    def sagas(self) -> "Sagas":
        """Saga instances (administrators only)."""
        return Sagas(self)

    def __repr__(self) -> str:
        return f"Engine({self.principal!r})"


# ---- messaging ------------------------------------------------------------------------


class Event(NamedTuple):
    """A domain event: ``type`` ("contact.created", ...), the record it concerns
    (``subject``, a (type, id) pair) at ``version``, and its ``payload`` (a dict)."""

    sequence: int
    id: str
    type: str
    subject: tuple
    version: int
    occurred_at: datetime
    actor: Optional[int]
    payload: dict


class Message(NamedTuple):
    """An event delivered from a work queue, on its ``attempt`` (1 for the first)."""

    event: Event
    queue: str
    attempt: int


def _event(d: dict) -> Event:
    return Event(d["sequence"], d["id"], d["type"], d["subject"], d["version"],
                 d["occurred_at"], d["actor"], _json.loads(d["payload"]))


class DeadLetter(NamedTuple):
    """A message that failed for good in ``queue``: the original ``event``, the attempts
    made, the last error and its class (``"transient"`` or ``"permanent"``), the consumer
    that failed last, and when it was replayed (``None`` until then)."""

    id: int
    queue: str
    event: Event
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    last_error: str
    error_class: str
    consumer: str
    dead_at: datetime
    replayed_at: Optional[datetime]
    replays: int


class QueueDepth(NamedTuple):
    """Dead letters not replayed in one queue, and the age of the oldest (seconds)."""

    queue: str
    depth: int
    oldest_age: float


class ReplayReport(NamedTuple):
    """A replay of many: how many went back to their queues, and ``(id, reason)`` for
    each one a guard refused (left as it was)."""

    replayed: int
    refused: list


class SagaCount(NamedTuple):
    """How many instances of ``saga`` are in ``status`` ("running", "completed",
    "compensating", "compensated", "failed")."""

    saga: str
    status: str
    count: int


def _dead_letter(d: dict) -> DeadLetter:
    return DeadLetter(d["id"], d["queue"], _event(d["event"]), d["attempts"],
                      d["first_failed_at"], d["last_failed_at"], d["last_error"],
                      d["error_class"], d["consumer"], d["dead_at"], d["replayed_at"],
                      d["replays"])


class DeadLetters:
    """The durable dead-letter queue, as an administrator (PermissionDenied otherwise).
    Filters: ``queue``, ``event_type``, ``error_contains``, ``older_than`` and
    ``newer_than`` (seconds since dead-lettered), ``include_replayed`` (replayed entries
    are history, left out unless asked for). Each call is a transaction of its own."""

    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    def _run(self, fn: Any, *args: Any) -> Any:
        return fn(self._engine._database._live(), self._engine.principal, *args)

    def list(self, *, limit: int = 100, before: Optional[int] = None, **filter: Any) -> list:
        """Newest first, at most ``limit`` (1 to 10000); ``before`` an id: the next page
        starts below the last id seen."""
        return [_dead_letter(d) for d in self._run(_banyan.dead_letter_list, filter, limit, before)]

    def __iter__(self) -> Iterator[DeadLetter]:
        """Every entry not replayed, newest first, a page at a time."""
        before = None
        while True:
            page = self.list(limit=500, before=before)
            yield from page
            if len(page) < 500:
                return
            before = page[-1].id

    def get(self, id: int) -> DeadLetter:
        """One entry (NotFound when there is none)."""
        return _dead_letter(self._run(_banyan.dead_letter_get, id))

    def history(self, queue: str, event_id: str) -> list:
        """Every entry for one message in one queue, oldest first."""
        return [_dead_letter(d) for d in self._run(_banyan.dead_letter_history, queue, event_id)]

    def replay(self, id: Optional[int] = None, **filter: Any) -> Optional[ReplayReport]:
        """Puts one entry's message (by ``id``; NotFound, or Conflict when replayed
        already) or every matching entry's back at the end of its queue with its attempts
        reset; a saga's message restarts its saga. The entries stay as history."""
        if id is not None:
            if filter:
                raise ValidationError("replay takes an id or a filter, not both", "id")
            self._run(_banyan.dead_letter_replay, id, {})
            return None
        replayed, refused = self._run(_banyan.dead_letter_replay, None, filter)
        return ReplayReport(replayed, list(refused))

    def purge(self, id: Optional[int] = None, **filter: Any) -> Any:
        """Deletes one entry (whether there was one) or every matching entry (how many)."""
        if id is not None:
            if filter:
                raise ValidationError("purge takes an id or a filter, not both", "id")
            return self._run(_banyan.dead_letter_purge, id, {})
        return self._run(_banyan.dead_letter_purge, None, filter)

    def stats(self) -> list:
        """Per queue with entries not replayed: ``QueueDepth(queue, depth, oldest_age)``."""
        return [QueueDepth(*q) for q in self._run(_banyan.dead_letter_stats)]


class Sagas:
    """Saga instances, as an administrator (PermissionDenied otherwise)."""

    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    def stats(self) -> list:
        """``SagaCount(saga, status, count)`` for every saga and status with instances."""
        return [SagaCount(*s) for s in _banyan.saga_stats(self._engine._database._live(),
                                                          self._engine.principal)]

    def get(self, id: int) -> dict:
        """One instance: ``saga``, ``key``, ``subject``, ``status``, ``step``, ``data``,
        ``history`` (each step's attempts and compensations), ``error``, times."""
        return _banyan.saga_get(self._engine._database._live(), self._engine.principal, id)


_BUSES: "_weakref.WeakSet[Bus]" = _weakref.WeakSet()


@_atexit.register
def _stop_buses() -> None:
    for bus in list(_BUSES):
        bus.stop()


class Bus:
    """The message bus on a database (``db.bus()``): every committed write's event, relayed
    in commit order to durable work queues and to live subscribers. Handlers run on the
    bus's threads with the GIL held; a handler that raises fails that attempt (retried with
    backoff, dead-lettered after the last, at once for PermanentError). Stops at exit."""

    def __init__(self, database: "Database", node: str = "", relay: bool = True) -> None:
        self._database = database
        self._bus = _banyan._Bus(database._live(), node, relay)
        _BUSES.add(self)

    def declare_queue(self, name: str, event_types: Any, *, max_attempts: int = 6,
                      immediate_retries: int = 2, initial_delay: float = 1.0,
                      max_delay: float = 300.0, lease: float = 30.0) -> None:
        """Creates or updates a work queue receiving these event types ("deal.won",
        "deal.*", "*"); delays in seconds. Events committed before it exists are not routed
        to it."""
        types = [event_types] if isinstance(event_types, str) else list(event_types)
        self._bus.declare_queue(name, types, max_attempts, immediate_retries,
                                float(initial_delay), float(max_delay), float(lease))

    def consume(self, queue: str, handler: Any, *, name: str = "", prefetch: int = 64,
                exactly_once: Optional[str] = None,
                principal: Optional[Principal] = None) -> None:
        """Runs ``handler(message)`` for each message of the queue; returning acknowledges
        it. With ``exactly_once="<consumer>"`` it runs ``handler(message, tx)`` in a
        transaction (as ``principal``, the system's when None) that also records the message
        as processed, and skips messages already processed: exactly-once effects."""
        if exactly_once is not None:
            effects = handler

            def handler(message: Message) -> None:
                with self._database.transaction(principal) as tx:
                    if tx.record_processed(exactly_once, message.event.id):
                        effects(message, tx)

        def deliver(event: dict, queue_name: str, attempt: int) -> None:
            handler(Message(_event(event), queue_name, attempt))

        self._bus.consume(queue, deliver, name, prefetch)

    def subscribe(self, pattern: str, handler: Any) -> None:
        """Runs ``handler(event)`` for each event published from now on whose type matches
        (live observers: an event published while nothing listens is not seen)."""
        self._bus.subscribe(pattern, lambda event: handler(_event(event)))

    def start(self) -> None:
        """Starts relaying, consuming and subscribing."""
        self._bus.start()

    def stop(self) -> None:
        """Lets handlers in flight finish and stops; the bus cannot start again."""
        self._bus.stop()

    def metrics(self) -> dict:
        """Counters since start: relayed, delivered, acked, retried, dead_lettered, ..."""
        return self._bus.metrics()

    def __enter__(self) -> "Bus":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Database:
    """An open Banyan database: use ``banyan.open()``. Safe to share between threads.
    Closing rolls back its open transactions; afterwards everything made from it raises
    Closed (records already read stay usable)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def _live(self) -> Any:
        if self._handle.closed:
            raise Closed("the database is closed")
        return self._handle

    def engine(self, principal: Optional[Principal] = None, *, user: Any = None) -> Engine:
        """The engine as ``principal``; as the user with id ``user`` (with the roles and
        teams stored for them); or, given neither, as the system principal (every right,
        "system" in the audit trail: for trusted scripts)."""
        if principal is not None and user is not None:
            raise TypeError("give a principal or a user, not both")
        if user is not None:
            principal = self._call_as_system(_banyan.principal_of, user)
        return Engine(self, principal if principal is not None else Principal.system())

    def transaction(self, principal: Optional[Principal] = None, read_only: bool = False) -> Transaction:
        """A transaction as ``principal`` (the system principal when None)."""
        return Transaction(self, principal if principal is not None else Principal.system(),
                           read_only)

    def _call_as_system(self, fn: Any, *args: Any) -> Any:
        return Engine(self, Principal.system())._call(fn, *args)

    def bus(self, *, node: str = "", relay: bool = True) -> Bus:
        """A message bus on this database (``relay``: it competes to relay the outbox;
        ``node``: its name in leases and dead letters). Stopped when the database closes."""
        return Bus(self, node, relay)

    def close(self) -> None:
        """Stops its buses, rolls back open transactions, waits for calls in flight, closes.
        Idempotent."""
        self._handle.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._handle.closed

    @property
    def backend(self) -> str:
        """"sqlite" or "mysql"."""
        return self._live().backend()

    @property
    def location(self) -> str:
        """The database's URL without password or parameters."""
        return self._live().location()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return self._live().schema_version()

    def pool(self) -> dict:
        """The connection pool now: in_use, idle, waiting, acquired, timeouts."""
        return self._live().pool()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.location
        return f"<banyan.Database {state}>"


def open(url: str, *, encryption_keys: Any = None, audit_key: Any = None, pool_size: int = 8,
         pool_timeout: float = 5.0, migrate: bool = True) -> Database:
    """Opens (and creates or migrates) a Banyan database:

    - ``sqlite:///absolute/path.db``, ``sqlite://relative.db``, ``sqlite::memory:``
    - ``mysql://user:password@host:port/database`` (MySQL or MariaDB)

    ``encryption_keys`` and ``audit_key``: a key file's text (str) or its path
    (``pathlib.Path``); None takes them from the environment (BANYAN_ENCRYPTION_KEYS...),
    as the server does. ``pool_size`` connections at most, waited for ``pool_timeout``
    seconds before PoolExhausted (at least 2: after a role change the engine reads its
    access policy on a connection of its own). Raises ValidationError for a bad URL, Unavailable when the
    database cannot be reached."""
    keys, keys_file = _key_source(encryption_keys, "encryption_keys")
    audit, audit_file = _key_source(audit_key, "audit_key")
    return Database(_banyan._Database.open(url, keys, keys_file, audit, audit_file, pool_size,
                                           float(pool_timeout), migrate))


def _key_source(value: Any, name: str) -> tuple:
    if value is None:
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, _os.PathLike):
        return None, _os.fspath(value)
    raise TypeError(f"{name}: a key file's text (str) or its path (os.PathLike)")

