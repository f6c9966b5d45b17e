#include "model/writable_fields.hpp"

#include <algorithm>
#include <type_traits>

#include "banyan/errors.hpp"
#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"

namespace banyan::detail {
namespace {

template <typename V>
bool is_blank(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    return v.empty();
  } else if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
  } else {
    return false;
  }
}

// A field stored in `member` (of T or of the Record base).
template <typename T, typename V, typename Owner>
WritableField<T> field(std::string_view name, V Owner::*member, bool mergeable = true) {
  return {name, [member](T& into, const T& from) { into.*member = from.*member; },
          [member](const T& r) { return is_blank(r.*member); }, mergeable};
}

// owner_id, team_id and external_id, which every record has (an external id is the
// record's own: never taken from a duplicate).
template <typename T>
std::vector<WritableField<T>> with_record_fields(std::vector<WritableField<T>> own) {
  own.push_back(field<T>("owner_id", &Record::owner_id));
  own.push_back(field<T>("team_id", &Record::team_id));
  own.push_back(field<T>("external_id", &Record::external_id, false));
  return own;
}

}  // namespace

template <>
std::span<const WritableField<User>> writable_fields<User>() {
  static const auto fields = with_record_fields<User>({field<User>("email", &User::email),
                                                       field<User>("name", &User::name),
                                                       field<User>("active", &User::active)});
  return fields;
}

template <>
std::span<const WritableField<Team>> writable_fields<Team>() {
  static const auto fields = with_record_fields<Team>({field<Team>("name", &Team::name)});
  return fields;
}

template <>
std::span<const WritableField<Tag>> writable_fields<Tag>() {
  static const auto fields =
      with_record_fields<Tag>({field<Tag>("name", &Tag::name), field<Tag>("color", &Tag::color)});
  return fields;
}

template <>
std::span<const WritableField<Company>> writable_fields<Company>() {
  static const auto fields = with_record_fields<Company>(
      {field<Company>("name", &Company::name), field<Company>("domain", &Company::domain),
       field<Company>("industry", &Company::industry), field<Company>("phone", &Company::phone),
       field<Company>("website", &Company::website),
       field<Company>("employee_count", &Company::employee_count)});
  return fields;
}

template <>
std::span<const WritableField<Contact>> writable_fields<Contact>() {
  static const auto fields = with_record_fields<Contact>(
      {field<Contact>("first_name", &Contact::first_name),
       field<Contact>("last_name", &Contact::last_name), field<Contact>("email", &Contact::email),
       field<Contact>("phone", &Contact::phone), field<Contact>("title", &Contact::title)});
  return fields;
}

template <>
std::span<const WritableField<Lead>> writable_fields<Lead>() {
  static const auto fields = with_record_fields<Lead>(
      {field<Lead>("first_name", &Lead::first_name), field<Lead>("last_name", &Lead::last_name),
       field<Lead>("email", &Lead::email), field<Lead>("phone", &Lead::phone),
       field<Lead>("company_name", &Lead::company_name), field<Lead>("source", &Lead::source),
       field<Lead>("status", &Lead::status, false)});
  return fields;
}

template <>
std::span<const WritableField<Pipeline>> writable_fields<Pipeline>() {
  static const auto fields =
      with_record_fields<Pipeline>({field<Pipeline>("name", &Pipeline::name)});
  return fields;
}

template <>
std::span<const WritableField<Stage>> writable_fields<Stage>() {
  static const auto fields = with_record_fields<Stage>(
      {field<Stage>("pipeline_id", &Stage::pipeline_id), field<Stage>("name", &Stage::name),
       field<Stage>("position", &Stage::position),
       field<Stage>("win_probability", &Stage::win_probability),
       field<Stage>("kind", &Stage::kind)});
  return fields;
}

template <>
std::span<const WritableField<Deal>> writable_fields<Deal>() {
  static const auto fields = with_record_fields<Deal>(
      {field<Deal>("title", &Deal::title),
       field<Deal>("pipeline_id", &Deal::pipeline_id),
       field<Deal>("stage_id", &Deal::stage_id),
       field<Deal>("amount", &Deal::amount),
       {"amount.minor_units",
        [](Deal& into, const Deal& from) { into.amount.minor_units = from.amount.minor_units; },
        [](const Deal&) { return false; }},
       {"amount.currency",
        [](Deal& into, const Deal& from) { into.amount.currency = from.amount.currency; },
        [](const Deal&) { return false; }},
       field<Deal>("expected_close", &Deal::expected_close),
       field<Deal>("company_id", &Deal::company_id),
       field<Deal>("status", &Deal::status),
       field<Deal>("closed_at", &Deal::closed_at)});
  return fields;
}

template <>
std::span<const WritableField<Activity>> writable_fields<Activity>() {
  static const auto fields = with_record_fields<Activity>(
      {field<Activity>("kind", &Activity::kind), field<Activity>("subject", &Activity::subject),
       field<Activity>("body", &Activity::body), field<Activity>("due_at", &Activity::due_at),
       field<Activity>("completed_at", &Activity::completed_at)});
  return fields;
}

bool is_store_set(ObjectType type, std::string_view name) {
  static constexpr std::string_view kEveryRecord[] = {
      "id", "version", "created_at", "created_by", "updated_at", "updated_by", "archived_at"};
  if (std::find(std::begin(kEveryRecord), std::end(kEveryRecord), name) != std::end(kEveryRecord))
    return true;
  const bool mergeable =
      type == ObjectType::kContact || type == ObjectType::kCompany || type == ObjectType::kLead;
  if (mergeable && name == "merged_into") return true;
  if (type == ObjectType::kLead)
    return name == "converted_at" || name == "converted_contact_id" ||
           name == "converted_company_id" || name == "converted_deal_id";
  return false;
}

void throw_not_writable(ObjectType type, const std::string& name) {
  if (is_store_set(type, name)) throw ValidationError(name + ": is set by the store", name);
  throw ValidationError(name + ": no such field", name);
}

}  // namespace banyan::detail
