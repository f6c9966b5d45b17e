// Island-internal (C++14, includes ODB): a SqlFragment run as a native ODB query, and
// the definition of ViewStore<View>::query. Each owner of ODB views includes it in the
// translation unit that instantiates ViewStore for them (lib/store/odb/row_store.cxx,
// lib/messaging/odb/views.cxx, lib/saga/odb/views.cxx), after the views' generated
// headers.
#ifndef BANYAN_LIB_STORE_ODB_NATIVE_QUERY_IXX
#define BANYAN_LIB_STORE_ODB_NATIVE_QUERY_IXX

#include <vector>

#include <odb/mysql/database.hxx>
#include <odb/mysql/query.hxx>
#include <odb/sqlite/database.hxx>
#include <odb/sqlite/query.hxx>

#include "store/odb/island_internal.hxx"

namespace banyan {
namespace island {
namespace native_query {

// Builds a backend query from a fragment: text verbatim, values as bound parameters.
template <typename Query>
Query native(const SqlFragment& fragment) {
  Query q;
  for (const SqlFragment::Part& part : fragment.parts) {
    if (!part.is_param) {
      q += part.text;
      continue;
    }
    const SqlParam& p = part.param;
    switch (p.kind) {
      case SqlParam::Kind::kInt:
        q += Query::_val(p.i);
        break;
      case SqlParam::Kind::kUInt:
        q += Query::_val(p.u);
        break;
      case SqlParam::Kind::kReal:
        q += Query::_val(p.d);
        break;
      case SqlParam::Kind::kText:
        q += Query::_val(p.s);
        break;
      case SqlParam::Kind::kBool:
        q += Query::_val(p.b);
        break;
    }
  }
  return q;
}

// The query type of a backend's database class.
template <typename Db>
struct QueryBase;
template <>
struct QueryBase<odb::sqlite::database> {
  using type = odb::sqlite::query_base;
};
template <>
struct QueryBase<odb::mysql::database> {
  using type = odb::mysql::query_base;
};

template <typename View, typename Db>
odb::result<View> view_on(Db& db, const SqlFragment& select) {
  using Query = odb::query<View, typename QueryBase<Db>::type>;
  return db.template query<View>(native<Query>(select));
}

}  // namespace native_query

template <typename View>
std::vector<View> ViewStore<View>::query(Transaction& tx, const SqlFragment& select) {
  try {
    odb::database& db = tx.enter();
    std::vector<View> out;
    auto collect = [&out](auto result) {
      for (auto it = result.begin(); it != result.end(); ++it) out.push_back(*it);
    };
    if (tx.owner->backend == Backend::kSqlite) {
      collect(native_query::view_on<View>(static_cast<odb::sqlite::database&>(db), select));
    } else {
      collect(native_query::view_on<View>(static_cast<odb::mysql::database&>(db), select));
    }
    return out;
  } catch (...) {
    rethrow_translated();
  }
}

}  // namespace island
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_ODB_NATIVE_QUERY_IXX
