// Appends domain events to the outbox inside the writing transaction, and reads its rows.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "store/custom_fields.hpp"
#include "store/entity.hpp"
#include "store/outbox.hpp"

namespace banyan::store::detail {

// A new unique event or message id: 32 hex digits (128 random bits).
std::string new_event_id();

// Inserts an outbox row; returns it with its id (the sequence).
odbrows::OutboxEventRow insert_event(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                                     std::uint64_t version, std::string payload);
void append_event(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                  std::uint64_t version, const nlohmann::json& payload);

// An outbox row as the event it records.
DomainEvent event_of(const odbrows::OutboxEventRow& row);

// A row as event payload: every standard field by column name, custom values by name.
template <typename T>
nlohmann::json row_payload(const typename Entity<T>::Row& row, const FieldSet& custom);

}  // namespace banyan::store::detail
