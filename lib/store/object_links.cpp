#include "store/object_links.hpp"

#include "store/odb/rows.hxx"

namespace banyan::store::detail {
namespace {

std::string where(ObjectRef r) {
  return "object_type = '" + std::string(to_string(r.type)) +
         "' AND object_id = " + std::to_string(r.id);
}

}  // namespace

void move_object_links(island::Transaction& tx, ObjectRef from, ObjectRef to) {
  const std::string type(to_string(to.type));
  move_rows<odbrows::ActivityLinkRow>(
      tx, where(from), where(to),
      [](const odbrows::ActivityLinkRow& r) { return std::to_string(r.activity_id); },
      [&](odbrows::ActivityLinkRow& r) {
        r.object_type = type;
        r.object_id = to.id;
      });
  move_rows<odbrows::TagLinkRow>(
      tx, where(from), where(to),
      [](const odbrows::TagLinkRow& r) { return std::to_string(r.tag_id); },
      [&](odbrows::TagLinkRow& r) {
        r.object_type = type;
        r.object_id = to.id;
      });
}

}  // namespace banyan::store::detail
