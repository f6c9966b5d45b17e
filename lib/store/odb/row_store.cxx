// RowStore<Row>: ODB object operations and native queries, for every row type.
#include <utility>

#include <odb/mysql/database.hxx>
#include <odb/mysql/query.hxx>
#include <odb/sqlite/database.hxx>
#include <odb/sqlite/query.hxx>

#include "banyan/errors.hpp"
#include "store/odb/island_internal.hxx"
#include "store/odb/native_query.ixx"
#include "store/odb/rows-odb-mysql.hxx"
#include "store/odb/rows-odb-sqlite.hxx"
#include "store/odb/rows-odb.hxx"

namespace banyan {
namespace island {
namespace {

template <typename Row, typename Db>
std::vector<Row> select_on(Db& db, const SqlFragment& clause) {
  using Query = odb::query<Row, typename native_query::QueryBase<Db>::type>;
  std::vector<Row> out;
  odb::result<Row> r(db.template query<Row>(native_query::native<Query>(clause)));
  for (auto it = r.begin(); it != r.end(); ++it) {
    Row row;
    it.load(row);
    out.push_back(std::move(row));
  }
  return out;
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

template struct ViewStore<odbrows::StageTotalView>;
template struct ViewStore<odbrows::SearchHitView>;
template struct ViewStore<odbrows::MatchGroupView>;
template struct ViewStore<odbrows::StoredResponseView>;

}  // namespace island
}  // namespace banyan
