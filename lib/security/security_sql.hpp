// What the security stores share: their unit of work's transaction and the parameters of
// their statements (the tables are in schema.cpp beside this file).
#pragma once

#include "banyan/store/unit_of_work.hpp"
#include "store/audit.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/odb/island.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::security::detail {

using island::SqlFragment;
using store::detail::int_param;
using store::detail::text_param;

inline island::Transaction& tx_of(store::UnitOfWork& uow) { return store::Session(uow).tx(); }
inline const char* insert_ignore(store::UnitOfWork& uow) {
  return store::Session(uow).insert_ignore();
}

// Whether a row of `table` has this id (users, teams).
inline bool exists(store::UnitOfWork& uow, const char* table, Id id) {
  return store::detail::exists(tx_of(uow), table, id);
}

// Notes a change to who `user` is or may act as for the audit trail: `field` went from
// `before` to `after` (null for none).
inline void audit_access(store::UnitOfWork& uow, const char* action, Id user,
                         const std::string& field, const nlohmann::json& before,
                         const nlohmann::json& after) {
  store::Session(uow).audit(action, {ObjectType::kUser, user}, nlohmann::json{{field, before}},
                            nlohmann::json{{field, after}});
}

}  // namespace banyan::security::detail
