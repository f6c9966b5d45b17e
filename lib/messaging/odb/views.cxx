// ViewStore for the messaging layer's views (rows.hxx beside this file). Part of the ODB
// island: compiled as C++14 in banyan_odb.
#include "messaging/odb/rows-odb-mysql.hxx"
#include "messaging/odb/rows-odb-sqlite.hxx"
#include "messaging/odb/rows-odb.hxx"
#include "store/odb/native_query.ixx"

namespace banyan {
namespace island {

template struct ViewStore<odbrows::QueueMessageView>;
template struct ViewStore<odbrows::DeadLetterView>;
template struct ViewStore<odbrows::QueueSpecView>;
template struct ViewStore<odbrows::LeaseView>;
template struct ViewStore<odbrows::QueueDepthView>;

}  // namespace island
}  // namespace banyan
