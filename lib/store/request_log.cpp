#include "store/request_log.hpp"

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/odb/island.hpp"
#include "store/odb/rows.hxx"
#include "store/sealing.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

namespace {

using island::SqlFragment;

// A stored response's body repeats what the request wrote (emails, phone numbers): with
// encryption at rest it is sealed like them.
constexpr std::string_view kBodyPlace = "request_log.body";

const std::string& checked_key(const std::string& key) {
  bool ok = !key.empty() && key.size() <= 255;
  for (unsigned char c : key) ok = ok && c >= 0x21 && c <= 0x7e;
  if (!ok)
    throw ValidationError("key: an idempotency key is 1 to 255 printable ASCII characters", "key");
  return key;
}

}  // namespace

std::optional<StoredResponse> RequestLog::find(UnitOfWork& uow, const std::string& key) const {
  SqlFragment q;
  q.text(
       "SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys WHERE idem_key "
       "= ")
      .param(detail::text_param(checked_key(key)));
  auto rows = island::ViewStore<odbrows::StoredResponseView>::query(Session(uow).tx(), q);
  if (rows.empty()) return std::nullopt;
  auto& r = rows.front();
  return StoredResponse{r.fingerprint, static_cast<int>(r.status), r.headers,
                        detail::opened(db_->cipher.get(), kBodyPlace, std::move(r.body)),
                        detail::timestamp(r.created_at)};
}

void RequestLog::save(UnitOfWork& uow, const std::string& key,
                      const StoredResponse& response) const {
  SqlFragment ins;
  ins.text(
         "INSERT INTO idempotency_keys (idem_key, fingerprint, status, headers, body, created_at) "
         "VALUES (")
      .param(detail::text_param(checked_key(key)))
      .text(", ")
      .param(detail::text_param(response.fingerprint))
      .text(", ")
      .param(detail::int_param(response.status))
      .text(", ")
      .param(detail::text_param(response.headers))
      .text(", ")
      .param(detail::text_param(db_->cipher ? db_->cipher->seal(response.body, kBodyPlace)
                                            : response.body))
      .text(", ")
      .param(detail::int_param(detail::micros(detail::now_micros(*db_))))
      .text(")");
  try {
    island::execute(Session(uow).tx(), ins);
  } catch (const Conflict&) {
    throw Conflict("the idempotency key was used by a request that finished first", "key");
  }
}

std::uint64_t RequestLog::purge_older_than(UnitOfWork& uow, Timestamp cutoff) const {
  SqlFragment del;
  del.text("DELETE FROM idempotency_keys WHERE created_at < ")
      .param(detail::int_param(detail::micros(cutoff)));
  return island::execute(Session(uow).tx(), del);
}

}  // namespace banyan::store
