#include "store/sql_builder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "banyan/errors.hpp"
#include "store/contact_points.hpp"
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
    case FieldType::kJson:
      break;
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
  for (const auto& f : Entity<T>::fields()) {
    if (f.name != name) continue;
    if (f.type == FieldType::kJson)
      bad(name, "a list is not compared or sorted whole; filter on email, city or country");
    return f;
  }
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

// A filter on a sealed column other than the email (which point_compare looks up by blind
// index): only whether it holds a value, since every comparison would need the plain values.
template <typename T>
void sealed_compare(island::SqlFragment& out, const FieldDef<typename Entity<T>::Row>& f,
                    const Filter::Node& n) {
  const bool null_value =
      n.values.size() == 1 && std::holds_alternative<std::monostate>(n.values[0]);
  if (n.op != Op::kIsNull && !(null_value && (n.op == Op::kEq || n.op == Op::kNe)))
    encrypted(f.name, "filter it with is_null only");
  const std::string col = column(Entity<T>::kTable, f.name);
  out.text("(" + col + (n.op == Op::kNe ? " IS NOT NULL)" : " IS NULL)"));
}

// A filter on a record's contact points (`email`, `phone`: any of its emails or phones;
// `city`, `country`: of any of its addresses), through the keys in record_points. `ne` is
// "has one, and none equals", as a column's ne skips NULL; is_null on `email` and `phone`
// is the primary one's (a company's emails: "has none"), on the others "no address has
// one". Sealed emails are looked up by blind index, so eq, ne and in only (as for the
// email itself); sealed phones are not looked up here (is_null only, as their column).
template <typename T>
void point_compare(island::SqlFragment& out, const char* kind, const Filter::Node& n,
                   QueryContext& ctx) {
  const std::string table(Entity<T>::kTable);
  const std::string id = table + ".id";
  // "<id> [NOT] IN (SELECT the record's keys of this kind [AND <condition>])"
  auto keys = [&](bool in, const std::function<void()>& condition) {
    out.text(id + (in ? " IN (" : " NOT IN ("));
    out.text("SELECT p.object_id FROM record_points p WHERE p.object_type = ");
    out.param(text_param(std::string(to_string(T::kType))));
    out.text(" AND p.kind = ");
    out.param(text_param(kind));
    if (condition) {
      out.text(" AND ");
      condition();
    }
    out.text(")");
  };
  const bool null_value =
      n.values.size() == 1 && std::holds_alternative<std::monostate>(n.values[0]);
  if (n.op == Op::kIsNull || (null_value && (n.op == Op::kEq || n.op == Op::kNe))) {
    const bool is_null = n.op != Op::kNe;
    out.text("(");
    const bool primary = std::string_view(kind) == "phone" ||
                         (std::string_view(kind) == "email" && T::kType != ObjectType::kCompany);
    if (primary) {
      out.text(column(table, kind) + (is_null ? " IS NULL" : " IS NOT NULL"));
    } else {
      keys(!is_null, nullptr);
    }
    out.text(")");
    return;
  }
  auto text_value = [&](const Value& v) {
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) bad(n.field, "expects a text value");
    check_text(n.field, *s);
    return *s;
  };
  std::function<void()> condition;
  if (kHasSealedColumns<T> && std::string_view(kind) == "email" && ctx.cipher() != nullptr) {
    if (n.op != Op::kEq && n.op != Op::kNe && n.op != Op::kIn)
      encrypted(n.field, "filter it with eq, ne, in or is_null");
    if (n.values.empty()) bad(n.field, "comparison needs a value");
    if (n.values.size() > 1000) bad(n.field, "'in' takes at most 1000 values");
    condition = [&] {
      out.text("p.point_key IN (");
      bool first = true;
      auto key = [&](const std::string& k) {
        out.text(first ? "" : ", ");
        out.param(text_param(k));
        first = false;
      };
      for (const Value& v : n.values) {
        if (std::holds_alternative<std::monostate>(v))
          bad(n.field, "'in' cannot match null; use is_null");
        const std::string plain = text_value(v);
        for (const std::string& h : ctx.cipher()->blind_indexes(normalized_email(plain))) key(h);
        // Keys of emails stored before encryption was turned on are the emails themselves.
        if (ctx.unsealed_emails()) key(plain);
      }
      out.text(")");
    };
  } else {
    condition = [&] {
      Filter::Node positive = n;
      if (positive.op == Op::kNe) positive.op = Op::kEq;
      const bool country = std::string_view(kind) == "country";
      compare(out,
              Target{"p.point_key", n.field, true,
                     [&](const Value& v) {
                       const std::string given = text_value(v);
                       return text_param(country ? country_code(given) : given);
                     },
                     ctx.backend()},
              positive);
    };
  }
  out.text("(");
  if (n.op == Op::kNe) {
    keys(true, nullptr);
    out.text(" AND ");
    keys(false, condition);
  } else {
    keys(true, condition);
  }
  out.text(")");
}

}  // namespace

