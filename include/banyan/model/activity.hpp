#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "banyan/model/record.hpp"

namespace banyan {

enum class ActivityKind { kTask, kNote, kCall, kMeeting, kEmail };

BANYAN_EXPORT std::string_view to_string(ActivityKind kind) noexcept;
// Throws ValidationError (field "kind") for an unknown name.
BANYAN_EXPORT ActivityKind parse_activity_kind(std::string_view name);

// Something done or to do: linked to any number of records (Database::link_activity()).
struct BANYAN_EXPORT Activity : Record {
  static constexpr ObjectType kType = ObjectType::kActivity;
  ActivityKind kind = ActivityKind::kTask;
  std::string subject;              // required
  std::optional<std::string> body;  // up to 1 MiB
  std::optional<Timestamp> due_at;
  std::optional<Timestamp> completed_at;

  bool completed() const noexcept { return completed_at.has_value(); }
  friend bool operator==(const Activity&, const Activity&) = default;
};

}  // namespace banyan
