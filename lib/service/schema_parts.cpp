// The library's composition root for the schema: the store keeps the registry, and the
// layers above it, which the store cannot name, bring their parts from here.
#include "messaging/schema.hpp"
#include "saga/schema.hpp"
#include "security/schema.hpp"

namespace banyan::store::detail {

std::vector<SchemaPart> upper_schema_parts() {
  return {messaging::detail::schema_part(), saga::detail::schema_part(),
          security::detail::schema_part()};
}

}  // namespace banyan::store::detail
