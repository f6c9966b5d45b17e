// Contact points on both backends: every email, phone and address of contacts, leads and
// companies; how `email` and `phone` stay the primary entries; the checks; the filters on
// any email, city and country; duplicates on any email or phone; masking, sealing,
// events, history and lead conversion.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_fixture.hpp"

namespace banyan::test {
namespace {

using security::Action;
using store::Filter;
using store::MergeRequest;
using store::UnitOfWork;

const std::string kKey = store::EncryptionKeys::generate_line("k1");

ContactPoint point(std::string value, std::string label = "", bool primary = false) {
  return {std::move(value), std::move(label), primary};
}

Address address(AddressKind kind, std::string city, std::string country) {
  Address a;
  a.kind = kind;
  a.street = "1 Main Street";
  a.city = std::move(city);
  a.country = std::move(country);
  return a;
}

class ContactPointsTest : public EngineTest {
 protected:
  Contact create(store::Database& on, const Contact& c) {
    return on.transact([&](UnitOfWork& uow) { return stores(on).contacts().create(uow, c); });
  }
  Contact create(const Contact& c) { return create(db(), c); }
  Contact patch(Id id, const Patch<Contact>& p) {
    return db().transact(
        [&](UnitOfWork& uow) { return stores(db()).contacts().patch(uow, id, p).record; });
  }
  std::vector<std::string> where(store::Database& on, const Filter& f) {
    return on.read([&](UnitOfWork& uow) {
      store::PageRequest r;
      r.filter = f;
      std::vector<std::string> out;
      for (const Contact& c : stores(on).contacts().query(uow, r).items) out.push_back(c.last_name);
      std::sort(out.begin(), out.end());
      return out;
    });
  }
  std::vector<std::string> where(const Filter& f) { return where(db(), f); }
  std::uint64_t contacts() {
    return db().read([&](UnitOfWork& uow) { return stores(db()).contacts().count(uow); });
  }
  // The field a refused create names, with nothing written.
  std::string refused(const Contact& c) {
    const auto before = contacts();
    try {
      create(c);
    } catch (const ValidationError& e) {
      EXPECT_EQ(contacts(), before) << "nothing written";
      return e.field();
    }
    ADD_FAILURE() << "accepted";
    return "";
  }
};
BANYAN_ON_BOTH_BACKENDS(ContactPointsTest);

TEST_P(ContactPointsTest, TheEmailAndPhoneAreThePrimaryEntriesOfTheirLists) {
  EXPECT_EQ(own.emails, (ContactPoints{point("Own@example.com", "", true)}))
      << "a record written with an email alone has it as its one, primary, entry";
  EXPECT_EQ(own.phones, (ContactPoints{point("+1 555 0100", "", true)}));

  Contact c = contact("Grace", "Hopper");
  c.emails = {point("grace@navy.mil", "work"), point("grace@home.example", "home", true)};
  c.phones = {point("+1 202 555 0101", "mobile")};
  const Contact made = create(c);
  EXPECT_EQ(made.email, "grace@home.example") << "the flagged entry is the email";
  EXPECT_EQ(made.phone, "+1 202 555 0101") << "with none flagged, the first is primary";
  EXPECT_TRUE(made.phones[0].primary);
  EXPECT_EQ(stored(made.id), made);

  Contact agreeing = c;
  agreeing.last_name = "Agreeing";
  agreeing.email = "GRACE@home.example";
  EXPECT_EQ(create(agreeing).email, "grace@home.example")
      << "an email equal to the primary entry (emails compare without case) is accepted";
  Contact disagreeing = c;
  disagreeing.email = "other@example.com";
  EXPECT_EQ(refused(disagreeing), "email");
}

TEST_P(ContactPointsTest, WritingTheEmailChangesThePrimaryEntryAndKeepsTheOthers) {
  Contact c = contact("Grace", "Hopper", "a@example.com");
  c.emails = {point("a@example.com", "work", true), point("b@example.com", "home")};
  const Contact made = create(c);

  Patch<Contact> change;
  change.values.email = "c@example.com";
  change.name("email");
  Contact now = patch(made.id, change);
  EXPECT_EQ(now.emails,
            (ContactPoints{point("c@example.com", "work", true), point("b@example.com", "home")}))
      << "the primary entry takes the new value and keeps its label";

  Contact whole = now;
  whole.email = "b@example.com";
  now = db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, whole); });
  EXPECT_EQ(now.emails,
            (ContactPoints{point("c@example.com", "work"), point("b@example.com", "home", true)}))
      << "naming another entry's value moves the primary flag there, losing nothing";

  Contact relisted = now;
  relisted.emails = {point("d@example.com", "", true)};
  now =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, relisted); });
  EXPECT_EQ(now.email, "d@example.com") << "a written list sets the email";

  Patch<Contact> clear;
  clear.name("email");
  Contact two = now;
  two.emails.push_back(point("e@example.com"));
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, two); });
  EXPECT_THROW(patch(made.id, clear), ValidationError)
      << "clearing the email while other entries remain is ambiguous";
  Patch<Contact> empty;
  empty.name("emails");
  now = patch(made.id, empty);
  EXPECT_FALSE(now.email) << "an emptied list clears the email";
  EXPECT_TRUE(now.emails.empty());
}

