#include "store/sql_builder.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <string>

#include "banyan/errors.hpp"
#include "store/sealing.hpp"
#include "store/validation.hpp"
#include "util/encoding.hpp"

namespace banyan::store::detail {
namespace {

[[noreturn]] void bad(std::string_view field, const std::string& why) {
  throw ValidationError(std::string(field) + ": " + why, std::string(field));
}

[[noreturn]] void bad_cursor() {
  throw ValidationError(
      "cursor: not a cursor of this query (it is opaque: pass back "
      "next_cursor unchanged, with the same sort)",
      "cursor");
}

std::string column(std::string_view table, std::string_view field) {
  return std::string(table) + "." + std::string(field);
}

// '!' escapes LIKE wildcards: unlike '\', it means the same in SQLite and MySQL literals.
std::string like_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '!' || c == '%' || c == '_') out += '!';
    out += c;
  }
  return out;
}

const char* op_sql(Op op) {
  switch (op) {
    case Op::kEq:
      return " = ";
    case Op::kNe:
      return " <> ";
    case Op::kLt:
      return " < ";
    case Op::kLe:
      return " <= ";
    case Op::kGt:
      return " > ";
    case Op::kGe:
      return " >= ";
    default:
      return " = ";
  }
}

template <typename Row>
island::SqlParam to_param(const FieldDef<Row>& f, const Value& v) {
  island::SqlParam p;
  switch (f.type) {
    case FieldType::kText:
      if (const auto* s = std::get_if<std::string>(&v)) {
        check_text(f.name, *s, kLongTextMaxBytes);
        if (f.check) f.check(*s);
        return text_param(*s);
      }
      bad(f.name, "expects a text value");
    case FieldType::kId:
    case FieldType::kInt:
      if (const auto* i = std::get_if<std::int64_t>(&v)) return int_param(*i);
      bad(f.name, "expects an integer value");
    case FieldType::kBool:
      if (const auto* b = std::get_if<bool>(&v)) {
        p.kind = island::SqlParam::Kind::kBool;
        p.b = *b;
        return p;
      }
      bad(f.name, "expects true or false");
    case FieldType::kTime:
      if (const auto* t = std::get_if<Timestamp>(&v)) return int_param(micros(*t));
      if (const auto* i = std::get_if<std::int64_t>(&v)) return int_param(*i);
      bad(f.name, "expects a timestamp");
    case FieldType::kDate:
      if (const auto* d = std::get_if<Date>(&v)) return int_param(days(*d));
      if (const auto* i = std::get_if<std::int64_t>(&v)) return int_param(*i);
      bad(f.name, "expects a date");
  }
  bad(f.name, "unsupported value");
}

island::SqlParam cell_param(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return int_param(*i);
  if (const auto* s = std::get_if<std::string>(&c)) return text_param(*s);
  if (const auto* d = std::get_if<double>(&c)) {
    island::SqlParam p;
    p.kind = island::SqlParam::Kind::kReal;
    p.d = *d;
    return p;
  }
  island::SqlParam p;
  p.kind = island::SqlParam::Kind::kBool;
  p.b = std::get<bool>(c);
  return p;
}

}  // namespace

island::SqlParam int_param(std::int64_t v) {
  island::SqlParam p;
  p.kind = island::SqlParam::Kind::kInt;
  p.i = v;
  return p;
}

island::SqlParam text_param(std::string v) {
  island::SqlParam p;
  p.kind = island::SqlParam::Kind::kText;
  p.s = std::move(v);
  return p;
}

const char* insert_ignore(island::Backend backend) noexcept {
  return backend == island::Backend::kSqlite ? "INSERT OR IGNORE INTO " : "INSERT IGNORE INTO ";
}

island::SqlFragment batch_after(std::string_view table, std::string_view condition,
                                std::int64_t after, int limit) {
  std::string where(condition);
  where.append(" AND ").append(table).append(".id > ");
  std::string order(" ORDER BY ");
  order.append(table).append(".id LIMIT ").append(std::to_string(limit));
  island::SqlFragment clause;
  clause.text(where);
  clause.param(int_param(after));
  clause.text(order);
  return clause;
}

