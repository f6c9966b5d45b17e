// ViewStore for the saga layer's views (rows.hxx beside this file). Part of the ODB
// island: compiled as C++14 in banyan_odb.
#include "saga/odb/rows-odb-mysql.hxx"
#include "saga/odb/rows-odb-sqlite.hxx"
#include "saga/odb/rows-odb.hxx"
#include "store/odb/native_query.ixx"

namespace banyan {
namespace island {

template struct ViewStore<odbrows::SagaInstanceView>;
template struct ViewStore<odbrows::SagaCountView>;

}  // namespace island
}  // namespace banyan