TEST_P(ContactPointsTest, BadEntriesAreRefusedNamingTheEntry) {
  Contact c = contact("Grace", "Hopper");
  c.emails = {point("a@example.com", "", true), point("b@example.com", "", true)};
  EXPECT_EQ(refused(c), "emails[1].primary");
  c.emails = {point("a@example.com"), point("not an email")};
  EXPECT_EQ(refused(c), "emails[1].value");
  c.emails = {point("a@example.com"), point("A@Example.com")};
  EXPECT_EQ(refused(c), "emails[1].value") << "the same address twice";
  c.emails = {point("a@example.com", std::string(65, 'x'))};
  EXPECT_EQ(refused(c), "emails[0].label");
  c.emails.clear();
  for (int i = 0; i < 21; ++i) c.emails.push_back(point("p" + std::to_string(i) + "@example.com"));
  EXPECT_EQ(refused(c), "emails");
  c.emails.clear();
  c.phones = {point("   ")};
  EXPECT_EQ(refused(c), "phones[0].value");
  c.phones.clear();
  c.addresses = {address(AddressKind::kBilling, "Berlin", "XX")};
  EXPECT_EQ(refused(c), "addresses[0].country") << "not an assigned ISO 3166-1 code";
  c.addresses = {address(AddressKind::kBilling, "Berlin", "DEU")};
  EXPECT_EQ(refused(c), "addresses[0].country") << "alpha-3 is not alpha-2";
  c.addresses = {Address{}};
  EXPECT_EQ(refused(c), "addresses[0]") << "an address with no part";
  c.addresses = {address(AddressKind::kBilling, "Berlin", "de")};
  const Contact made = create(c);
  EXPECT_EQ(made.addresses[0].country, "DE") << "stored in upper case";
  EXPECT_EQ(made.addresses[0].kind, AddressKind::kBilling);
}

