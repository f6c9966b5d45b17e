// Idempotent consumers: at-least-once delivery, exactly-once effects.
#pragma once

#include <string_view>

#include "banyan/export.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::messaging {

// Records that `consumer` processed `message_id` (Message::event.id), inside `uow`, the
// transaction that also writes the consumer's effects. Returns true the first time; false
// when it was already recorded, in which case the caller must skip its effects (and let
// the unit of work end; rolling back is fine). A concurrent duplicate waits for the first
// one's transaction and then gets false. Throws ValidationError for an empty or too long
// (over 190 bytes) consumer or id.
//
//   db.transact([&](store::UnitOfWork& uow) {
//     if (!messaging::record_processed(uow, "welcome-mail", m.event.id)) return;
//     ... effects ...
//   });
[[nodiscard]] BANYAN_EXPORT bool record_processed(store::UnitOfWork& uow, std::string_view consumer,
                                                  std::string_view message_id);

}  // namespace banyan::messaging