void replace_record_keys(island::Transaction& tx, std::string_view table,
                         std::string_view kind_column, std::string_view key_column,
                         ObjectRef record,
                         const std::vector<std::pair<std::string, std::string>>& keys, bool fresh) {
  // Values are parameters, so each statement's text repeats and its prepared form is reused.
  const std::string type(to_string(record.type));
  const std::string name(table);
  const auto id = static_cast<std::int64_t>(record.id);
  if (!fresh) {
    island::SqlFragment del;
    del.text("DELETE FROM " + name + " WHERE object_type = ");
    del.param(text_param(type));
    del.text(" AND object_id = ");
    del.param(int_param(id));
    island::execute(tx, del);
  }
  // On SQLite one row per statement: a statement of several rows gets a statement
  // journal, and opening one makes the full-text index flush the terms it holds for this
  // transaction (a segment per record written, where it would write one at commit). The
  // one text is prepared once per connection. On MariaDB, one statement: a round trip
  // costs more than the rows, and its full-text index has no such hook.
  const bool row_by_row = island::backend(tx) == island::Backend::kSqlite;
  const std::string head = "INSERT INTO " + name + " (object_type, object_id, " +
                           std::string(kind_column) + ", " + std::string(key_column) + ") VALUES ";
  island::SqlFragment insert;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    insert.text(i == 0 || row_by_row ? head + "(" : ", (");
    insert.param(text_param(type));
    insert.text(", ");
    insert.param(int_param(id));
    insert.text(", ");
    insert.param(text_param(keys[i].first));
    insert.text(", ");
    insert.param(text_param(keys[i].second));
    insert.text(")");
    if (row_by_row || i + 1 == keys.size()) {
      island::execute(tx, insert);
      insert = island::SqlFragment();
    }
  }
}

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
  if constexpr (kHasContactPoints<T>) {
    const char* kind = point_filter_kind(n.field);
    const bool sealed_phone = kHasSealedColumns<T> && ctx.cipher() != nullptr && n.field == "phone";
    if (kind != nullptr && !sealed_phone) {
      point_compare<T>(out, kind, n, ctx);
      return;
    }
  }
  const FieldDef<Row>& f = field(n.field);
  if (ctx.cipher() != nullptr && is_sealed_column<T>(f.name)) {
    sealed_compare<T>(out, f, n);
    return;
  }
  compare(out,
          Target{column(table, f.name), std::string(f.name), f.type == FieldType::kText,
                 [&f](const Value& v) { return to_param(f, v); }, ctx.backend()},
          n);
}

namespace {

constexpr std::size_t kMaxSortKeys = 4;

// One key of a page's order: the SQL it sorts by and the name a cursor records.
struct SortKey {
  std::string name;
  std::string expr;
  bool descending = false;
  bool is_id = false;
};

// A cursor's record of the last row: its id and, per sort key, its name, direction and
// value. Layout (then base64url): "2|<id>|<keys>" followed, per key, by
// "|<name>|<a or d>|<tag>|<byte length>|<value>", tag one of n, i, r, s, b.
struct CursorKey {
  std::string name;
  bool descending = false;
  Cell value;
};

std::string encode_cursor(std::int64_t last_id, const std::vector<CursorKey>& keys) {
  std::string raw = "2|" + std::to_string(last_id) + "|" + std::to_string(keys.size());
  for (const auto& k : keys) {
    std::string tag = "n";
    std::string value;
    if (const auto* i = std::get_if<std::int64_t>(&k.value)) {
      tag = "i";
      value = std::to_string(*i);
    } else if (const auto* d = std::get_if<double>(&k.value)) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      tag = "r";
      value = buf;
    } else if (const auto* s = std::get_if<std::string>(&k.value)) {
      tag = "s";
      value = *s;
    } else if (const auto* b = std::get_if<bool>(&k.value)) {
      tag = "b";
      value = *b ? "1" : "0";
    }
    raw += "|" + k.name + (k.descending ? "|d|" : "|a|") + tag + "|" +
           std::to_string(value.size()) + "|" + value;
  }
  return util::base64url_encode(raw);
}

