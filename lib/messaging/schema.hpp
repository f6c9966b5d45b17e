// The messaging layer's part of the schema (store/schema.hpp): its tables and their
// migrations.
#pragma once

#include "store/schema.hpp"

namespace banyan::messaging::detail {

store::detail::SchemaPart schema_part();

}  // namespace banyan::messaging::detail
