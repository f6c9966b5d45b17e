// RowStore<Row>: ODB object operations and native queries, for every row type.
#include <utility>

#include <odb/mysql/database.hxx>
#include <odb/mysql/query.hxx>
#include <odb/sqlite/database.hxx>
#include <odb/sqlite/query.hxx>

#include "banyan/errors.hpp"
#include "store/odb/island_internal.hxx"
#include "store/odb/rows-odb-mysql.hxx"
#include "store/odb/rows-odb-sqlite.hxx"
#include "store/odb/rows-odb.hxx"

namespace banyan {
namespace island {
namespace {

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

template <typename Row, typename Db>
std::vector<Row> select_on(Db& db, const SqlFragment& clause) {
  using Query = odb::query<Row, typename QueryBase<Db>::type>;
  std::vector<Row> out;
  odb::result<Row> r(db.template query<Row>(native<Query>(clause)));
  for (auto it = r.begin(); it != r.end(); ++it) {
    Row row;
    it.load(row);
    out.push_back(std::move(row));
  }
  return out;
}

template <typename View, typename Db>
odb::result<View> view_on(Db& db, const SqlFragment& select) {
  using Query = odb::query<View, typename QueryBase<Db>::type>;
  return db.template query<View>(native<Query>(select));
}

}  // namespace

template <typename Row>
void RowStore<Row>::insert(Transaction& tx, Row& row) {
  try {
    tx.enter().persist(row);
  } catch (...) {
    rethrow_translated();
  }
}

template <typename Row>
std::unique_ptr<Row> RowStore<Row>::find(Transaction& tx, std::uint64_t id) {
  try {
    std::unique_ptr<Row> row(new Row);
    if (!tx.enter().find<Row>(id, *row)) return nullptr;
    return row;
  } catch (...) {
    rethrow_translated();
  }
}

template <typename Row>
void RowStore<Row>::update(Transaction& tx, Row& row) {
  try {
    tx.enter().update(row);
  } catch (...) {
    rethrow_translated();
  }
}

template <typename Row>
bool RowStore<Row>::erase(Transaction& tx, std::uint64_t id) {
  try {
    tx.enter().erase<Row>(id);
    return true;
  } catch (const odb::object_not_persistent&) {
    return false;
  } catch (...) {
    rethrow_translated();
  }
}

template <typename Row>
std::vector<Row> RowStore<Row>::select(Transaction& tx, const SqlFragment& clause) {
  try {
    odb::database& db = tx.enter();
    if (tx.owner->backend == Backend::kSqlite)
      return select_on<Row>(static_cast<odb::sqlite::database&>(db), clause);
    return select_on<Row>(static_cast<odb::mysql::database&>(db), clause);
  } catch (...) {
    rethrow_translated();
  }
}

template struct RowStore<odbrows::UserRow>;
template struct RowStore<odbrows::TeamRow>;
template struct RowStore<odbrows::TagRow>;
template struct RowStore<odbrows::CompanyRow>;
template struct RowStore<odbrows::ContactRow>;
template struct RowStore<odbrows::LeadRow>;
template struct RowStore<odbrows::PipelineRow>;
template struct RowStore<odbrows::StageRow>;
template struct RowStore<odbrows::DealRow>;
template struct RowStore<odbrows::ActivityRow>;
template struct RowStore<odbrows::ContactCompanyRow>;
template struct RowStore<odbrows::DealContactRow>;
template struct RowStore<odbrows::ActivityLinkRow>;
template struct RowStore<odbrows::TagLinkRow>;
template struct RowStore<odbrows::SchemaRow>;
template struct RowStore<odbrows::DealStageChangeRow>;
template struct RowStore<odbrows::CustomFieldDefinitionRow>;
template struct RowStore<odbrows::MatchKeyRow>;
template struct RowStore<odbrows::OutboxEventRow>;

template <typename View>
std::vector<View> ViewStore<View>::query(Transaction& tx, const SqlFragment& select) {
  try {
    odb::database& db = tx.enter();
    std::vector<View> out;
    auto collect = [&out](auto result) {
      for (auto it = result.begin(); it != result.end(); ++it) out.push_back(*it);
    };
    if (tx.owner->backend == Backend::kSqlite) {
      collect(view_on<View>(static_cast<odb::sqlite::database&>(db), select));
    } else {
      collect(view_on<View>(static_cast<odb::mysql::database&>(db), select));
    }
    return out;
  } catch (...) {
    rethrow_translated();
  }
}

template struct ViewStore<odbrows::StageTotalView>;
template struct ViewStore<odbrows::SearchHitView>;
template struct ViewStore<odbrows::MatchGroupView>;
template struct ViewStore<odbrows::QueueMessageView>;
template struct ViewStore<odbrows::DeadLetterView>;
template struct ViewStore<odbrows::QueueSpecView>;
template struct ViewStore<odbrows::LeaseView>;
template struct ViewStore<odbrows::QueueDepthView>;
template struct ViewStore<odbrows::SagaInstanceView>;
template struct ViewStore<odbrows::SagaCountView>;
template struct ViewStore<odbrows::StoredResponseView>;

}  // namespace island
}  // namespace banyan