// Reads a cursor's fields front to back; any malformation is bad_cursor().
class CursorReader {
 public:
  explicit CursorReader(std::string_view raw) : rest_(raw) {}
  // The text up to the next '|' (or the end, for the last field).
  std::string_view field() {
    const auto bar = rest_.find('|');
    const std::string_view out = rest_.substr(0, bar);
    rest_ = bar == std::string_view::npos ? std::string_view{} : rest_.substr(bar + 1);
    return out;
  }
  std::string_view bytes(std::size_t n) {
    if (n > rest_.size()) bad_cursor();
    const std::string_view out = rest_.substr(0, n);
    rest_ = rest_.substr(n);
    return out;
  }
  std::int64_t number() {
    const std::string_view f = field();
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), n);
    if (f.empty() || ec != std::errc{} || end != f.data() + f.size()) bad_cursor();
    return n;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

Cell cursor_value(std::string_view tag, std::string_view text) {
  try {
    if (tag == "n" && text.empty()) return {};
    if (tag == "i") return static_cast<std::int64_t>(std::stoll(std::string(text)));
    if (tag == "r") return std::stod(std::string(text));
    if (tag == "s") return std::string(text);
    if (tag == "b" && (text == "0" || text == "1")) return text == "1";
  } catch (...) {
  }
  bad_cursor();
}

// The last row's id and key values, checked against the page's keys.
std::pair<std::int64_t, std::vector<Cell>> decode_cursor(const std::string& cursor,
                                                         const std::vector<SortKey>& keys) {
  std::string raw;
  if (!util::base64url_decode(cursor, raw)) bad_cursor();
  CursorReader r(raw);
  if (r.field() != "2") bad_cursor();
  const std::int64_t last_id = r.number();
  if (r.number() != static_cast<std::int64_t>(keys.size())) bad_cursor();
  std::vector<Cell> values;
  for (const auto& key : keys) {
    if (r.field() != key.name || r.field() != (key.descending ? "d" : "a")) bad_cursor();
    const std::string_view tag = r.field();
    const std::int64_t length = r.number();
    if (length < 0) bad_cursor();
    values.push_back(cursor_value(tag, r.bytes(static_cast<std::size_t>(length))));
    if (&key != &keys.back() && r.bytes(1) != "|") bad_cursor();
  }
  if (!r.done()) bad_cursor();
  return {last_id, std::move(values)};
}

// Appends the condition "this row sorts after the last one" for keys k0..kn (the id, when
// not already a key, is the final one): for some i, keys before i equal the last row's
// and key i sorts after it. NULLs sort first ascending and last descending, on both
// backends.
void after_last(island::SqlFragment& out, const std::vector<SortKey>& keys,
                const std::vector<Cell>& last, std::int64_t last_id, const std::string& id) {
  const auto equal = [&](std::size_t k) {
    if (std::holds_alternative<std::monostate>(last[k])) {
      out.text(keys[k].expr + " IS NULL");
    } else {
      out.text(keys[k].expr + " = ");
      out.param(cell_param(last[k]));
    }
  };
  const auto prefix = [&](std::size_t i) {
    for (std::size_t k = 0; k < i; ++k) {
      equal(k);
      out.text(" AND ");
    }
  };
  out.text(" AND (");
  bool first = true;
  const auto open_term = [&] {
    out.text(first ? "(" : " OR (");
    first = false;
  };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const SortKey& key = keys[i];
    const bool null = std::holds_alternative<std::monostate>(last[i]);
    if (null && key.descending) continue;  // nothing sorts after a NULL, descending
    open_term();
    prefix(i);
    if (null) {
      out.text(key.expr + " IS NOT NULL)");
    } else if (key.descending) {
      out.text("(" + key.expr + " < ");
      out.param(cell_param(last[i]));
      out.text(" OR " + key.expr + " IS NULL))");
    } else {
      out.text(key.expr + " > ");
      out.param(cell_param(last[i]));
      out.text(")");
    }
  }
  if (!keys.back().is_id) {
    open_term();
    prefix(keys.size());
    out.text(id + (keys.back().descending ? " < " : " > "));
    out.param(int_param(last_id));
    out.text(")");
  }
  out.text(")");
}

}  // namespace

