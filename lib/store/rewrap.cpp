// Database::rewrap_encrypted and seal_sensitive_values: passes over every record of a type,
// a batch per unit of work, resealing what the current key did not seal.
#include <cstdint>

#include "banyan/errors.hpp"
#include "banyan/store/database.hpp"
#include "model/record_types.hpp"
#include "store/database_state.hpp"
#include "store/sealing.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

namespace {

// Database::rewrap_encrypted's pass over one type: every record, a batch per unit of work.
template <typename T>
std::uint64_t rewrap_type(Database& db, std::size_t batch) {
  std::uint64_t total = 0;
  Id after = 0;
  bool done = false;  // set by the last batch
  while (!done)
    total += db.transact(
        [&](UnitOfWork& uow) { return detail::rewrap_rows<T>(uow, after, batch, done); });
  return total;
}

void check_rewrap(const detail::DatabaseState& state, std::size_t batch) {
  if (!state.cipher) throw Unavailable("no encryption keys are configured: nothing to seal with");
  if (batch < 1 || batch > 10000)
    throw ValidationError("batch: must be between 1 and 10000", "batch");
}

}  // namespace

std::uint64_t Database::seal_sensitive_values(ObjectType type, std::size_t batch) {
  if (!state_->cipher) return 0;
  check_rewrap(*state_, batch);
  std::uint64_t total = 0;
  banyan::detail::with_record_type(type,
                                   [&]<typename T>() { total = rewrap_type<T>(*this, batch); });
  return total;
}

std::uint64_t Database::rewrap_encrypted(std::size_t batch) {
  check_rewrap(*state_, batch);
  std::uint64_t total = 0;
  for (const ObjectType type :
       {ObjectType::kContact, ObjectType::kLead, ObjectType::kCompany, ObjectType::kDeal,
        ObjectType::kActivity, ObjectType::kUser, ObjectType::kTeam, ObjectType::kTag,
        ObjectType::kPipeline, ObjectType::kStage})
    banyan::detail::with_record_type(type,
                                     [&]<typename T>() { total += rewrap_type<T>(*this, batch); });
  detail::note_unsealed_emails(*state_);
  // Every record now opens with the current key alone: the others may leave the ring.
  transact([&](UnitOfWork& uow) {
    island::SqlFragment retire;
    retire.text("UPDATE encryption_keys SET retired_at = ")
        .param(detail::int_param(detail::micros(detail::now_micros(*state_))))
        .text(" WHERE retired_at IS NULL AND key_id <> ")
        .param(detail::text_param(state_->cipher->current_id()));
    island::execute(Session(uow).tx(), retire);
  });
  return total;
}

}  // namespace banyan::store
