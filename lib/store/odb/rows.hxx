// Persistent row types: the ODB island's view of the schema.
//
// Plain C++14 structs annotated with `#pragma db`. They include no ODB header, so the
// C++20 side can include this file and convert between rows and public domain types
// (lib/store/row_mapping.cpp). Every translation unit that includes an ODB header is
// compiled as C++14 in the banyan_odb target (see lib/CMakeLists.txt).
//
// Conventions: times are microseconds since the Unix epoch (UTC); calendar dates are
// days since the epoch; money is an integer amount of minor units plus an ISO 4217 code.
// NULL-able columns are std::unique_ptr (ODB maps a null pointer to NULL).
//
// Not formatted: clang-format would write ODB's `mysql:type(...)` as `mysql : type(...)`.
// clang-format off
#ifndef BANYAN_LIB_STORE_ODB_ROWS_HXX
#define BANYAN_LIB_STORE_ODB_ROWS_HXX

#include <cstdint>
#include <memory>
#include <string>

#ifdef ODB_COMPILER
// Only the ODB compiler sees this: it teaches it that std::unique_ptr is a NULL-able
// wrapper. Ordinary builds of this header stay free of ODB includes.
#include <odb/wrapper-traits.hxx>
#endif

namespace banyan {
namespace odbrows {

template <typename T>
using Nullable = std::unique_ptr<T>;

#pragma db value(std::string) mysql:type("VARCHAR(255)")

// Columns every record has. `version` drives ODB's optimistic concurrency: an update
// with a stale version raises odb::object_changed, which the island turns into Conflict.
#pragma db object abstract optimistic
struct RecordRow {
#pragma db id auto
  std::uint64_t id = 0;
#pragma db version
  std::uint64_t version = 0;
#pragma db null
  Nullable<std::uint64_t> owner_id;
#pragma db null
  Nullable<std::uint64_t> team_id;
  std::int64_t created_at = 0;
#pragma db null
  Nullable<std::uint64_t> created_by;
  std::int64_t updated_at = 0;
#pragma db null
  Nullable<std::uint64_t> updated_by;
#pragma db null
  Nullable<std::string> external_id;
#pragma db null
  Nullable<std::int64_t> archived_at;
  // Custom field values as a JSON object keyed "f<definition id>" (schema version 3).
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> custom_fields;
};

#pragma db object table("users")
struct UserRow : RecordRow {
#pragma db index("users_external_id_uq") unique member(external_id)
#pragma db index("users_email_uq") unique member(email)
  std::string email;
  std::string name;
  bool active = true;
};

#pragma db object table("teams")
struct TeamRow : RecordRow {
#pragma db index("teams_external_id_uq") unique member(external_id)
#pragma db index("teams_name_uq") unique member(name)
  std::string name;
};

#pragma db object table("tags")
struct TagRow : RecordRow {
#pragma db index("tags_external_id_uq") unique member(external_id)
#pragma db index("tags_name_uq") unique member(name)
  std::string name;
#pragma db null
  Nullable<std::string> color;
};

#pragma db object table("companies")
struct CompanyRow : RecordRow {
#pragma db index("companies_external_id_uq") unique member(external_id)
#pragma db index("companies_domain_ix") member(domain)
  std::string name;
#pragma db null
  Nullable<std::string> domain;
#pragma db null
  Nullable<std::string> industry;
#pragma db null
  Nullable<std::string> phone;
#pragma db null
  Nullable<std::string> website;
#pragma db null
  Nullable<std::int64_t> employee_count;
  // Every email, every phone and the postal addresses, each list a JSON array (schema
  // version 20).
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> emails;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> phones;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> addresses;
  // Set by a merge (schema version 5).
#pragma db null
  Nullable<std::uint64_t> merged_into_id;
};

#pragma db object table("contacts")
struct ContactRow : RecordRow {
#pragma db index("contacts_external_id_uq") unique member(external_id)
#pragma db index("contacts_email_ix") member(email)
#pragma db index("contacts_last_name_ix") member(last_name)
#pragma db index("contacts_email_index_ix") member(email_index)
  std::string first_name;
  std::string last_name;
  // Email and phone hold sealed values when encryption at rest is on (store/field_cipher.hpp),
  // longer than the values themselves (schema version 13).
#pragma db null mysql:type("VARCHAR(512)")
  Nullable<std::string> email;
#pragma db null mysql:type("VARCHAR(512)")
  Nullable<std::string> phone;
  // The email's blind index when encryption at rest is on: equality lookups use it.
#pragma db null mysql:type("VARCHAR(64)")
  Nullable<std::string> email_index;
#pragma db null
  Nullable<std::string> title;
  // Every email, every phone and the postal addresses, each list a JSON array (schema
  // version 20); emails and phones sealed like the email.
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> emails;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> phones;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> addresses;
  // Set by a merge (schema version 5).
#pragma db null
  Nullable<std::uint64_t> merged_into_id;
};

#pragma db object table("leads")
struct LeadRow : RecordRow {
#pragma db index("leads_external_id_uq") unique member(external_id)
#pragma db index("leads_email_ix") member(email)
#pragma db index("leads_email_index_ix") member(email_index)
  std::string first_name;
  std::string last_name;
  // As for contacts: sealed values and the email's blind index (schema version 13).
#pragma db null mysql:type("VARCHAR(512)")
  Nullable<std::string> email;
#pragma db null mysql:type("VARCHAR(512)")
  Nullable<std::string> phone;
#pragma db null mysql:type("VARCHAR(64)")
  Nullable<std::string> email_index;
#pragma db null
  Nullable<std::string> company_name;
#pragma db null
  Nullable<std::string> source;
  // The lead's job title (schema version 18).
#pragma db null
  Nullable<std::string> title;
  // Every email, every phone and the postal addresses, each list a JSON array (schema
  // version 20); emails and phones sealed like the email.
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> emails;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> phones;
#pragma db null mysql:type("MEDIUMTEXT")
  Nullable<std::string> addresses;
  std::string status;
  // Set once, by lead conversion (schema version 2).
#pragma db null
  Nullable<std::int64_t> converted_at;
#pragma db null
  Nullable<std::uint64_t> converted_contact_id;
#pragma db null
  Nullable<std::uint64_t> converted_company_id;
#pragma db null
  Nullable<std::uint64_t> converted_deal_id;
  // Set by a merge (schema version 5).
#pragma db null
  Nullable<std::uint64_t> merged_into_id;
};

#pragma db object table("pipelines")
struct PipelineRow : RecordRow {
#pragma db index("pipelines_external_id_uq") unique member(external_id)
  std::string name;
};

#pragma db object table("stages")
struct StageRow : RecordRow {
#pragma db index("stages_external_id_uq") unique member(external_id)
#pragma db index("stages_pipeline_position_uq") unique members(pipeline_id, position)
  std::uint64_t pipeline_id = 0;
  std::string name;
  std::int64_t position = 0;
  std::int64_t win_probability = 0;  // percent, 0..100
  std::string kind;                  // open, won or lost (schema 14)
};

#pragma db object table("deals")
struct DealRow : RecordRow {
#pragma db index("deals_external_id_uq") unique member(external_id)
#pragma db index("deals_stage_ix") member(stage_id)
  std::string title;
  std::uint64_t pipeline_id = 0;
  std::uint64_t stage_id = 0;
  std::int64_t amount_minor = 0;
  std::string currency;
#pragma db null
  Nullable<std::int64_t> expected_close;  // days since the epoch
#pragma db null
  Nullable<std::uint64_t> company_id;
  std::string status;
#pragma db null
  Nullable<std::int64_t> closed_at;  // when won or lost (schema 14)
};

#pragma db object table("activities")
struct ActivityRow : RecordRow {
#pragma db index("activities_external_id_uq") unique member(external_id)
  std::string kind;
  std::string subject;
#pragma db mysql:type("MEDIUMTEXT")
#pragma db null
  Nullable<std::string> body;
#pragma db null
  Nullable<std::int64_t> due_at;
#pragma db null
  Nullable<std::int64_t> completed_at;
};

// A custom field's definition (schema version 3). Values live in the records'
// custom_fields JSON under "f<id>", so renaming a field touches no record.
#pragma db object table("custom_field_definitions") optimistic
struct CustomFieldDefinitionRow {
#pragma db index("custom_field_definitions_name_uq") unique members(object_type, name)
#pragma db id auto
  std::uint64_t id = 0;
#pragma db version
  std::uint64_t version = 0;
  std::string object_type;
  std::string name;
  std::string label;
  std::string type;
  bool required = false;
#pragma db null mysql:type("TEXT")
  Nullable<std::string> default_json;
#pragma db null mysql:type("TEXT")
  Nullable<std::string> options_json;
#pragma db null
  Nullable<double> min_value;
#pragma db null
  Nullable<double> max_value;
#pragma db null
  Nullable<std::int64_t> max_length;
  std::int64_t scale = 2;
  bool deprecated = false;
  bool is_sensitive = false;  // schema version 10 ("sensitive" is reserved in MySQL)
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// Every stage a deal entered, with who moved it and how long it sat in the stage before
// (schema version 2). Append-only.
#pragma db object table("deal_stage_changes")
struct DealStageChangeRow {
#pragma db index("deal_stage_changes_deal_ix") member(deal_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::uint64_t deal_id = 0;
#pragma db null
  Nullable<std::uint64_t> from_stage_id;
  std::uint64_t to_stage_id = 0;
  std::int64_t changed_at = 0;
#pragma db null
  Nullable<std::uint64_t> changed_by;
#pragma db null
  Nullable<std::int64_t> time_in_previous_us;
};

// Relations. Each is a plain row with its own surrogate id and a unique key over the
// pair, so ODB can load, persist and erase it like any object.

#pragma db object table("contact_companies")
struct ContactCompanyRow {
#pragma db index("contact_companies_uq") unique members(contact_id, company_id)
#pragma db index("contact_companies_company_ix") member(company_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::uint64_t contact_id = 0;
  std::uint64_t company_id = 0;
  bool is_primary = false;
};

#pragma db object table("deal_contacts")
struct DealContactRow {
#pragma db index("deal_contacts_uq") unique members(deal_id, contact_id)
#pragma db index("deal_contacts_contact_ix") member(contact_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::uint64_t deal_id = 0;
  std::uint64_t contact_id = 0;
  std::string role;
};

#pragma db object table("activity_links")
struct ActivityLinkRow {
#pragma db index("activity_links_uq") unique members(activity_id, object_type, object_id)
#pragma db index("activity_links_object_ix") members(object_type, object_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::uint64_t activity_id = 0;
  std::string object_type;
  std::uint64_t object_id = 0;
};

#pragma db object table("tag_links")
struct TagLinkRow {
#pragma db index("tag_links_uq") unique members(tag_id, object_type, object_id)
#pragma db index("tag_links_object_ix") members(object_type, object_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::uint64_t tag_id = 0;
  std::string object_type;
  std::uint64_t object_id = 0;
};

// The schema version of this database (one row, id 1). Banyan's own migration runner
// reads and advances it (lib/store/schema.cpp).
#pragma db object table("banyan_schema")
struct SchemaRow {
#pragma db id
  std::uint64_t id = 1;
  std::int64_t version = 0;
};

// The transactional outbox (schema version 6): one row per domain event, appended in the
// writing transaction. `id` is the sequence.
#pragma db object table("outbox_events")
struct OutboxEventRow {
#pragma db index("outbox_events_aggregate_ix") members(aggregate_type, aggregate_id)
#pragma db index("outbox_events_pending_ix") members(relayed_at, id)
#pragma db id auto
  std::uint64_t id = 0;
  std::string event_id;
  std::string event_type;
  std::string aggregate_type;
  std::uint64_t aggregate_id = 0;
  std::uint64_t aggregate_version = 0;
  std::int64_t occurred_at = 0;
#pragma db null
  Nullable<std::uint64_t> actor_id;
#pragma db mysql:type("MEDIUMTEXT")
  std::string payload;
  // When the relay routed and published the event (schema version 7); NULL while pending.
#pragma db null
  Nullable<std::int64_t> relayed_at;
};

// Keys for duplicate detection (schema version 5): one row per record and rule.
#pragma db object table("match_keys")
struct MatchKeyRow {
#pragma db index("match_keys_lookup_ix") members(object_type, rule, match_key)
#pragma db index("match_keys_record_ix") members(object_type, object_id)
#pragma db id auto
  std::uint64_t id = 0;
  std::string object_type;
  std::uint64_t object_id = 0;
  std::string rule;
  std::string match_key;
};

// Full-text search results.
#pragma db view
struct SearchHitView {
  std::string object_type;
  std::uint64_t object_id = 0;
  std::string title;
  double score = 0;
};

// Duplicate groups: records sharing one key.
#pragma db view
struct MatchGroupView {
  std::string rule;
  std::string match_key;
  std::int64_t members = 0;
};

// A response kept by idempotency key (schema version 8, plain SQL in schema.cpp).
#pragma db view
struct StoredResponseView {
  std::string fingerprint;
  std::int64_t status = 0;
  std::string headers;
#pragma db mysql:type("MEDIUMTEXT")
  std::string body;
  std::int64_t created_at = 0;
};

// Deals per stage and currency, for pipeline summaries.
#pragma db view
struct StageTotalView {
  std::uint64_t stage_id = 0;
  std::string currency;
  std::int64_t deals = 0;
  std::int64_t amount = 0;
};

}  // namespace odbrows
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_ODB_ROWS_HXX
