// The saga layer's table: one row per saga instance. Its rows are in odb/rows.hxx.
#include "saga/schema.hpp"

#include <string>

namespace banyan::saga::detail {
namespace {

// Version 7: saga instances; data and history are JSON.
void create_saga_tables(island::Transaction &tx, island::Backend backend) {
  const store::detail::ColumnTypes c(backend);
  const std::string &pk = c.pk, &id = c.id, &time = c.time, &key = c.key, &text = c.text;
  const std::string long_text = "TEXT";
  const std::string &payload = c.payload, &engine = c.engine;
  island::execute(tx, "CREATE TABLE saga_instances (" + pk + ", saga " + text +
                          " NOT NULL, saga_key " + key + " NOT NULL, subject_type " + text +
                          " NOT NULL, subject_id " + id + " NOT NULL, status " + text +
                          " NOT NULL, step INTEGER NOT NULL, data " + payload +
                          " NOT NULL, history " + payload + " NOT NULL, error " + long_text +
                          " NOT NULL, version INTEGER NOT NULL, created_at " + time +
                          " NOT NULL, updated_at " + time + " NOT NULL)" + engine);
  island::execute(tx,
                  "CREATE UNIQUE INDEX saga_instances_key_uq ON saga_instances (saga, saga_key)");
  island::execute(tx, "CREATE INDEX saga_instances_status_ix ON saga_instances (saga, status)");
}

}  // namespace

store::detail::SchemaPart schema_part() {
  store::detail::SchemaPart part;
  part.owner = "saga";
  part.create = create_saga_tables;
  part.migrations = {{7, create_saga_tables}};
  return part;
}

}  // namespace banyan::saga::detail