template <typename T>
const FieldDef<typename SqlBuilder<T>::Row>& SqlBuilder<T>::field(std::string_view name) {
  for (const auto& f : record_fields<Row>())
    if (f.name == name) return f;
  for (const auto& f : Entity<T>::fields())
    if (f.name == name) return f;
  bad(name.empty() ? std::string_view("field") : name,
      "no such field on " + std::string(Entity<T>::kTable));
}

namespace {

// A comparison target: a column or a custom field's expression, with how to bind values.
struct Target {
  std::string sql;
  std::string name;  // as the caller wrote it, for errors
  bool text = false;
  std::function<island::SqlParam(const Value&)> param;
  island::Backend backend = island::Backend::kSqlite;
};

// The SQL function that folds a text's case for contains and starts_with: MariaDB's
// LOWER() (Unicode's mappings under the binary collation), and on SQLite banyan_fold(),
// which every connection registers (store/odb/database.cxx), since SQLite's own lower()
// knows only ASCII.
const char* case_fold(island::Backend backend) {
  return backend == island::Backend::kSqlite ? "banyan_fold" : "LOWER";
}

void compare(island::SqlFragment& out, const Target& t, const Filter::Node& n) {
  const std::string& col = t.sql;
  switch (n.op) {
    case Op::kIsNull:
      out.text("(" + col + " IS NULL)");
      return;
    case Op::kIn: {
      if (n.values.empty()) {
        out.text("(1 = 0)");
        return;
      }
      if (n.values.size() > 1000) bad(t.name, "'in' takes at most 1000 values");
      out.text("(" + col + " IN (");
      for (std::size_t i = 0; i < n.values.size(); ++i) {
        if (std::holds_alternative<std::monostate>(n.values[i]))
          bad(t.name, "'in' cannot match null; use is_null");
        if (i > 0) out.text(", ");
        out.param(t.param(n.values[i]));
      }
      out.text("))");
      return;
    }
    case Op::kContains:
    case Op::kStartsWith: {
      if (!t.text) bad(t.name, "contains/starts_with need a text field");
      const auto* s = n.values.empty() ? nullptr : std::get_if<std::string>(&n.values[0]);
      if (s == nullptr) bad(t.name, "expects a text value");
      check_text(t.name, *s);
      // Case-insensitive, as people search; eq, in and the rest stay exact.
      const std::string fold = case_fold(t.backend);
      out.text("(" + fold + "(" + col + ") LIKE " + fold + "(");
      out.param(text_param((n.op == Op::kContains ? "%" : "") + like_escape(*s) + "%"));
      out.text(") ESCAPE '!')");
      return;
    }
    default:
      break;
  }
  if (n.values.size() != 1) bad(t.name, "comparison needs exactly one value");
  const Value& v = n.values[0];
  if (std::holds_alternative<std::monostate>(v)) {
    if (n.op == Op::kEq) {
      out.text("(" + col + " IS NULL)");
    } else if (n.op == Op::kNe) {
      out.text("(" + col + " IS NOT NULL)");
    } else {
      bad(t.name, "null can only be compared with eq or ne");
    }
    return;
  }
  out.text("(" + col + op_sql(n.op));
  out.param(t.param(v));
  out.text(")");
}

bool text_like(CustomFieldType type) {
  switch (type) {
    case CustomFieldType::kText:
    case CustomFieldType::kLongText:
    case CustomFieldType::kEnum:
    case CustomFieldType::kUrl:
    case CustomFieldType::kEmail:
    case CustomFieldType::kPhone:
      return true;
    default:
      return false;
  }
}

island::SqlParam real_param(double d) {
  island::SqlParam p;
  p.kind = island::SqlParam::Kind::kReal;
  p.d = d;
  return p;
}

island::SqlParam custom_param(const CustomFieldDefinition& def, const std::string& name,
                              const Value& v) {
  if (text_like(def.type)) {
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) bad(name, "expects a text value");
    check_text(name, *s, kLongTextMaxBytes);
    if (def.type == CustomFieldType::kEnum &&
        std::find(def.options.begin(), def.options.end(), *s) == def.options.end())
      bad(name, "'" + *s + "' is not one of its options");
    return text_param(*s);
  }
  const auto* i = std::get_if<std::int64_t>(&v);
  switch (def.type) {
    case CustomFieldType::kNumber:
    case CustomFieldType::kCurrency:
      if (i) return int_param(*i);
      bad(name, "expects an integer value (minor units for money)");
    case CustomFieldType::kDecimal:
      if (const auto* d = std::get_if<double>(&v)) return real_param(*d);
      if (i) return real_param(static_cast<double>(*i));
      bad(name, "expects a number");
    case CustomFieldType::kDate:
      if (const auto* d = std::get_if<Date>(&v)) return int_param(days(*d));
      if (i) return int_param(*i);
      bad(name, "expects a date");
    case CustomFieldType::kDateTime:
      if (const auto* t = std::get_if<Timestamp>(&v)) return int_param(micros(*t));
      if (i) return int_param(*i);
      bad(name, "expects a timestamp");
    case CustomFieldType::kBool:
      if (const auto* b = std::get_if<bool>(&v)) return int_param(*b ? 1 : 0);
      bad(name, "expects true or false");
    default:
      bad(name, "cannot be compared");
  }
}

