// The relay lease. Internal to lib/messaging (see bus_core.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "messaging/bus_core.hpp"

namespace banyan::store {
class UnitOfWork;
}

namespace banyan::messaging::bus {

// One row says which bus relays, until when, and at which endpoints. Only the holder
// relays; it renews the lease inside each of its write transactions, so a relay that lost
// the lease (paused, cut off, another took over after expiry) commits nothing. Used by
// the relay's thread; Core::holding_lease tells everyone else.
class RelayLease {
 public:
  // `work_endpoint` and `publish_endpoint` are stored with the lease, for consumers and
  // subscribers in other processes.
  RelayLease(Core& core, std::string work_endpoint, std::string publish_endpoint);

  bool held() const { return core_.holding_lease.load(); }
  const std::string& work_endpoint() const { return work_endpoint_; }
  const std::string& publish_endpoint() const { return publish_endpoint_; }

  // Takes the lease, in a transaction of its own, when it is free, expired or ours; true
  // when this bus now holds it. Throws the store's errors.
  bool take(std::int64_t now_us);
  // Renews the lease inside `uow` (fencing it). False when another bus holds it: then
  // nothing in `uow` may commit.
  [[nodiscard]] bool renew(store::UnitOfWork& uow, std::int64_t now_us);
  // Gives the lease up inside `uow`, so that another bus need not wait for it to expire;
  // let_go() once `uow` committed.
  void release(store::UnitOfWork& uow);
  // Stops relaying after a release, quietly.
  void let_go() { core_.holding_lease.store(false); }
  // Stops relaying without a word to the database (the lease was lost), logging why.
  void lose(const std::string& why);

 private:
  [[nodiscard]] bool hold(store::UnitOfWork& uow, std::int64_t now_us);

  Core& core_;
  std::string work_endpoint_;
  std::string publish_endpoint_;
};

}  // namespace banyan::messaging::bus
