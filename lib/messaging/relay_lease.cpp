#include "messaging/relay_lease.hpp"

#include "banyan/store/database.hpp"
#include "messaging/queue_store.hpp"

namespace banyan::messaging::bus {

RelayLease::RelayLease(Core& core, std::string work_endpoint, std::string publish_endpoint)
    : core_(core),
      work_endpoint_(std::move(work_endpoint)),
      publish_endpoint_(std::move(publish_endpoint)) {}

bool RelayLease::hold(store::UnitOfWork& uow, std::int64_t now_us) {
  const std::int64_t until =
      now_us +
      std::chrono::duration_cast<std::chrono::microseconds>(core_.options.relay_lease).count();
  return detail::hold_lease(uow, kRelayLease, core_.lease_holder, now_us, until, work_endpoint_,
                            publish_endpoint_);
}

bool RelayLease::take(std::int64_t now_us) {
  auto uow = core_.db.begin();
  const bool ours = hold(uow, now_us);
  uow.commit();
  if (ours && !core_.holding_lease.exchange(true))
    core_.log(LogLevel::kInfo, "relay_lease_taken",
              "relay: " + core_.options.node + " holds the relay lease");
  return ours;
}

bool RelayLease::renew(store::UnitOfWork& uow, std::int64_t now_us) { return hold(uow, now_us); }

void RelayLease::release(store::UnitOfWork& uow) {
  detail::release_lease(uow, kRelayLease, core_.lease_holder);
}

void RelayLease::lose(const std::string& why) {
  if (core_.holding_lease.exchange(false))
    core_.log(LogLevel::kWarning, "relay_lease_lost",
              "relay: " + core_.options.node + " stopped relaying: " + why);
}

}  // namespace banyan::messaging::bus
