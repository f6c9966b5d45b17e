// The saga layer's part of the schema (store/schema.hpp): its table and its migrations.
#pragma once

#include "store/schema.hpp"

namespace banyan::saga::detail {

store::detail::SchemaPart schema_part();

}  // namespace banyan::saga::detail