TEST_P(ContactPointsTest, FiltersMatchAnyEmailAndAnyAddressesCityOrCountry) {
  Contact c = contact("Grace", "Hopper", "grace@navy.mil");
  c.emails = {point("grace@navy.mil", "work", true), point("grace@home.example", "home")};
  c.phones = {point("+1 202 555 0101", "", true), point("+1 202 555 0102", "fax")};
  c.addresses = {address(AddressKind::kShipping, "Arlington", "US"),
                 address(AddressKind::kMailing, "München", "DE")};
  create(c);
  Contact other = contact("Alan", "Turing", "alan@example.com");
  other.addresses = {address(AddressKind::kBilling, "Manchester", "GB")};
  create(other);

  EXPECT_EQ(where(Filter::eq("email", "grace@home.example")), std::vector<std::string>{"Hopper"})
      << "a second email finds the record";
  EXPECT_EQ(where(Filter::contains("email", "HOME.example")), std::vector<std::string>{"Hopper"});
  EXPECT_EQ(where(Filter::ne("email", "grace@home.example")),
            (std::vector<std::string>{"Own", "Teammates", "Turing", "Westerners"}))
      << "ne: has an email and none is this one";
  EXPECT_EQ(where(Filter::eq("phone", "+1 202 555 0102")), std::vector<std::string>{"Hopper"})
      << "so does a second phone";
  EXPECT_EQ(where(Filter::is_null("phone")), std::vector<std::string>{"Turing"})
      << "is_null is the primary's";
  EXPECT_EQ(where(Filter::eq("city", "München")), std::vector<std::string>{"Hopper"});
  EXPECT_EQ(where(Filter::starts_with("city", "mün")), std::vector<std::string>{"Hopper"})
      << "starts_with folds case, beyond ASCII too";
  EXPECT_EQ(where(Filter::eq("country", "gb")), std::vector<std::string>{"Turing"})
      << "a country code compares in upper case";
  EXPECT_EQ(where(Filter::in("country", {std::string("DE"), std::string("GB")})),
            (std::vector<std::string>{"Hopper", "Turing"}));
  EXPECT_EQ(where(!Filter::is_null("city")), (std::vector<std::string>{"Hopper", "Turing"}));
  EXPECT_EQ(where(Filter::ne("country", "US")), std::vector<std::string>{"Turing"})
      << "Hopper has a US address";

  // Keys follow writes: an address removed no longer matches; a deleted record none.
  Contact moved = db().read([&](UnitOfWork& uow) {
    store::PageRequest r;
    r.filter = Filter::eq("last_name", "Turing");
    return stores(db()).contacts().query(uow, r).items.at(0);
  });
  moved.addresses = {address(AddressKind::kBilling, "Wilmslow", "GB")};
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, moved); });
  EXPECT_TRUE(where(Filter::eq("city", "Manchester")).empty());
  EXPECT_EQ(where(Filter::eq("city", "Wilmslow")), std::vector<std::string>{"Turing"});

  Company acme;
  acme.name = "Acme";
  acme.emails = {point("sales@acme.example", "sales"), point("billing@acme.example", "billing")};
  acme.addresses = {address(AddressKind::kBilling, "Berlin", "DE")};
  const Company made =
      db().transact([&](UnitOfWork& uow) { return stores(db()).companies().create(uow, acme); });
  EXPECT_TRUE(made.emails[0].primary) << "a company's first email is primary";
  const auto companies = db().read([&](UnitOfWork& uow) {
    store::PageRequest r;
    r.filter = Filter::eq("email", "billing@acme.example") && Filter::eq("city", "Berlin");
    return stores(db()).companies().query(uow, r).items;
  });
  ASSERT_EQ(companies.size(), 1u);
  EXPECT_EQ(companies[0].id, made.id);
  EXPECT_THROW(where(Filter::eq("emails", "x")), ValidationError)
      << "a list is filtered by its parts";
}

TEST_P(ContactPointsTest, DuplicatesMatchOnAnyEmailOrPhone) {
  Contact c = contact("Grace", "Hopper", "grace@navy.mil");
  c.emails = {point("grace@navy.mil", "", true), point("shared@example.com")};
  c.phones = {point("+1 202 555 0101", "", true), point("+44 20 7946 0958")};
  const Contact grace = create(c);
  const Contact by_email = create(contact("Amazing", "Grace", "SHARED@example.com"));
  Contact phone = contact("Someone", "Else");
  phone.phone = "0044 20 7946 0958";
  const Contact by_phone = create(phone);
  const auto found = db().transact([&](UnitOfWork& uow) {
    return stores(db()).duplicates().of(uow, {ObjectType::kContact, grace.id});
  });
  std::vector<Id> ids;
  for (const auto& m : found) ids.push_back(m.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<Id>{by_email.id, by_phone.id}));
}

