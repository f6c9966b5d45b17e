#include "banyan/record_service.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"
#include "model/writable_fields.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/session.hpp"
#include "store/stores.hpp"

namespace banyan {
namespace {

using security::Action;

// Where a record stands for scoping. A user is its own: "own" reaches oneself. A team
// stands in itself: "team" reaches the teams one belongs to.
template <typename T>
security::RecordScope scope_of(const T& r) {
  if constexpr (std::is_same_v<T, User>)
    return {r.id == 0 ? std::nullopt : std::optional<Id>(r.id), std::nullopt};
  else if constexpr (std::is_same_v<T, Team>)
    return {std::nullopt, r.id == 0 ? std::nullopt : std::optional<Id>(r.id)};
  else
    return security::RecordScope::of(r);
}

// The CRM's own records, which their creator owns unless told otherwise.
template <typename T>
constexpr bool kOwnedByCreator =
    std::is_same_v<T, Company> || std::is_same_v<T, Contact> || std::is_same_v<T, Lead> ||
    std::is_same_v<T, Deal> || std::is_same_v<T, Activity> || std::is_same_v<T, Tag>;

// T's sensitive standard fields (its descriptor's kSensitive): optional texts and lists.
template <typename T>
struct SensitiveField {
  std::string name;
  std::function<bool(const T&)> present;   // holds a value
  std::function<void(T&, const T*)> take;  // from `from`, or cleared when null
};
template <typename T>
const std::vector<SensitiveField<T>>& sensitive_members() {
  static const auto fields = [] {
    std::vector<SensitiveField<T>> out;
    for (const auto& f : standard_fields<T>()) {
      if (!f.has(kSensitive)) continue;
      std::visit(
          [&](auto member) {
            using V = std::remove_cvref_t<decltype(std::declval<T&>().*member)>;
            if constexpr (std::is_same_v<V, std::optional<std::string>> ||
                          std::is_same_v<V, ContactPoints>) {
              out.push_back({std::string(f.name),
                             [member](const T& r) { return !(r.*member == V{}); },
                             [member](T& r, const T* from) {
                               r.*member = from != nullptr ? from->*member : V{};
                             }});
            } else {
              throw std::logic_error(std::string(f.name) +
                                     ": a sensitive field must be an optional text or a list");
            }
          },
          f.member);
    }
    return out;
  }();
  return fields;
}

// The fields a filter or sort names, depth first.
void collect_fields(const store::Filter& f, std::vector<std::string>& out) {
  const auto& n = f.node();
  if (n.kind == store::Filter::Node::Kind::kCompare) out.push_back(n.field);
  for (const auto& child : n.children) collect_fields(child, out);
}

store::Value id_value(Id id) { return static_cast<std::int64_t>(id); }

template <typename T>
store::Filter within(const security::ListScope& scope) {
  if (scope.all) return {};
  const char* owner = std::is_same_v<T, User> ? "id" : "owner_id";
  const char* team = std::is_same_v<T, Team> ? "id" : "team_id";
  std::vector<store::Value> teams;
  for (Id t : scope.team_ids) teams.push_back(id_value(t));
  if constexpr (std::is_same_v<T, Team>) {
    if (teams.empty()) return store::Filter::is_null("id");  // matches nothing
    return store::Filter::in(team, teams);
  } else {
    std::optional<store::Filter> out;
    if (scope.owner_id) out = store::Filter::eq(owner, id_value(*scope.owner_id));
    if (!teams.empty() && !std::is_same_v<T, User>) {
      auto in_team = store::Filter::in(team, teams);
      out = out ? (*out || in_team) : in_team;
    }
    return out ? *out : store::Filter::is_null("id");
  }
}

}  // namespace

template <typename T>
RecordService<T>::RecordService(const store::Database& db, security::Principal who,
                                std::shared_ptr<const security::AccessPolicy> policy,
                                ServiceHooks hooks) noexcept
    : db_(&db), who_(std::move(who)), policy_(std::move(policy)), hooks_(std::move(hooks)) {}

template <typename T>
T RecordService<T>::readable(store::UnitOfWork& uow, Id id) const {
  auto record = store::stores(*db_).records<T>().find(uow, id);
  const bool hidden = record && !policy_->allows(who_, Action::kRead, T::kType, scope_of(*record));
  if (hidden && hooks_.denied) hooks_.denied(who_, ObjectRef{T::kType, id});
  if (!record || hidden)
    throw NotFound("no " + std::string(to_string(T::kType)) + " with id " + std::to_string(id));
  return std::move(*record);
}

template <typename T>
bool RecordService<T>::sees_sensitive(const T& record) const {
  return policy_->allows(who_, Action::kReadSensitive, T::kType, scope_of(record));
}

template <typename T>
std::vector<std::string> RecordService<T>::sensitive_custom(store::UnitOfWork& uow) const {
  // The definitions the repositories use: cached per database, not read per record.
  std::vector<std::string> out;
  for (const auto& d : store::Session(uow).custom_fields(T::kType)->all())
    if (d.sensitive) out.push_back(d.name);
  return out;
}

template <typename T>
std::vector<std::string> RecordService<T>::open_custom(store::UnitOfWork& uow) const {
  std::vector<std::string> out;
  for (const auto& d : store::Session(uow).custom_fields(T::kType)->all())
    if (!d.sensitive) out.push_back(d.name);
  return out;
}

template <typename T>
T RecordService<T>::masked(T record, const std::vector<std::string>& open) const {
  if (sees_sensitive(record)) return record;
  for (const auto& f : sensitive_members<T>()) f.take(record, nullptr);
  // An allow-list: values under names no longer defined (a record as of a time before a
  // rename) are hidden too.
  std::erase_if(record.custom, [&](const auto& value) {
    return std::find(open.begin(), open.end(), value.first) == open.end();
  });
  return record;
}

template <typename T>
T RecordService<T>::masked(store::UnitOfWork& uow, T record) const {
  if (sees_sensitive(record)) return record;  // no need to look the definitions up
  return masked(std::move(record), open_custom(uow));
}

template <typename T>
void RecordService<T>::check_fields(store::UnitOfWork& uow, const store::Filter& filter,
                                    const store::PageRequest* request) const {
  // Filtering on a field is reading it: fine only where the principal sees it on every
  // record it may read.
  if (policy_->scope(who_, Action::kReadSensitive, T::kType) >=
      policy_->scope(who_, Action::kRead, T::kType))
    return;
  std::vector<std::string> named;
  collect_fields(filter, named);
  if (request != nullptr) {
    named.push_back(request->sort.field);
    for (const auto& sort : request->then_by) named.push_back(sort.field);
  }
  if (named.empty()) return;
  const auto standard = security::sensitive_fields(T::kType);
  std::vector<std::string> sensitive(standard.begin(), standard.end());
  for (const auto& name : sensitive_custom(uow)) sensitive.push_back("custom." + name);
  for (const auto& field : named) {
    if (std::find(sensitive.begin(), sensitive.end(), field) != sensitive.end())
      throw PermissionDenied(
          field + ": " + who_.name + " may not filter or sort on a field it cannot see", field);
  }
}

template <typename T>
void RecordService<T>::check_external_id_writer() const {
  if (policy_->scope(who_, Action::kRead, T::kType) == security::Scope::kAll) return;
  throw PermissionDenied("external_id: external ids are unique across every " +
                             std::string(to_string(T::kType)) +
                             ", so only a principal that reads them all may write one, which " +
                             who_.name + " may not",
                         "external_id");
}

template <typename T>
void RecordService<T>::check_references(store::UnitOfWork& uow, const T& next, const T* stored,
                                        Action action,
                                        const std::vector<std::string>* named) const {
  auto sets = [&](const char* field) {
    return named == nullptr || std::find(named->begin(), named->end(), field) != named->end();
  };
  if constexpr (kOwnedByCreator<T>) {
    const bool moved = stored == nullptr || stored->team_id != next.team_id;
    if (next.team_id && moved && sets("team_id") &&
        policy_->scope(who_, action, T::kType) != security::Scope::kAll &&
        std::find(who_.team_ids.begin(), who_.team_ids.end(), *next.team_id) == who_.team_ids.end())
      throw PermissionDenied("team_id: " + who_.name + " may not place records in team " +
                                 std::to_string(*next.team_id),
                             "team_id");
  }
  if constexpr (std::is_same_v<T, Deal>) {
    const bool moved = stored == nullptr || stored->company_id != next.company_id;
    if (next.company_id && moved && sets("company_id")) {
      const auto company = store::Session(uow).records<Company>().find(uow, *next.company_id);
      if (!company || !policy_->allows(who_, Action::kRead, ObjectType::kCompany,
                                       security::RecordScope::of(*company)))
        throw ValidationError(
            "company_id: no record " + std::to_string(*next.company_id) + " in companies",
            "company_id");
    }
  }
}

template <typename T>
T RecordService<T>::get(store::UnitOfWork& uow, Id id) const {
  return masked(uow, readable(uow, id));
}

template <typename T>
std::optional<T> RecordService<T>::find(store::UnitOfWork& uow, Id id) const {
  auto record = store::stores(*db_).records<T>().find(uow, id);
  if (!record) return std::nullopt;
  if (!policy_->allows(who_, Action::kRead, T::kType, scope_of(*record))) {
    if (hooks_.denied) hooks_.denied(who_, ObjectRef{T::kType, id});
    return std::nullopt;
  }
  return masked(uow, std::move(*record));
}

template <typename T>
std::optional<T> RecordService<T>::find_by_external_id(store::UnitOfWork& uow,
                                                       const std::string& external_id) const {
  auto record = store::stores(*db_).records<T>().find_by_external_id(uow, external_id);
  if (!record) return std::nullopt;
  if (!policy_->allows(who_, Action::kRead, T::kType, scope_of(*record))) {
    if (hooks_.denied) hooks_.denied(who_, ObjectRef{T::kType, record->id});
    return std::nullopt;
  }
  return masked(uow, std::move(*record));
}

template <typename T>
store::Page<T> RecordService<T>::query(store::UnitOfWork& uow,
                                       const store::PageRequest& request) const {
  const auto scope = policy_->list_scope(who_, Action::kRead, T::kType);
  check_fields(uow, request.filter, &request);
  store::PageRequest scoped = request;
  if (!scope.all) scoped.filter = request.filter && within<T>(scope);
  auto page = store::stores(*db_).records<T>().query(uow, scoped);
  if (hooks_.listed) hooks_.listed(who_, T::kType, page.items.size());
  std::optional<std::vector<std::string>> custom;  // looked up once, when a record needs it
  for (auto& item : page.items) {
    if (sees_sensitive(item)) continue;
    if (!custom) custom = open_custom(uow);
    item = masked(std::move(item), *custom);
  }
  return page;
}

template <typename T>
std::uint64_t RecordService<T>::count(store::UnitOfWork& uow, const store::Filter& filter,
                                      bool include_archived) const {
  const auto scope = policy_->list_scope(who_, Action::kRead, T::kType);
  check_fields(uow, filter, nullptr);
  return store::stores(*db_).records<T>().count(
      uow, scope.all ? filter : (filter && within<T>(scope)), include_archived);
}

template <typename T>
void RecordService<T>::check_creation(const T& record, Creation creation) const {
  if (creation != Creation::kSupplied) return;
  const char* field = record.created_at != Timestamp{} ? "created_at"
                      : record.created_by              ? "created_by"
                                                       : nullptr;
  if (field == nullptr || policy_->allows(who_, Action::kImport, T::kType, scope_of(record)))
    return;
  throw PermissionDenied(std::string(field) + ": " + who_.name + " may not import " +
                             std::string(to_string(T::kType)) +
                             " records (set created_at or created_by)",
                         field);
}

template <typename T>
T RecordService<T>::create(store::UnitOfWork& uow, const T& record, Creation creation) const {
  T r = record;
  if constexpr (kOwnedByCreator<T>) {
    if (!r.owner_id && who_.user_id) r.owner_id = who_.user_id;
  }
  policy_->require(who_, Action::kCreate, T::kType, scope_of(r));
  check_creation(r, creation);
  if (r.external_id) check_external_id_writer();
  check_references(uow, r, nullptr, Action::kCreate);
  return masked(uow, store::stores(*db_).records<T>().create(uow, r, creation));
}

template <typename T>
T RecordService<T>::update(store::UnitOfWork& uow, const T& record) const {
  const T stored = readable(uow, record.id);
  policy_->require(who_, Action::kUpdate, T::kType, scope_of(stored));
  if (scope_of(record) != scope_of(stored))
    policy_->require(who_, Action::kUpdate, T::kType, scope_of(record));
  if (record.external_id != stored.external_id) check_external_id_writer();
  check_references(uow, record, &stored, Action::kUpdate);
  T r = record;
  if (!sees_sensitive(stored)) {
    // What the principal was shown empty stays as stored; writing it is refused, since a
    // write would overwrite what it cannot see (and an accepted equal value would tell it
    // what is there).
    auto refuse = [&](const std::string& field) {
      throw PermissionDenied(field + ": " + who_.name + " may not write a field it cannot see",
                             field);
    };
    for (const auto& f : sensitive_members<T>()) {
      if (f.present(r)) refuse(f.name);
      f.take(r, &stored);
    }
    for (const auto& name : sensitive_custom(uow)) {
      const auto given = r.custom.find(name);
      if (given != r.custom.end() && !std::holds_alternative<std::monostate>(given->second))
        refuse("custom." + name);
      const auto kept = stored.custom.find(name);
      if (kept != stored.custom.end())
        r.custom[name] = kept->second;
      else
        r.custom.erase(name);
    }
  }
  return masked(uow, store::stores(*db_).records<T>().update(uow, r));
}

template <typename T>
T RecordService<T>::archive(store::UnitOfWork& uow, Id id) const {
  policy_->require(who_, Action::kDelete, T::kType, scope_of(readable(uow, id)));
  return masked(uow, store::stores(*db_).records<T>().archive(uow, id));
}

template <typename T>
T RecordService<T>::restore(store::UnitOfWork& uow, Id id) const {
  policy_->require(who_, Action::kDelete, T::kType, scope_of(readable(uow, id)));
  return masked(uow, store::stores(*db_).records<T>().restore(uow, id));
}

template <typename T>
void RecordService<T>::remove(store::UnitOfWork& uow, Id id) const {
  policy_->require(who_, Action::kDelete, T::kType, scope_of(readable(uow, id)));
  store::stores(*db_).records<T>().remove(uow, id);
}

template <typename T>
T RecordService<T>::upsert(store::UnitOfWork& uow, const T& record) const {
  if (!record.external_id)
    throw ValidationError("external_id: upsert needs an external id", "external_id");
  check_external_id_writer();  // so every record with an external id is readable here
  const auto existing =
      store::stores(*db_).records<T>().find_by_external_id(uow, *record.external_id);
  if (existing) {
    T r = record;
    r.id = existing->id;
    r.version = existing->version;
    if (!r.owner_id) r.owner_id = existing->owner_id;
    if (!r.team_id) r.team_id = existing->team_id;
    return update(uow, r);
  }
  return create(uow, record);
}

template <typename T>
WriteResult<T> RecordService<T>::patch(store::UnitOfWork& uow, Id id, const Patch<T>& patch) const {
  const T stored = readable(uow, id);
  policy_->require(who_, Action::kUpdate, T::kType, scope_of(stored));
  if (std::find(patch.fields.begin(), patch.fields.end(), "external_id") != patch.fields.end() &&
      patch.values.external_id != stored.external_id)
    check_external_id_writer();
  // Moving the record to another owner or team needs update there too.
  T moved = stored;
  for (const auto& field : patch.fields) {
    if (field == "owner_id") moved.owner_id = patch.values.owner_id;
    if (field == "team_id") moved.team_id = patch.values.team_id;
  }
  if constexpr (std::is_same_v<T, Deal>) {
    T next = moved;
    next.company_id = patch.values.company_id;
    check_references(uow, next, &stored, Action::kUpdate, &patch.fields);
  } else {
    check_references(uow, moved, &stored, Action::kUpdate, &patch.fields);
  }
  if (scope_of(moved) != scope_of(stored))
    policy_->require(who_, Action::kUpdate, T::kType, scope_of(moved));
  if (!sees_sensitive(stored)) {
    // Writing what it cannot see would overwrite it (and an accepted equal value would
    // tell what is there): refused, clearing included.
    auto refuse = [&](const std::string& field) {
      throw PermissionDenied(field + ": " + who_.name + " may not write a field it cannot see",
                             field);
    };
    const auto& personal = security::sensitive_fields(T::kType);
    for (const auto& field : patch.fields) {
      if (std::find(personal.begin(), personal.end(), field) != personal.end()) refuse(field);
      if (field == "custom") refuse("custom");  // replacing every value replaces hidden ones
    }
    for (const auto& name : sensitive_custom(uow))
      if (patch.custom.count(name) > 0) refuse("custom." + name);
  }
  auto done = store::stores(*db_).records<T>().patch(uow, id, patch);
  done.record = masked(uow, std::move(done.record));
  return done;
}

template <typename T>
WriteResult<T> RecordService<T>::upsert(store::UnitOfWork& uow, const Patch<T>& patch) const {
  if (!patch.values.external_id)
    throw ValidationError("external_id: upsert needs an external id", "external_id");
  check_external_id_writer();  // so every record with an external id is readable here
  check_creation(patch.values, patch.creation);
  const auto existing =
      store::stores(*db_).records<T>().find_by_external_id(uow, *patch.values.external_id);
  if (existing) return this->patch(uow, existing->id, patch);
  return {create(uow, banyan::detail::created_from(patch), patch.creation), WriteOutcome::kCreated};
}

template <typename T>
T RecordService<T>::as_of(store::UnitOfWork& uow, Id id, Timestamp when) const {
  auto record = store::stores(*db_).audit().template as_of<T>(uow, id, when);
  if (!record || !policy_->allows(who_, Action::kRead, T::kType, scope_of(*record)))
    throw NotFound("no " + std::string(to_string(T::kType)) + " with id " + std::to_string(id) +
                   " at that time");
  return masked(uow, std::move(*record));
}

template <typename T>
std::vector<store::FieldChange> RecordService<T>::history(store::UnitOfWork& uow, Id id,
                                                          std::string_view field) const {
  const T now = readable(uow, id);
  auto changes = store::stores(*db_).audit().history(uow, {T::kType, id}, field);
  if constexpr (std::is_same_v<T, User>) {
    // A user's access (roles, teams, identities, API keys) is the user's own business
    // and the administrators': other readers of the directory see the record's fields only.
    if (who_.user_id != id && !policy_->allows(who_, Action::kAdmin, T::kType, scope_of(now)))
      std::erase_if(changes, [](const store::FieldChange& c) {
        return c.field.starts_with("role.") || c.field.starts_with("team.") ||
               c.field.starts_with("api_key.") || c.field == "identity";
      });
  }
  if (sees_sensitive(now)) return changes;
  const auto& personal = security::sensitive_fields(T::kType);
  const auto open = open_custom(uow);
  // Custom values by allow-list: a change recorded under a sensitive field's old name
  // (renamed or deleted since) stays hidden.
  auto hidden = [&](const std::string& changed) {
    if (changed.starts_with("custom."))
      return std::find(open.begin(), open.end(), changed.substr(7)) == open.end();
    return std::find(personal.begin(), personal.end(), changed) != personal.end();
  };
  for (auto& c : changes) {
    if (!hidden(c.field)) continue;
    c.before = "null";
    c.after = "null";
  }
  return changes;
}

template class RecordService<User>;
template class RecordService<Team>;
template class RecordService<Tag>;
template class RecordService<Company>;
template class RecordService<Contact>;
template class RecordService<Lead>;
template class RecordService<Pipeline>;
template class RecordService<Stage>;
template class RecordService<Deal>;
template class RecordService<Activity>;

}  // namespace banyan
