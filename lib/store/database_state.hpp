// What a Database and its repositories share, and the inside of a UnitOfWork.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "store/odb/island.hpp"

namespace banyan::store::detail {

struct DatabaseState {
  island::DatabasePtr db;
  island::Backend backend = island::Backend::kSqlite;
  std::function<void(std::string_view)> log;
  int schema_version = 0;
};

// Microseconds since the epoch, now.
Timestamp now_micros();

}  // namespace banyan::store::detail

namespace banyan::store {

struct UnitOfWork::Impl {
  detail::DatabaseState* db = nullptr;
  island::TransactionPtr tx;
  std::optional<Id> actor;

  // The transaction, or Conflict if the unit of work has already ended.
  island::Transaction& live();
};

}  // namespace banyan::store
