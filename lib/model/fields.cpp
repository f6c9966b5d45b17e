// The standard fields of every record type: one line per field (banyan/model/fields.hpp).
#include "banyan/model/fields.hpp"

#include <array>
#include <vector>

namespace banyan {
namespace {

// The fields every record has, then `own`.
template <typename T>
std::vector<FieldDescriptor<T>> record_and(std::initializer_list<FieldDescriptor<T>> own) {
  std::vector<FieldDescriptor<T>> fields{
      {"id", &Record::id, kStoreField},
      {"version", &Record::version, kStoreField},
      {"owner_id", &Record::owner_id, kCallerField},
      {"team_id", &Record::team_id, kCallerField},
      // A record's own: never taken from a duplicate.
      {"external_id", &Record::external_id, kWritable | kFilterable | kSortable},
      {"created_at", &Record::created_at, kStoreField},
      {"created_by", &Record::created_by, kStoreField},
      {"updated_at", &Record::updated_at, kStoreField},
      {"updated_by", &Record::updated_by, kStoreField},
      {"archived_at", &Record::archived_at, kStoreField},
  };
  fields.insert(fields.end(), own);
  return fields;
}

template <typename E, std::size_t N>
std::array<std::string_view, N> names_of() {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = to_string(static_cast<E>(i));
  return names;
}

}  // namespace

template <>
std::span<const FieldDescriptor<User>> standard_fields<User>() {
  static const auto fields = record_and<User>({
      {"email", &User::email, kCallerField | kRequired},
      {"name", &User::name, kCallerField | kRequired},
      {"active", &User::active, kCallerField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Team>> standard_fields<Team>() {
  static const auto fields = record_and<Team>({
      {"name", &Team::name, kCallerField | kRequired},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Tag>> standard_fields<Tag>() {
  static const auto fields = record_and<Tag>({
      {"name", &Tag::name, kCallerField | kRequired},
      {"color", &Tag::color, kCallerField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Company>> standard_fields<Company>() {
  static const auto fields = record_and<Company>({
      {"name", &Company::name, kCallerField | kRequired},
      {"domain", &Company::domain, kCallerField},
      {"industry", &Company::industry, kCallerField},
      {"phone", &Company::phone, kCallerField},
      {"website", &Company::website, kCallerField},
      {"employee_count", &Company::employee_count, kCallerField},
      {"emails", &Company::emails, kListField},
      {"phones", &Company::phones, kListField},
      {"addresses", &Company::addresses, kListField},
      {"merged_into", &Company::merged_into, kStoreField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Contact>> standard_fields<Contact>() {
  static const auto fields = record_and<Contact>({
      {"first_name", &Contact::first_name, kCallerField},
      {"last_name", &Contact::last_name, kCallerField},
      {"email", &Contact::email, kCallerField | kSensitive},
      {"phone", &Contact::phone, kCallerField | kSensitive},
      {"title", &Contact::title, kCallerField},
      {"emails", &Contact::emails, kListField | kSensitive},
      {"phones", &Contact::phones, kListField | kSensitive},
      {"addresses", &Contact::addresses, kListField},
      {"merged_into", &Contact::merged_into, kStoreField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Lead>> standard_fields<Lead>() {
  static const auto fields = record_and<Lead>({
      {"first_name", &Lead::first_name, kCallerField},
      {"last_name", &Lead::last_name, kCallerField},
      {"email", &Lead::email, kCallerField | kSensitive},
      {"phone", &Lead::phone, kCallerField | kSensitive},
      {"company_name", &Lead::company_name, kCallerField},
      {"source", &Lead::source, kCallerField},
      {"title", &Lead::title, kCallerField},
      {"emails", &Lead::emails, kListField | kSensitive},
      {"phones", &Lead::phones, kListField | kSensitive},
      {"addresses", &Lead::addresses, kListField},
      // A lead's stage of qualification is its own: a merge never takes it.
      {"status", &Lead::status, kWritable | kFilterable | kSortable},
      {"converted_at", &Lead::converted_at, kStoreField},
      {"converted_contact_id", &Lead::converted_contact_id, kStoreField},
      {"converted_company_id", &Lead::converted_company_id, kStoreField},
      {"converted_deal_id", &Lead::converted_deal_id, kStoreField},
      {"merged_into", &Lead::merged_into, kStoreField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Pipeline>> standard_fields<Pipeline>() {
  static const auto fields = record_and<Pipeline>({
      {"name", &Pipeline::name, kCallerField | kRequired},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Stage>> standard_fields<Stage>() {
  static const auto fields = record_and<Stage>({
      {"pipeline_id", &Stage::pipeline_id, kCallerField},
      {"name", &Stage::name, kCallerField | kRequired},
      {"position", &Stage::position, kCallerField},
      {"win_probability", &Stage::win_probability, kCallerField},
      {"kind", &Stage::kind, kCallerField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Deal>> standard_fields<Deal>() {
  static const auto fields = record_and<Deal>({
      {"title", &Deal::title, kCallerField | kRequired},
      {"pipeline_id", &Deal::pipeline_id, kCallerField},
      {"stage_id", &Deal::stage_id, kCallerField},
      // Filters and sorts by its parts (amount, amount.currency): the REST query reader maps
      // them to the store's two columns (lib/rest/record_query.cpp).
      {"amount", &Deal::amount, kWritable | kMergeable},
      {"expected_close", &Deal::expected_close, kCallerField},
      {"company_id", &Deal::company_id, kCallerField},
      {"status", &Deal::status, kCallerField},
      {"closed_at", &Deal::closed_at, kCallerField},
  });
  return fields;
}

template <>
std::span<const FieldDescriptor<Activity>> standard_fields<Activity>() {
  static const auto fields = record_and<Activity>({
      {"kind", &Activity::kind, kCallerField},
      {"subject", &Activity::subject, kCallerField | kRequired},
      {"body", &Activity::body, kCallerField | kLongText},
      {"due_at", &Activity::due_at, kCallerField},
      {"completed_at", &Activity::completed_at, kCallerField},
  });
  return fields;
}

template <>
std::span<const std::string_view> enum_names<LeadStatus>() {
  static const auto names = names_of<LeadStatus, 5>();
  return names;
}
template <>
std::span<const std::string_view> enum_names<DealStatus>() {
  static const auto names = names_of<DealStatus, 3>();
  return names;
}
template <>
std::span<const std::string_view> enum_names<StageKind>() {
  static const auto names = names_of<StageKind, 3>();
  return names;
}
template <>
std::span<const std::string_view> enum_names<ActivityKind>() {
  static const auto names = names_of<ActivityKind, 5>();
  return names;
}

namespace {

// For each flag (by its bit), the names of the fields of T that carry it.
template <typename T>
const std::array<std::vector<std::string>, 7>& names_by_flag() {
  static const auto table = [] {
    std::array<std::vector<std::string>, 7> out;
    for (const auto& f : standard_fields<T>())
      for (std::size_t bit = 0; bit < out.size(); ++bit)
        if ((f.flags & (1U << bit)) != 0) out[bit].emplace_back(f.name);
    return out;
  }();
  return table;
}

}  // namespace

std::span<const std::string> standard_field_names(ObjectType type, FieldFlag flag) {
  std::size_t bit = 0;
  while (bit < 7 && (1U << bit) != flag) ++bit;
  if (bit == 7) return {};
  switch (type) {
    case ObjectType::kUser:
      return names_by_flag<User>()[bit];
    case ObjectType::kTeam:
      return names_by_flag<Team>()[bit];
    case ObjectType::kTag:
      return names_by_flag<Tag>()[bit];
    case ObjectType::kCompany:
      return names_by_flag<Company>()[bit];
    case ObjectType::kContact:
      return names_by_flag<Contact>()[bit];
    case ObjectType::kLead:
      return names_by_flag<Lead>()[bit];
    case ObjectType::kPipeline:
      return names_by_flag<Pipeline>()[bit];
    case ObjectType::kStage:
      return names_by_flag<Stage>()[bit];
    case ObjectType::kDeal:
      return names_by_flag<Deal>()[bit];
    case ObjectType::kActivity:
      return names_by_flag<Activity>()[bit];
  }
  return {};
}

}  // namespace banyan