const CustomFieldDefinition& custom_definition(QueryContext& ctx, const std::string& field) {
  const std::string name = field.substr(std::string_view("custom.").size());
  const CustomFieldDefinition* def = ctx.custom_fields().by_name(name);
  if (def == nullptr) bad(field, "no such custom field");
  return *def;
}

bool is_custom(std::string_view field) { return field.starts_with("custom."); }

template <typename T>
bool is_sealed_column(std::string_view field) {
  for (const auto& c : sealed_columns<T>())
    if (c.field == field) return true;
  return false;
}

[[noreturn]] void encrypted(std::string_view field, std::string_view what) {
  bad(field, "is encrypted at rest: " + std::string(what));
}

// A filter on a sealed column. Only the email has a blind index: eq, ne and in match it
// (and, while rows stored before encryption was turned on are not rewrapped yet, their
// stored value itself); every other comparison would need the plain values.
template <typename T>
void sealed_compare(island::SqlFragment& out, const FieldDef<typename Entity<T>::Row>& f,
                    const Filter::Node& n, const FieldCipher& cipher, bool unsealed_rows) {
  const std::string col = column(Entity<T>::kTable, f.name);
  const bool null_value =
      n.values.size() == 1 && std::holds_alternative<std::monostate>(n.values[0]);
  if (n.op == Op::kIsNull || (null_value && (n.op == Op::kEq || n.op == Op::kNe))) {
    out.text("(" + col + (n.op == Op::kNe ? " IS NOT NULL)" : " IS NULL)"));
    return;
  }
  if (f.name != "email" || (n.op != Op::kEq && n.op != Op::kNe && n.op != Op::kIn))
    encrypted(f.name, f.name == "email" ? "filter it with eq, ne, in or is_null"
                                        : "filter it with is_null only");
  if (n.op != Op::kIn && n.values.size() != 1) bad(f.name, "comparison needs exactly one value");
  if (n.values.empty()) {
    out.text("(1 = 0)");
    return;
  }
  if (n.values.size() > 1000) bad(f.name, "'in' takes at most 1000 values");
  const std::string index = column(Entity<T>::kTable, "email_index");
  out.text(n.op == Op::kNe ? "(NOT (" : "((");
  out.text(index + " IN (");
  bool first = true;
  for (const Value& v : n.values) {
    if (std::holds_alternative<std::monostate>(v))
      bad(f.name, "'in' cannot match null; use is_null");
    const island::SqlParam checked = to_param(f, v);  // validates the value
    for (const std::string& h : cipher.blind_indexes(normalized_email(checked.s))) {
      out.text(first ? "" : ", ");
      out.param(text_param(h));
      first = false;
    }
  }
  out.text(")");
  if (unsealed_rows) {
    // A sealed value never equals a plain one: no need to ask for a missing index.
    out.text(" OR " + col + " IN (");
    for (std::size_t i = 0; i < n.values.size(); ++i) {
      out.text(i == 0 ? "" : ", ");
      out.param(to_param(f, n.values[i]));
    }
    out.text(")");
  }
  out.text("))");
}

}  // namespace