template <typename T>
std::vector<Sort> SqlBuilder<T>::sorts(const PageRequest& request) {
  std::vector<Sort> out{request.sort};
  out.insert(out.end(), request.then_by.begin(), request.then_by.end());
  if (out.size() > kMaxSortKeys) bad("sort", "at most " + std::to_string(kMaxSortKeys) + " fields");
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (out[j].field == out[i].field) bad("sort", out[i].field + " is named twice");
    if (out[i].field == "id" && i + 1 < out.size())
      bad("sort", "ids are unique, so no field may follow id");
  }
  return out;
}

template <typename T>
void SqlBuilder<T>::page(island::SqlFragment& out, const PageRequest& request, QueryContext& ctx) {
  const std::string_view table = Entity<T>::kTable;
  std::vector<SortKey> keys;
  for (const Sort& sort : sorts(request)) {
    SortKey key;
    key.name = sort.field;
    key.descending = sort.descending;
    if (is_custom(sort.field)) {
      const CustomFieldDefinition& def = custom_definition(ctx, sort.field);
      if (def.type == CustomFieldType::kMultiEnum)
        bad(sort.field, "cannot sort on a multi-enum field");
      if (def.sensitive && ctx.cipher() != nullptr) encrypted(sort.field, "it cannot be sorted on");
      key.expr = custom_value_sql(ctx.backend(), table, def);
    } else {
      const FieldDef<Row>& f = field(sort.field);
      if (ctx.cipher() != nullptr && is_sealed_column<T>(f.name))
        encrypted(f.name, "it cannot be sorted on");
      key.name = std::string(f.name);
      key.expr = column(table, f.name);
      key.is_id = f.name == "id";
    }
    keys.push_back(std::move(key));
  }
  const std::string id = column(table, "id");
  if (request.cursor) {
    auto [last_id, last] = decode_cursor(*request.cursor, keys);
    if (keys.back().is_id) last.back() = last_id;
    after_last(out, keys, last, last_id, id);
  }
  std::string order;
  for (const auto& key : keys) {
    order += order.empty() ? " ORDER BY " : ", ";
    order += key.expr + (key.descending ? " DESC" : " ASC");
  }
  if (!keys.back().is_id) order += ", " + id + (keys.back().descending ? " DESC" : " ASC");
  out.text(order + " LIMIT " + std::to_string(request.limit + 1));
}

template <typename T>
std::string SqlBuilder<T>::cursor_after(const Row& last, const PageRequest& request,
                                        QueryContext& ctx) {
  std::vector<CursorKey> keys;
  for (const Sort& sort : sorts(request)) {
    CursorKey key;
    key.name = sort.field;
    key.descending = sort.descending;
    if (is_custom(sort.field)) {
      const CustomCell cc = custom_cell(custom_definition(ctx, sort.field), last.custom_fields);
      switch (cc.kind) {
        case CustomCell::Kind::kInt:
          key.value = cc.i;
          break;
        case CustomCell::Kind::kReal:
          key.value = cc.d;
          break;
        case CustomCell::Kind::kText:
          key.value = cc.s;
          break;
        case CustomCell::Kind::kNull:
          break;
      }
    } else {
      const FieldDef<Row>& f = field(sort.field);
      key.name = std::string(f.name);
      key.value = f.get(last);
    }
    keys.push_back(std::move(key));
  }
  return encode_cursor(last.id, keys);
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
