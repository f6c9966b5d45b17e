// Engine: the service layer. Every use case of the library, run as a principal and
// checked against the access policy (deny by default). Hosts and bindings call this,
// never the repositories directly, so the same rules hold in-process and over HTTP.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "banyan/admin_service.hpp"
#include "banyan/clock.hpp"
#include "banyan/custom_field_service.hpp"
#include "banyan/event_feed.hpp"
#include "banyan/export.hpp"
#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"
#include "banyan/record_service.hpp"
#include "banyan/relation_service.hpp"
#include "banyan/security/access_policy.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/database.hpp"
#include "banyan/store/deal_stages.hpp"
#include "banyan/store/duplicates.hpp"
#include "banyan/store/lead_converter.hpp"
#include "banyan/store/outbox.hpp"
#include "banyan/store/request_log.hpp"
#include "banyan/store/search.hpp"

namespace banyan {

// How Engine::backfill_custom_field goes about it.
struct BANYAN_EXPORT BackfillOptions {
  std::size_t batch = 500;  // records per transaction (1..10000)
  // Called after each committed batch with the records filled so far and those still
  // without a value; returning false stops the backfill there (it resumes where it
  // stopped when started again, since it fills only what has no value).
  std::function<bool(std::uint64_t filled, std::uint64_t left)> progress;
  // Where the request came from, for the audit trail (an address, "cli").
  std::string origin;
};

// How many records a principal may list before listing counts as exporting.
struct BANYAN_EXPORT ExportAllowance {
  std::uint64_t records = 10000;  // 1 or more
  std::chrono::milliseconds window{std::chrono::minutes(10)};
};

struct BANYAN_EXPORT EngineOptions {
  // How long a policy read from the database (custom roles) serves before it is read
  // again. Changes made through this Engine take effect at once.
  std::chrono::milliseconds policy_ttl{5000};
  // Lists (RecordService::query) hand a principal at most `records` in any `window`
  // (a token bucket per principal, across types) without the export action; past that,
  // a list of a type the principal may not export is PermissionDenied (field "export")
  // and counts nothing, and a list of one it may export is let through and reported to
  // on_mass_export (each such list). Other reads (get, history) are not counted.
  ExportAllowance export_allowance;
  std::function<void(const security::Principal&, ObjectType)> on_mass_export;
};

// Thread-safe; one Engine serves every thread. It does not own the Database, which must
// outlive it.
// It reads the time from the Database's clock (DatabaseOptions::clock): the policy's
// lifetime, the export allowance's window, idempotency keys' age.
class BANYAN_EXPORT Engine {
 public:
  explicit Engine(store::Database& db, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  store::Database& database() noexcept;

  // The access policy in force: the built-in roles and the custom ones stored (read
  // again after policy_ttl, or at once after policy_changed()). Once policy_ttl has
  // passed, one caller reads it again on a connection it can have at once; while none is
  // free (every pooled connection held, perhaps by the caller's own unit of work) or the
  // database is unavailable, the policy read last keeps serving and the next call tries
  // again. After policy_changed() the next call waits for a connection as any read does.
  std::shared_ptr<const security::AccessPolicy> policy();
  // Drops the cached policy: call after changing custom roles outside this Engine.
  void policy_changed() noexcept;

  // PermissionDenied unless `who` holds `action` on `type` at some scope: for what
  // concerns a type as a whole (reading custom field definitions needs kRead; changing
  // them, kAdmin).
  void require(const security::Principal& who, security::Action action, ObjectType type);
  // PermissionDenied unless `who` administers the installation (dead letters, sagas,
  // roles, API keys): kAdmin on users.
  void require_administrator(const security::Principal& who);

  // The installation's administration as `who`: PermissionDenied unless `who` administers
  // it (require_administrator). Role changes made through it apply to this Engine's
  // policy when their unit of work commits.
  AdminService admin(const security::Principal& who);

  // Converts a lead the principal may read: needs update on the lead and create on what
  // the conversion makes (a contact, a company unless one is given, a deal when asked),
  // which belong to the lead's owner and team. The result is masked as reads are.
  store::ConversionResult convert_lead(store::UnitOfWork& uow, const security::Principal& who,
                                       const store::LeadConversion& request);
  // The same conversion a step at a time, for callers that run the steps apart (the
  // lead_conversion saga runs each in a message of its own); convert_lead runs them in
  // order, so both make the same records and check the same rights.
  // conversion_company checks everything convert_lead checks (Conflict("status") for a
  // converted lead) and picks the company: request.company_id (which must be readable),
  // else the company matched by the lead's email domain among those `who` may read, else
  // a new one. The other steps check their own part again. Records come back masked.
  store::CompanyChoice conversion_company(store::UnitOfWork& uow, const security::Principal& who,
                                          const store::LeadConversion& request);
  Contact conversion_contact(store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                             Id company_id);
  Deal conversion_deal(store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                       Id company_id, Id contact_id, const store::LeadConversion::NewDeal& spec);
  Lead finish_conversion(store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                         Id contact_id, Id company_id, std::optional<Id> deal_id,
                         bool company_created);
  // The field history of any record the principal may read (RecordService::history of its
  // type): NotFound for a record outside the read scope; sensitive values masked.
  std::vector<store::FieldChange> history(store::UnitOfWork& uow, const security::Principal& who,
                                          ObjectRef record, std::string_view field = {});
  // The likely duplicates of a contact, company or lead the principal may read (NotFound
  // otherwise; ValidationError("type") for another type), among the records it may read:
  // hidden ones are left out, and a rule on a sensitive field (a person's email or phone)
  // counts only where the principal sees that field on both records, so a match never
  // reveals a value the caller could not read. Most rules first, then by id.
  std::vector<store::DuplicateMatch> duplicates(store::UnitOfWork& uow,
                                                const security::Principal& who, ObjectRef record);
  // Groups of two or more records of `type` sharing a key, narrowed as duplicates() narrows
  // its matches (a group left with fewer than two records is dropped), by rule then key;
  // at most `max_groups` (1..1000, else ValidationError("limit")). Needs read on the type.
  std::vector<store::DuplicateGroup> duplicate_groups(store::UnitOfWork& uow,
                                                      const security::Principal& who,
                                                      ObjectType type,
                                                      std::size_t max_groups = 100);
  // Merges records the principal may read: needs update on the survivor and delete on
  // every loser.
  store::MergeResult merge(store::UnitOfWork& uow, const security::Principal& who,
                           const store::MergeRequest& request);

  // Reopens a won or lost deal the principal may update (store::DealStages::reopen); the
  // result is masked as reads are.
  Deal reopen_deal(store::UnitOfWork& uow, const security::Principal& who, Id deal_id,
                   std::optional<Id> stage_id = std::nullopt,
                   std::optional<std::uint64_t> expected_version = std::nullopt);

  // The stage history of a deal the principal may read (NotFound otherwise), oldest first.
  std::vector<store::StageChange> stage_history(store::UnitOfWork& uow,
                                                const security::Principal& who, Id deal_id);
  // A pipeline the principal may read, summed over the deals it may read (its read scope
  // on deals; PermissionDenied without any).
  store::PipelineSummary pipeline_summary(store::UnitOfWork& uow, const security::Principal& who,
                                          Id pipeline_id,
                                          std::optional<DealStatus> status = std::nullopt);

  // How many records of a custom field's type that the principal may read hold no value
  // for it (archived ones too): every record, for a principal that reads them all; those
  // in its read scope otherwise. Nothing (nullopt) for a sensitive field whose values the
  // principal does not see on every record it reads: which records hold one is theirs to
  // know. Needs read on the type. `definition` as read from the registry.
  std::optional<std::uint64_t> count_without_value(store::UnitOfWork& uow,
                                                   const security::Principal& who,
                                                   const CustomFieldDefinition& definition);
  // Gives every record of the field's type that holds no value for it `value`, a batch
  // of records per transaction (never one long one), each an update like any other: a
  // new version, an event and an audit entry, by `who`. Needs admin on the type;
  // ValidationError("value") when the definition refuses the value (checked before
  // anything is written). Returns how many records it filled. Not thread-safe against a
  // second backfill of the same field (both would fill; neither would lose anything).
  std::uint64_t backfill_custom_field(const security::Principal& who, Id field_id,
                                      const CustomValue& value,
                                      const BackfillOptions& options = {});

  // Reads refused for scope (the record exists, the principal was told NotFound) are
  // denial entries in the audit trail (AuditLog::record_denial) on the record: at most one per
  // principal and minute (the first), so probing cannot flood the trail; the rest are counted
  // (denied_reads()). They are noted during the caller's unit of work, which a refusal usually
  // rolls back, and written here, each in a transaction of its own: call it after such a unit of
  // work ends (banyan-server does after every 404). Thread-safe; throws like transact().
  void record_denied_reads();
  // Notes in the audit trail that `who` was refused `what` on `record` ({kUser, 0} when
  // no record is concerned): a denial entry by `who` from `origin` (a client's address),
  // in a unit of work of its own. For a host that refuses before any use case runs.
  // Throws like transact().
  void record_refusal(const security::Principal& who, ObjectRef record, const std::string& what,
                      const std::string& origin);
  std::uint64_t denied_reads() const noexcept;  // refused reads noted since start
  // Lists past the export allowance since start: let through (the principal held the
  // export action) and refused.
  std::uint64_t mass_exports() const noexcept;
  std::uint64_t exports_refused() const noexcept;

  RecordService<User> users(const security::Principal& who);
  RecordService<Team> teams(const security::Principal& who);
  RecordService<Tag> tags(const security::Principal& who);
  RecordService<Company> companies(const security::Principal& who);
  RecordService<Contact> contacts(const security::Principal& who);
  RecordService<Lead> leads(const security::Principal& who);
  RecordService<Pipeline> pipelines(const security::Principal& who);
  RecordService<Stage> stages(const security::Principal& who);
  RecordService<Deal> deals(const security::Principal& who);
  RecordService<Activity> activities(const security::Principal& who);
  // The links between records (tags, contact-company links, deal contacts, activity
  // targets), checked as RelationService says.
  RelationService relations(const security::Principal& who);
  // Custom field definitions: read with their type, changed by its administrators.
  CustomFieldService custom_fields(const security::Principal& who);

  // Full-text search (store/search.hpp) as `who` may see it: hits only on records it may
  // read, and on a record whose sensitive fields it may not see, only when every word of
  // the query is found (as a prefix, ignoring ASCII case) in the fields it does see, so a
  // search cannot probe for a hidden email. `request.types` empty: every searchable type
  // `who` reads (PermissionDenied("types") when it reads none); a named type it may not
  // read is PermissionDenied("types"), one that is not searchable ValidationError("types").
  // Best first; fewer than `request.limit` hits when hidden records crowd the best ones
  // (four times the limit are looked at).
  std::vector<store::SearchHit> search(store::UnitOfWork& uow, const security::Principal& who,
                                       const store::SearchRequest& request);

  // The event feed: relayed events after `request.after` in the order their commits
  // became visible (each given a position by the relay as it passes it), deletions, links
  // and applications' own events included, each shown only when `who` may read its record
  // as it stood then (the owner and team its payload carries; else as it stands now), its
  // payload masked as the record would be (sensitive values null without read_sensitive,
  // sealed ones opened with it). Looks at 5,000 events at most per call: `next` says where
  // to go on, `more` whether events follow. An `after` older than what retention kept is
  // `expired` (no items). ValidationError for a limit outside 1..1000 or a type pattern
  // other than x.y, x.*, *; PermissionDenied when `who` may read no records at all.
  EventFeedPage events(store::UnitOfWork& uow, const security::Principal& who,
                       const EventFeedRequest& request);

  // Appends an application's own event about `subject` to the outbox in `uow`: relayed in
  // order with the library's events when `uow` commits, gone if it rolls back. `subject`
  // must be a record `who` may read (NotFound otherwise, noted as refused reads are) and
  // update (PermissionDenied): an event tells of a change to it. `type` and `payload` as
  // the outbox takes them: "<object>.<what>" of 3 to 190 characters of A-Z a-z 0-9 . _ -
  // (else ValidationError("type")) and a JSON object of at most 1 MiB (else
  // ValidationError("payload")). Returns the event as stored.
  store::DomainEvent publish(store::UnitOfWork& uow, const security::Principal& who,
                             const std::string& type, ObjectRef subject,
                             const std::string& payload);

  // What an idempotent write answered, and whether this call only replayed it.
  struct OnceResult {
    store::StoredResponse answer;
    bool replayed = false;
  };
  using OnceWork = std::function<store::StoredResponse(store::UnitOfWork&)>;
  // An idempotent write: `work` runs at most once per `key` of `who` (keys are the
  // principal's own: another's same key is another request), in a unit of work (by
  // `who`'s user id) that also keeps the answer it returns, so both commit or neither.
  // A later call with the key runs nothing and gets that answer back (replayed); one whose
  // `fingerprint` (what identifies the request: method, path, body) differs is refused
  // with ValidationError("idempotency_key"). Two calls at once with one key: one runs,
  // the other replays. Keys are 1 to 255 printable ASCII characters (else
  // ValidationError("key")) and are forgotten after a day. `work`'s errors roll back and
  // pass through, keeping nothing.
  OnceResult once(const security::Principal& who, const std::string& key,
                  const std::string& fingerprint, const OnceWork& work);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace banyan
