#include "banyan/store/query.hpp"

#include <utility>

namespace banyan::store {

Filter::Filter() : node_(std::make_shared<const Node>()) {}

Filter Filter::compare(std::string field, Op op, std::vector<Value> values) {
  auto node = std::make_shared<Node>();
  node->kind = Node::Kind::kCompare;
  node->field = std::move(field);
  node->op = op;
  node->values = std::move(values);
  return Filter(std::move(node));
}

Filter Filter::eq(std::string field, Value value) {
  return compare(std::move(field), Op::kEq, {std::move(value)});
}
Filter Filter::ne(std::string field, Value value) {
  return compare(std::move(field), Op::kNe, {std::move(value)});
}
Filter Filter::lt(std::string field, Value value) {
  return compare(std::move(field), Op::kLt, {std::move(value)});
}
Filter Filter::le(std::string field, Value value) {
  return compare(std::move(field), Op::kLe, {std::move(value)});
}
Filter Filter::gt(std::string field, Value value) {
  return compare(std::move(field), Op::kGt, {std::move(value)});
}
Filter Filter::ge(std::string field, Value value) {
  return compare(std::move(field), Op::kGe, {std::move(value)});
}
Filter Filter::in(std::string field, std::vector<Value> values) {
  return compare(std::move(field), Op::kIn, std::move(values));
}
Filter Filter::contains(std::string field, std::string needle) {
  return compare(std::move(field), Op::kContains, {Value(std::move(needle))});
}
Filter Filter::starts_with(std::string field, std::string prefix) {
  return compare(std::move(field), Op::kStartsWith, {Value(std::move(prefix))});
}
Filter Filter::is_null(std::string field) { return compare(std::move(field), Op::kIsNull, {}); }

namespace {
Filter::Node::Kind kind_of(const Filter& f) { return f.node().kind; }
}  // namespace

Filter operator&&(Filter a, Filter b) {
  // "everything and b" is b: keeps generated SQL free of no-op terms.
  if (kind_of(a) == Filter::Node::Kind::kAll) return b;
  if (kind_of(b) == Filter::Node::Kind::kAll) return a;
  auto node = std::make_shared<Filter::Node>();
  node->kind = Filter::Node::Kind::kAnd;
  node->children = {std::move(a), std::move(b)};
  Filter out;
  out.node_ = std::move(node);
  return out;
}

Filter operator||(Filter a, Filter b) {
  if (kind_of(a) == Filter::Node::Kind::kAll) return a;
  if (kind_of(b) == Filter::Node::Kind::kAll) return b;
  auto node = std::make_shared<Filter::Node>();
  node->kind = Filter::Node::Kind::kOr;
  node->children = {std::move(a), std::move(b)};
  Filter out;
  out.node_ = std::move(node);
  return out;
}

Filter operator!(Filter a) {
  auto node = std::make_shared<Filter::Node>();
  node->kind = Filter::Node::Kind::kNot;
  node->children = {std::move(a)};
  Filter out;
  out.node_ = std::move(node);
  return out;
}

}  // namespace banyan::store