const FieldSet& QueryContext::custom_fields() {
  if (!fields_) fields_ = custom_fields_of(uow_, type_);
  return *fields_;
}

template <typename T>
void SqlBuilder<T>::where(island::SqlFragment& out, const Filter& filter, QueryContext& ctx) {
  using Kind = Filter::Node::Kind;
  const Filter::Node& n = filter.node();
  switch (n.kind) {
    case Kind::kAll:
      out.text("(1 = 1)");
      return;
    case Kind::kAnd:
    case Kind::kOr: {
      out.text("(");
      for (std::size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out.text(n.kind == Kind::kAnd ? " AND " : " OR ");
        where(out, n.children[i], ctx);
      }
      out.text(")");
      return;
    }
    case Kind::kNot:
      out.text("(NOT ");
      where(out, n.children.at(0), ctx);
      out.text(")");
      return;
    case Kind::kCompare:
      break;
  }
  const std::string_view table = Entity<T>::kTable;
  if (is_custom(n.field)) {
    const CustomFieldDefinition& def = custom_definition(ctx, n.field);
    const std::string expr = custom_value_sql(ctx.backend(), table, def);
    const bool null_test =
        n.op == Op::kIsNull ||
        (n.values.size() == 1 && std::holds_alternative<std::monostate>(n.values[0]));
    if (def.sensitive && ctx.cipher() != nullptr && !null_test)
      encrypted(n.field, "filter it with is_null only");
    if (def.type == CustomFieldType::kMultiEnum) {
      if (n.op == Op::kIsNull) {
        out.text("(" + expr + " IS NULL)");
        return;
      }
      const auto* s = n.op == Op::kContains && n.values.size() == 1
                          ? std::get_if<std::string>(&n.values[0])
                          : nullptr;
      if (s == nullptr)
        bad(n.field, "a multi-enum field supports contains (an option) and is_null");
      if (std::find(def.options.begin(), def.options.end(), *s) == def.options.end())
        bad(n.field, "'" + *s + "' is not one of its options");
      custom_contains_sql(out, ctx.backend(), table, def, *s);
      return;
    }
    compare(
        out,
        Target{expr, n.field, text_like(def.type),
               [&def, &n](const Value& v) { return custom_param(def, n.field, v); }, ctx.backend()},
        n);
    return;
  }
  const FieldDef<Row>& f = field(n.field);
  if (ctx.cipher() != nullptr && is_sealed_column<T>(f.name)) {
    sealed_compare<T>(out, f, n, *ctx.cipher(), ctx.unsealed_emails());
    return;
  }
  compare(out,
          Target{column(table, f.name), std::string(f.name), f.type == FieldType::kText,
                 [&f](const Value& v) { return to_param(f, v); }, ctx.backend()},
          n);
}