TEST_P(ContactPointsTest, AMergeGathersEveryEmailPhoneAndAddress) {
  Contact a = contact("Grace", "Hopper", "grace@navy.mil");
  a.addresses = {address(AddressKind::kBilling, "Arlington", "US")};
  const Contact survivor = create(a);
  Contact b = contact("Grace", "Hopper");
  b.emails = {point("grace@home.example", "home", true), point("GRACE@navy.mil")};
  b.phones = {point("+1 202 555 0101", "mobile", true)};
  b.addresses = {address(AddressKind::kBilling, "Arlington", "US"),
                 address(AddressKind::kShipping, "Boston", "US")};
  const Contact loser = create(b);
  db().transact([&](UnitOfWork& uow) {
    MergeRequest r;
    r.type = ObjectType::kContact;
    r.survivor = survivor.id;
    r.losers = {loser.id};
    stores(db()).duplicates().merge(uow, r);
  });
  const Contact merged = stored(survivor.id);
  EXPECT_EQ(merged.email, "grace@navy.mil") << "the survivor's primary stays primary";
  EXPECT_EQ(merged.emails,
            (ContactPoints{point("grace@navy.mil", "", true), point("grace@home.example", "home")}))
      << "the loser's other email is gathered; the one both have is kept once";
  EXPECT_EQ(merged.phone, "+1 202 555 0101") << "a blank list is filled whole";
  ASSERT_EQ(merged.addresses.size(), 2u);
  EXPECT_EQ(merged.addresses[1].city, "Boston");
}

TEST_P(ContactPointsTest, SearchFindsEveryEmailWhereTheCallerSeesEmails) {
  Contact c = contact("Grace", "Hopper", "grace@navy.mil");
  c.emails = {point("grace@navy.mil", "", true), point("amazing.grace@cobol.example")};
  create(c);
  Company acme;
  acme.name = "Acme";
  acme.emails = {point("orders@widgets.example")};
  db().transact([&](UnitOfWork& uow) { stores(db()).companies().create(uow, acme); });
  auto found = [&](const Principal& who, const std::string& q) {
    return db().read([&](UnitOfWork& uow) {
      store::SearchRequest r;
      r.query = q;
      std::vector<std::string> titles;
      for (const auto& hit : engine().search(uow, who, r)) titles.push_back(hit.title);
      return titles;
    });
  };
  EXPECT_EQ(found(admin, "cobol"), std::vector<std::string>{"Grace Hopper"})
      << "a second email is in the document";
  EXPECT_EQ(found(admin, "widgets"), std::vector<std::string>{"Acme"})
      << "a company's emails are too";
  EXPECT_TRUE(found(reader, "cobol").empty())
      << "a caller that cannot see emails cannot find by one";
}

TEST_P(ContactPointsTest, EmailsAndPhonesAreMaskedAsTheEmailIsAndAddressesAreNot) {
  Contact c = db().read([&](UnitOfWork& uow) { return engine().contacts(admin).get(uow, own.id); });
  c.emails.push_back(point("second@example.com", "home"));
  c.addresses = {address(AddressKind::kMailing, "Paris", "FR")};
  db().transact([&](UnitOfWork& uow) { engine().contacts(admin).update(uow, c); });
  const Contact shown =
      db().read([&](UnitOfWork& uow) { return engine().contacts(reader).get(uow, own.id); });
  EXPECT_TRUE(shown.emails.empty());
  EXPECT_TRUE(shown.phones.empty());
  EXPECT_EQ(shown.addresses.size(), 1u) << "addresses are not personal data of this kind";
  db().read([&](UnitOfWork& uow) {
    try {
      engine().contacts(reader).count(uow, Filter::eq("email", "second@example.com"));
      ADD_FAILURE() << "a principal that cannot see emails filtered on one";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.field(), "email");
    }
    EXPECT_EQ(engine().contacts(reader).count(uow, Filter::eq("city", "Paris")), 1u);
  });

  // A principal that sees no emails may not write them, and its update keeps them.
  const auto editor = with_contact_role("editor", {Action::kRead, Action::kUpdate});
  Contact edited = shown;
  edited.title = "Edited";
  db().transact([&](UnitOfWork& uow) { engine().contacts(editor).update(uow, edited); });
  EXPECT_EQ(stored(own.id).emails.size(), 2u) << "the masked list survives the update";
  edited = db().read([&](UnitOfWork& uow) { return engine().contacts(editor).get(uow, own.id); });
  edited.phones = {point("+1 999")};
  EXPECT_THROW(
      db().transact([&](UnitOfWork& uow) { engine().contacts(editor).update(uow, edited); }),
      PermissionDenied);
}

