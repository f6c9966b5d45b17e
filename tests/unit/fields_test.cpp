// One descriptor per record type (banyan/model/fields.hpp), and the tables derived from
// it: patches and merges, JSON and its schemas, masks, sealed columns and text checks.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"
#include "banyan/security/access_policy.hpp"
#include "model/writable_fields.hpp"
#include "rest/record_json.hpp"
#include "store/sealing.hpp"
#include "store/validation.hpp"

namespace banyan {
namespace {

template <typename T>
std::vector<std::string> names_of(unsigned flag = 0) {
  std::vector<std::string> out;
  for (const auto& f : standard_fields<T>())
    if (flag == 0 || (f.flags & flag) != 0) out.emplace_back(f.name);
  return out;
}

template <typename T>
void expect_well_formed() {
  SCOPED_TRACE(std::string(to_string(T::kType)));
  const auto names = names_of<T>();
  const std::vector<std::string> record{"id",          "version",    "owner_id",   "team_id",
                                        "external_id", "created_at", "created_by", "updated_at",
                                        "updated_by",  "archived_at"};
  ASSERT_GT(names.size(), record.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + record.size()), record);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size())
      << "a field is described twice";
  for (const auto& f : standard_fields<T>()) {
    if (f.has(kSensitive)) {
      EXPECT_TRUE(std::get_if<std::optional<std::string> T::*>(&f.member) != nullptr ||
                  std::get_if<ContactPoints T::*>(&f.member) != nullptr)
          << f.name << ": a sensitive field is an optional text or a list, so a mask can clear it";
    }
    if (f.has(kMergeable)) {
      EXPECT_TRUE(f.has(kWritable)) << f.name;
    }
  }
  // The REST fields are the descriptor's, with the custom values after the record's own.
  std::vector<std::string> json;
  for (const auto& f : rest::json_fields<T>()) json.push_back(f.name);
  auto expected = names;
  expected.insert(expected.begin() + record.size(), "custom");
  EXPECT_EQ(json, expected);
  // Patches and merges take exactly the writable fields (money also by its parts).
  std::vector<std::string> writable;
  for (const auto& f : detail::writable_fields<T>())
    if (f.name.find('.') == std::string_view::npos) writable.emplace_back(f.name);
  EXPECT_EQ(writable, names_of<T>(kWritable));
  // Masks hide, and encryption seals, the sensitive fields.
  const auto sensitive = security::sensitive_fields(T::kType);
  EXPECT_EQ(std::vector<std::string>(sensitive.begin(), sensitive.end()), names_of<T>(kSensitive));
  std::vector<std::string> sealed;
  for (const auto& c : store::detail::sealed_columns<T>()) sealed.emplace_back(c.field);
  EXPECT_EQ(sealed, names_of<T>(kSensitive)) << "the sealed columns follow the descriptor";
}

TEST(StandardFields, EveryTypeStartsWithTheRecordFieldsAndEveryTableDerivedFromItAgrees) {
  expect_well_formed<User>();
  expect_well_formed<Team>();
  expect_well_formed<Tag>();
  expect_well_formed<Company>();
  expect_well_formed<Contact>();
  expect_well_formed<Lead>();
  expect_well_formed<Pipeline>();
  expect_well_formed<Stage>();
  expect_well_formed<Deal>();
  expect_well_formed<Activity>();
}

TEST(StandardFields, WhatTheStoreSetsIsReadOnlyAndNamedSo) {
  EXPECT_TRUE(detail::is_store_set(ObjectType::kLead, "converted_at"));
  EXPECT_TRUE(detail::is_store_set(ObjectType::kCompany, "merged_into"));
  EXPECT_TRUE(detail::is_store_set(ObjectType::kDeal, "version"));
  EXPECT_FALSE(detail::is_store_set(ObjectType::kDeal, "merged_into"));  // deals do not merge
  EXPECT_FALSE(detail::is_store_set(ObjectType::kLead, "title"));
  try {
    detail::throw_not_writable(ObjectType::kLead, "converted_at");
    FAIL() << "converted_at is not writable";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "converted_at");
    EXPECT_NE(std::string(e.what()).find("is set by the store"), std::string::npos);
  }
}

// The field of T named `name`, which the test needs to exist.
template <typename T>
const FieldDescriptor<T>& field(std::string_view name) {
  const auto* f = standard_field<T>(name);
  if (f == nullptr) throw std::logic_error(std::string(name) + ": no such field");
  return *f;
}

TEST(StandardFields, MergesNeverTakeAnExternalIdOrALeadStatus) {
  EXPECT_FALSE(field<Contact>("external_id").has(kMergeable));
  EXPECT_FALSE(field<Lead>("status").has(kMergeable));
  EXPECT_TRUE(field<Lead>("title").has(kMergeable));
  for (const auto& f : detail::writable_fields<Lead>()) {
    if (f.name == "status") {
      EXPECT_FALSE(f.mergeable);
    }
  }
}

TEST(StandardFields, EnumerationsReadAndWriteByTheirStableNames) {
  for (std::size_t i = 0; i < enum_names<LeadStatus>().size(); ++i)
    EXPECT_EQ(enum_names<LeadStatus>()[i], to_string(static_cast<LeadStatus>(i)));
  Deal d;
  const auto& status =
      *std::find_if(rest::json_fields<Deal>().begin(), rest::json_fields<Deal>().end(),
                    [](const auto& f) { return f.name == "status"; });
  status.set(d, "won");
  EXPECT_EQ(d.status, DealStatus::kWon);
  EXPECT_EQ(status.get(d), "won");
  EXPECT_EQ(status.schema["enum"], (rest::json{"open", "won", "lost"}));
  try {
    status.set(d, "pending");
    FAIL() << "pending is no deal status";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "status");
  }
}

TEST(StandardFields, MoneyIsWrittenWholeOrByPartsButNeitherFilteredNorSorted) {
  EXPECT_FALSE(field<Deal>("amount").has(kFilterable));
  EXPECT_FALSE(field<Deal>("amount").has(kSortable));
  Deal from, into;
  from.amount = {500, "EUR"};
  bool copied = false;
  for (const auto& f : detail::writable_fields<Deal>()) {
    if (f.name != "amount.currency") continue;
    f.copy(into, from);
    copied = true;
  }
  EXPECT_TRUE(copied) << "amount.currency is a writable part";
  EXPECT_EQ(into.amount, (Money{0, "EUR"}));
}

TEST(StandardFields, EveryWritableTextIsCheckedForItsLengthWithoutALineOfItsOwn) {
  Lead lead;
  lead.last_name = "Lovelace";
  lead.title = std::string(256, 'x');
  try {
    store::detail::check_standard_texts(lead);
    FAIL() << "a 256-character title passed";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "title");
  }
  lead.title = std::string(255, 'x');
  EXPECT_NO_THROW(store::detail::check_standard_texts(lead));
  Activity note;
  note.subject = "  ";
  EXPECT_THROW(store::detail::check_standard_texts(note), ValidationError);  // required
  note.subject = "Call";
  note.body = std::string(4096, 'x');  // a long text
  EXPECT_NO_THROW(store::detail::check_standard_texts(note));
}

}  // namespace
}  // namespace banyan