template <typename T>
void SqlBuilder<T>::page(island::SqlFragment& out, const PageRequest& request, QueryContext& ctx) {
  const std::string_view table = Entity<T>::kTable;
  std::string col;
  std::string sort_name;
  bool by_id = false;
  if (is_custom(request.sort.field)) {
    const CustomFieldDefinition& def = custom_definition(ctx, request.sort.field);
    if (def.type == CustomFieldType::kMultiEnum)
      bad(request.sort.field, "cannot sort on a multi-enum field");
    if (def.sensitive && ctx.cipher() != nullptr)
      encrypted(request.sort.field, "it cannot be sorted on");
    col = custom_value_sql(ctx.backend(), table, def);
    sort_name = request.sort.field;
  } else {
    const FieldDef<Row>& f = field(request.sort.field);
    if (ctx.cipher() != nullptr && is_sealed_column<T>(f.name))
      encrypted(f.name, "it cannot be sorted on");
    col = column(table, f.name);
    sort_name = std::string(f.name);
    by_id = f.name == "id";
  }
  const std::string id = column(table, "id");
  const bool desc = request.sort.descending;
  const char* after = desc ? " < " : " > ";

  if (request.cursor) {
    std::string raw;
    if (!util::base64url_decode(*request.cursor, raw)) bad_cursor();
    // "1|field|a-or-d|last id|tag|value"
    std::array<std::string_view, 5> head;
    std::string_view rest = raw;
    for (auto& part : head) {
      const auto bar = rest.find('|');
      if (bar == std::string_view::npos) bad_cursor();
      part = rest.substr(0, bar);
      rest = rest.substr(bar + 1);
    }
    if (head[0] != "1" || head[1] != sort_name || head[2] != (desc ? "d" : "a")) bad_cursor();
    std::int64_t last_id = 0;
    Cell last;
    try {
      last_id = std::stoll(std::string(head[3]));
      if (head[4] == "i") {
        last = std::stoll(std::string(rest));
      } else if (head[4] == "r") {
        last = std::stod(std::string(rest));
      } else if (head[4] == "s") {
        last = std::string(rest);
      } else if (head[4] == "b") {
        last = rest == "1";
      } else if (head[4] != "n") {
        bad_cursor();
      }
    } catch (const ValidationError&) {
      throw;
    } catch (...) {
      bad_cursor();
    }

    out.text(" AND ");
    if (by_id) {
      out.text("(" + id + after);
      out.param(int_param(last_id));
      out.text(")");
    } else if (std::holds_alternative<std::monostate>(last)) {
      // NULLs sort first ascending and last descending, on both backends.
      out.text("((" + col + " IS NULL AND " + id + after);
      out.param(int_param(last_id));
      out.text(desc ? "))" : ") OR " + col + " IS NOT NULL)");
    } else {
      out.text("(" + col + after);
      out.param(cell_param(last));
      out.text(" OR (" + col + " = ");
      out.param(cell_param(last));
      out.text(" AND " + id + after);
      out.param(int_param(last_id));
      out.text(desc ? ") OR " + col + " IS NULL)" : "))");
    }
  }
  const char* dir = desc ? " DESC" : " ASC";
  out.text(" ORDER BY " + (by_id ? id + dir : col + dir + ", " + id + dir));
  out.text(" LIMIT " + std::to_string(request.limit + 1));
}

template <typename T>
std::string SqlBuilder<T>::cursor_after(const Row& last, const Sort& sort, QueryContext& ctx) {
  Cell c;
  std::string name;
  if (is_custom(sort.field)) {
    const CustomFieldDefinition& def = custom_definition(ctx, sort.field);
    const CustomCell cc = custom_cell(def, last.custom_fields);
    switch (cc.kind) {
      case CustomCell::Kind::kInt:
        c = cc.i;
        break;
      case CustomCell::Kind::kReal:
        c = cc.d;
        break;
      case CustomCell::Kind::kText:
        c = cc.s;
        break;
      case CustomCell::Kind::kNull:
        break;
    }
    name = sort.field;
  } else {
    const FieldDef<Row>& f = field(sort.field);
    c = f.get(last);
    name = std::string(f.name);
  }
  std::string raw = "1|" + name + (sort.descending ? "|d|" : "|a|") + std::to_string(last.id) + "|";
  if (const auto* i = std::get_if<std::int64_t>(&c)) {
    raw += "i|" + std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&c)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    raw += std::string("r|") + buf;
  } else if (const auto* s = std::get_if<std::string>(&c)) {
    raw += "s|" + *s;
  } else if (const auto* b = std::get_if<bool>(&c)) {
    raw += *b ? "b|1" : "b|0";
  } else {
    raw += "n|";
  }
  return util::base64url_encode(raw);
}

template class SqlBuilder<User>;
template class SqlBuilder<Team>;
template class SqlBuilder<Tag>;
template class SqlBuilder<Company>;
template class SqlBuilder<Contact>;
template class SqlBuilder<Lead>;
template class SqlBuilder<Pipeline>;
template class SqlBuilder<Stage>;
template class SqlBuilder<Deal>;
template class SqlBuilder<Activity>;

}  // namespace banyan::store::detail
