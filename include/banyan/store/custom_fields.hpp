// CustomFieldRegistry: define, change and retire custom fields at run time.
#pragma once

#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/custom_field.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

// Checks `value` for `definition` as every write does, normalising it in place (a date's
// or time's text read, a decimal rounded to its scale). ValidationError("custom.<name>").
BANYAN_EXPORT void check_custom_value(const CustomFieldDefinition& definition, CustomValue& value);

}  // namespace banyan::store