TEST_P(ContactPointsTest, SealedAtRestAndStillFoundByAnyEmail) {
  auto sealed = open_with(kKey);
  Contact c = contact("Grace", "Hopper", "grace.sealed@navy.mil");
  c.emails = {point("grace.sealed@navy.mil", "", true), point("hidden.second@example.com")};
  c.phones = {point("+1 202 555 0199", "", true), point("+1 202 555 7777")};
  c.addresses = {address(AddressKind::kBilling, "Arlington", "US")};
  const Contact made = create(*sealed, c);
  EXPECT_TRUE(scratch().columns_holding("hidden.second@example.com").empty());
  EXPECT_TRUE(scratch().columns_holding("555 7777").empty());
  const Contact back =
      sealed->read([&](UnitOfWork& uow) { return stores(*sealed).contacts().get(uow, made.id); });
  EXPECT_EQ(back.emails, made.emails) << "opened on the way out";
  EXPECT_EQ(where(*sealed, Filter::eq("email", "Hidden.Second@example.com")),
            std::vector<std::string>{"Hopper"})
      << "the blind index of every email";
  EXPECT_THROW(where(*sealed, Filter::contains("email", "hidden")), ValidationError);
  EXPECT_EQ(where(*sealed, Filter::eq("city", "Arlington")), std::vector<std::string>{"Hopper"});
}

TEST_P(ContactPointsTest, EventsHistoryAndConversionCarryTheLists) {
  Contact c = contact("Grace", "Hopper", "grace@navy.mil");
  c.addresses = {address(AddressKind::kBilling, "Arlington", "US")};
  const Contact made = create(c);
  Contact next = made;
  next.emails.push_back(point("second@example.com", "home"));
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, next); });
  const auto events =
      db().read([&](UnitOfWork& uow) { return stores(db()).outbox().read(uow, 0, 1000); });
  ASSERT_FALSE(events.empty());
  const auto payload = nlohmann::json::parse(events.back().payload);
  ASSERT_TRUE(payload["emails"].is_array()) << events.back().payload;
  EXPECT_EQ(payload["emails"][1]["value"], "second@example.com");
  EXPECT_EQ(payload["addresses"][0]["city"], "Arlington");
  const auto history = db().read(
      [&](UnitOfWork& uow) { return engine().contacts(admin).history(uow, made.id, "emails"); });
  ASSERT_FALSE(history.empty());
  EXPECT_NE(history.back().after.find("second@example.com"), std::string::npos)
      << history.back().after;

  Lead lead;
  lead.first_name = "Katherine";
  lead.last_name = "Johnson";
  lead.company_name = "NASA";
  lead.emails = {point("kj@nasa.example", "work", true), point("kj@home.example", "home")};
  lead.addresses = {address(AddressKind::kMailing, "Hampton", "US")};
  const Lead l =
      db().transact([&](UnitOfWork& uow) { return stores(db()).leads().create(uow, lead); });
  EXPECT_EQ(l.email, "kj@nasa.example");
  const auto converted = db().transact([&](UnitOfWork& uow) {
    store::LeadConversion request;
    request.lead_id = l.id;
    return engine().convert_lead(uow, admin, request);
  });
  EXPECT_EQ(converted.contact.emails, l.emails) << "the contact takes every email";
  EXPECT_EQ(converted.contact.addresses, l.addresses);
  EXPECT_EQ(converted.contact.email, "kj@nasa.example");
}

}  // namespace
}  // namespace banyan::test
