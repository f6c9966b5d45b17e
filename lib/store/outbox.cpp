#include "store/outbox.hpp"

#include <algorithm>
#include <random>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/outbox_writer.hpp"
#include "store/sealing.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {
namespace detail {
std::string new_event_id() {
  // 128 random bits; one generator per thread, seeded from the OS.
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) out += kHex[v & 15];
  }
  return out;
}

namespace {

nlohmann::json cell_json(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return *i;
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  if (const auto* b = std::get_if<bool>(&c)) return *b;
  if (const auto* d = std::get_if<double>(&c)) return *d;
  return nullptr;
}

}  // namespace

odbrows::OutboxEventRow insert_event(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                                     std::uint64_t version, std::string payload) {
  odbrows::OutboxEventRow row;
  row.event_id = new_event_id();
  row.event_type = type;
  row.aggregate_type = std::string(to_string(aggregate.type));
  row.aggregate_id = aggregate.id;
  row.aggregate_version = version;
  row.occurred_at = micros(now_micros(Session(uow).database()));
  row.actor_id = column(uow.actor());
  row.payload = std::move(payload);
  island::RowStore<odbrows::OutboxEventRow>::insert(Session(uow).tx(), row);
  return row;
}

void append_event(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                  std::uint64_t version, const nlohmann::json& payload) {
  insert_event(uow, type, aggregate, version, payload.dump());
}

DomainEvent event_of(const odbrows::OutboxEventRow& row) {
  DomainEvent e;
  e.sequence = row.id;
  e.id = row.event_id;
  e.type = row.event_type;
  e.aggregate_type = parse_object_type(row.aggregate_type);
  e.aggregate_id = row.aggregate_id;
  e.aggregate_version = row.aggregate_version;
  e.occurred_at = timestamp(row.occurred_at);
  e.actor = value(row.actor_id);
  e.payload = row.payload;
  return e;
}

template <typename T>
nlohmann::json row_payload(const typename Entity<T>::Row& row, const FieldSet& custom) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : record_fields<typename Entity<T>::Row>())
    out[std::string(f.name)] = cell_json(f.get(row));
  for (const auto& f : Entity<T>::fields()) {
    nlohmann::json value = cell_json(f.get(row));
    if (f.type == FieldType::kJson && value.is_string()) {
      // A list as JSON; a sealed one stays the sealed text.
      nlohmann::json list =
          nlohmann::json::parse(value.get_ref<const std::string&>(), nullptr, false);
      if (list.is_array()) value = std::move(list);
    }
    out[std::string(f.name)] = std::move(value);
  }
  out["custom"] = custom_json(custom, row.custom_fields);
  return out;
}

template nlohmann::json row_payload<User>(const odbrows::UserRow&, const FieldSet&);
template nlohmann::json row_payload<Team>(const odbrows::TeamRow&, const FieldSet&);
template nlohmann::json row_payload<Tag>(const odbrows::TagRow&, const FieldSet&);
template nlohmann::json row_payload<Company>(const odbrows::CompanyRow&, const FieldSet&);
template nlohmann::json row_payload<Contact>(const odbrows::ContactRow&, const FieldSet&);
template nlohmann::json row_payload<Lead>(const odbrows::LeadRow&, const FieldSet&);
template nlohmann::json row_payload<Pipeline>(const odbrows::PipelineRow&, const FieldSet&);
template nlohmann::json row_payload<Stage>(const odbrows::StageRow&, const FieldSet&);
template nlohmann::json row_payload<Deal>(const odbrows::DealRow&, const FieldSet&);
template nlohmann::json row_payload<Activity>(const odbrows::ActivityRow&, const FieldSet&);

}  // namespace detail

std::string Outbox::opened_payload(const DomainEvent& event) const {
  nlohmann::json payload = nlohmann::json::parse(event.payload, nullptr, false);
  const detail::FieldCipher* cipher = db_->cipher.get();
  if (!payload.is_object()) return event.payload;
  const ObjectType type = event.aggregate_type;
  for (auto& [name, value] : payload.items()) {
    if (name == "custom" && value.is_object()) {
      for (auto& [field, v] : value.items())
        v = detail::open_json(cipher, detail::sealed_place(type, "custom"), v);
    } else if (detail::may_be_sealed(type, name)) {
      value = detail::open_json(cipher, detail::sealed_place(type, name), value);
    }
  }
  return payload.dump();
}

DomainEvent Outbox::append(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                           const std::string& payload, std::uint64_t aggregate_version) const {
  const auto dot = type.find('.');
  const bool type_ok = type.size() >= 3 && type.size() <= 190 && dot != 0 &&
                       dot != std::string::npos && type.back() != '.' &&
                       std::all_of(type.begin(), type.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                       });
  if (!type_ok)
    throw ValidationError(
        "type: an event type is \"<object>.<what>\", 3 to 190 characters of "
        "A-Z a-z 0-9 . _ -",
        "type");
  if (payload.size() > (1u << 20)) throw ValidationError("payload: at most 1 MiB", "payload");
  // Checked without building it (the parser also refuses invalid UTF-8).
  const auto first = payload.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || payload[first] != '{' || !nlohmann::json::accept(payload))
    throw ValidationError("payload: must be a JSON object", "payload");
  return detail::event_of(detail::insert_event(uow, type, aggregate, aggregate_version, payload));
}

std::vector<DomainEvent> Outbox::read(UnitOfWork& uow, std::uint64_t after,
                                      std::size_t limit) const {
  if (limit < 1 || limit > 10000)
    throw ValidationError("limit: must be between 1 and 10000", "limit");
  island::SqlFragment clause;
  clause.text("id > ");
  clause.param(detail::int_param(static_cast<std::int64_t>(after)));
  clause.text(" ORDER BY id LIMIT " + std::to_string(limit));
  std::vector<DomainEvent> out;
  for (const auto& row :
       island::RowStore<odbrows::OutboxEventRow>::select(Session(uow).tx(), clause))
    out.push_back(detail::event_of(row));
  return out;
}

}  // namespace banyan::store
