// The saga layer's rows: views of its instances (lib/saga/schema.cpp).
//
// Plain C++14 structs annotated with `#pragma db`, like lib/store/odb/rows.hxx: the ODB
// compiler generates their code into the island (banyan_odb, C++14), and the layer's
// C++20 code reads them through island::ViewStore (instantiated in views.cxx beside this
// file). The tables are plain SQL, declared and migrated by the layer's schema part.
//
// Not formatted: clang-format would write ODB's `mysql:type(...)` as `mysql : type(...)`.
// clang-format off
#ifndef BANYAN_LIB_SAGA_ODB_ROWS_HXX
#define BANYAN_LIB_SAGA_ODB_ROWS_HXX

#include <cstdint>
#include <string>

namespace banyan {
namespace odbrows {

#pragma db value(std::string) mysql:type("VARCHAR(255)")

#pragma db view
struct SagaInstanceView {
  std::uint64_t id = 0;
  std::string saga;
  std::string saga_key;
  std::string subject_type;
  std::uint64_t subject_id = 0;
  std::string status;
  std::int64_t step = 0;
#pragma db mysql:type("MEDIUMTEXT")
  std::string data;
#pragma db mysql:type("MEDIUMTEXT")
  std::string history;
#pragma db mysql:type("TEXT")
  std::string error;
  std::int64_t version = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// Saga instances per saga and status.
#pragma db view
struct SagaCountView {
  std::string saga;
  std::string status;
  std::int64_t count = 0;
};

}  // namespace odbrows
}  // namespace banyan

#endif  // BANYAN_LIB_SAGA_ODB_ROWS_HXX
