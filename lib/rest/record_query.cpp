#include "record_query.hpp"

#include <algorithm>
#include <type_traits>

#include "banyan/model/fields.hpp"

namespace banyan::rest {

namespace {

template <typename T>
store::Value filter_value(const JsonField<T>& f, const std::string& text) {
  switch (f.kind) {
    case FieldKind::kText:
      return text;
    case FieldKind::kInteger:
      if (auto v = parse_integer(text)) return *v;
      throw ValidationError(f.name + ": '" + text + "' is not an integer", f.name);
    case FieldKind::kTime:
      if (auto t = query_time(text)) return *t;
      throw ValidationError(
          f.name + ": '" + text + "' is not an RFC 3339 time (e.g. 2026-01-02T10:00:00Z)", f.name);
    case FieldKind::kDecimal:
      if (auto v = parse_decimal(text)) return *v;
      throw ValidationError(f.name + ": '" + text + "' is not a number", f.name);
    case FieldKind::kDate:
      if (auto d = parse_date(text)) return *d;
      throw ValidationError(f.name + ": '" + text + "' is not a date (YYYY-MM-DD)", f.name);
    case FieldKind::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      throw ValidationError(f.name + ": '" + text + "' is not true or false", f.name);
    case FieldKind::kOther:
      break;
  }
  throw ValidationError(f.name + ": cannot be filtered on", f.name);
}

// How a custom field's filter values read, by its definition's type.
FieldKind custom_kind(CustomFieldType type) {
  switch (type) {
    case CustomFieldType::kNumber:
    case CustomFieldType::kCurrency:
      return FieldKind::kInteger;
    case CustomFieldType::kDecimal:
      return FieldKind::kDecimal;
    case CustomFieldType::kDate:
      return FieldKind::kDate;
    case CustomFieldType::kDateTime:
      return FieldKind::kTime;
    case CustomFieldType::kBool:
      return FieldKind::kBool;
    default:
      return FieldKind::kText;
  }
}

// Money filters and sorts by its parts, which the store keeps in two columns: "amount"
// and "amount.minor_units" are the minor units, "amount.currency" the currency code.
// Minor units compare across currencies as numbers; pair them with a currency
// (`amount.currency=EUR&amount[gt]=100000`) for a meaningful bound.
struct MoneyPart {
  const char* name;
  const char* column;  // the store's field
  FieldKind kind;
};
constexpr MoneyPart kMoneyParts[] = {{"amount", "amount_minor", FieldKind::kInteger},
                                     {"amount.minor_units", "amount_minor", FieldKind::kInteger},
                                     {"amount.currency", "currency", FieldKind::kText}};

template <typename T>
const MoneyPart* money_part(const std::string& name) {
  if constexpr (std::is_same_v<T, Deal>) {
    for (const auto& part : kMoneyParts)
      if (name == part.name) return &part;
  }
  return nullptr;
}

// The filters on contact points (`email`, `phone`, `city`, `country`: any of the record's
// emails, phones or addresses), for the types that have them; most list `email` or `phone`
// as a field too.
template <typename T>
bool point_filter(const std::string& name) {
  return (name == "city" || name == "country" || name == "email" || name == "phone") &&
         standard_field<T>("addresses") != nullptr;
}

template <typename T>
store::Filter filter_of(const std::vector<std::pair<std::string, std::string>>& query,
                        const std::vector<JsonField<T>>& custom) {
  static constexpr std::string_view kReserved[]{"limit",  "cursor",           "sort",
                                                "fields", "include_archived", "count"};
  store::Filter filter;
  bool any = false;
  for (const auto& [key, value] : query) {
    if (std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved)) continue;
    std::string name = key, op = "eq";
    const auto bracket = key.find('[');
    if (bracket != std::string::npos) {
      if (key.back() != ']') throw ValidationError(key + ": write the operator as field[op]", key);
      name = key.substr(0, bracket);
      op = key.substr(bracket + 1, key.size() - bracket - 2);
    }
    JsonField<T> part;  // a money part, read as its kind
    const JsonField<T>* f = &part;
    std::string column = name;  // the store's name for it
    if (const MoneyPart* money = money_part<T>(name)) {
      part.name = name;
      part.kind = money->kind;
      column = money->column;
    } else if (point_filter<T>(name)) {
      part.name = name;
      part.kind = FieldKind::kText;
    } else {
      const auto& fields = name.rfind("custom.", 0) == 0 ? custom : json_fields<T>();
      auto found = std::find_if(fields.begin(), fields.end(),
                                [&](const JsonField<T>& x) { return x.name == name; });
      if (found == fields.end()) throw ValidationError(name + ": no such field to filter on", name);
      if (!found->filterable) throw ValidationError(name + ": cannot be filtered on", name);
      f = &*found;
    }
    store::Filter c;
    if (op == "eq")
      c = store::Filter::eq(column, filter_value(*f, value));
    else if (op == "ne")
      c = store::Filter::ne(column, filter_value(*f, value));
    else if (op == "lt")
      c = store::Filter::lt(column, filter_value(*f, value));
    else if (op == "le")
      c = store::Filter::le(column, filter_value(*f, value));
    else if (op == "gt")
      c = store::Filter::gt(column, filter_value(*f, value));
    else if (op == "ge")
      c = store::Filter::ge(column, filter_value(*f, value));
    else if (op == "contains")
      c = store::Filter::contains(column, value);
    else if (op == "starts_with")
      c = store::Filter::starts_with(column, value);
    else if (op == "in") {
      std::vector<store::Value> values;
      for (const auto& v : split(value, ',')) values.push_back(filter_value(*f, v));
      if (values.empty()) throw ValidationError(name + ": [in] needs at least one value", name);
      c = store::Filter::in(column, values);
    } else if (op == "is_null") {
      if (value != "true" && value != "false")
        throw ValidationError(name + ": [is_null] takes true or false", name);
      c = value == "true" ? store::Filter::is_null(column) : !store::Filter::is_null(column);
    } else {
      throw ValidationError(key + ": unknown operator '" += op + "'", key);
    }
    filter = any ? (filter && c) : c;
    any = true;
  }
  return filter;
}

}  // namespace

template <typename T>
store::PageRequest page_request(const CustomFieldService& fields, store::UnitOfWork& uow,
                                const Target& t) {
  store::PageRequest req;
  req.limit = 50;
  if (auto limit = query_value(t, "limit")) {
    const auto v = parse_integer(*limit);
    if (!v || *v < 1 || *v > 200) throw ValidationError("limit: a number from 1 to 200", "limit");
    req.limit = static_cast<std::size_t>(*v);
  }
  if (auto sort = query_value(t, "sort")) {
    // "last_name,-created_at": keys in order, '-' for descending; the store checks names.
    std::vector<store::Sort> keys;
    for (const auto& part : split(*sort, ',')) {
      store::Sort key;
      key.descending = !part.empty() && part[0] == '-';
      key.field = key.descending ? part.substr(1) : part;
      if (key.field.empty()) throw ValidationError("sort: '-' without a field name", "sort");
      if (const MoneyPart* money = money_part<T>(key.field)) key.field = money->column;
      if (const JsonField<T>* f = json_field<T>(key.field); f != nullptr && !f->sortable)
        throw ValidationError(f->name + ": cannot be sorted on", "sort");
      keys.push_back(std::move(key));
    }
    if (keys.empty()) throw ValidationError("sort: name a field", "sort");
    req.sort = keys.front();
    req.then_by.assign(keys.begin() + 1, keys.end());
  }
  if (auto cursor = query_value(t, "cursor")) req.cursor = *cursor;
  if (auto archived = query_value(t, "include_archived"))
    req.include_archived = *archived == "true";
  // Custom fields filter as "custom.<name>"; their values read by the definition's type.
  std::vector<JsonField<T>> custom;
  for (const auto& [key, value] : t.query) {
    if (key.rfind("custom.", 0) != 0 || !custom.empty()) continue;
    for (const auto& d : fields.list(uow, T::kType)) {
      JsonField<T> f;
      f.name = "custom." + d.name;
      f.writable = false;
      f.kind = custom_kind(d.type);
      custom.push_back(std::move(f));
    }
  }
  req.filter = filter_of<T>(t.query, custom);
  return req;
}

template <typename T>
std::vector<std::string> selected_fields(const CustomFieldService& fields, store::UnitOfWork& uow,
                                         const Target& t) {
  const auto given = query_value(t, "fields");
  if (!given) return {};
  std::vector<std::string> names = split(*given, ',');
  if (names.empty()) throw ValidationError("fields: name one field or more", "fields");
  std::optional<std::vector<CustomFieldDefinition>> custom;  // read when a name needs it
  for (const auto& name : names) {
    bool known = false;
    if (name.rfind("custom.", 0) == 0) {
      if (!custom) custom = fields.list(uow, T::kType);
      for (const auto& d : *custom) known = known || "custom." + d.name == name;
    } else {
      known = json_field<T>(name) != nullptr;
    }
    if (!known)
      throw ValidationError(
          "fields: " + std::string(to_string(T::kType)) + " has no field '" + name + "'", "fields");
  }
  return names;
}

#define BANYAN_PAGE_REQUEST(T)                                                               \
  template store::PageRequest page_request<T>(const CustomFieldService&, store::UnitOfWork&, \
                                              const Target&);                                \
  template std::vector<std::string> selected_fields<T>(const CustomFieldService&,            \
                                                       store::UnitOfWork&, const Target&);
BANYAN_PAGE_REQUEST(User)
BANYAN_PAGE_REQUEST(Team)
BANYAN_PAGE_REQUEST(Tag)
BANYAN_PAGE_REQUEST(Company)
BANYAN_PAGE_REQUEST(Contact)
BANYAN_PAGE_REQUEST(Lead)
BANYAN_PAGE_REQUEST(Pipeline)
BANYAN_PAGE_REQUEST(Stage)
BANYAN_PAGE_REQUEST(Deal)
BANYAN_PAGE_REQUEST(Activity)
#undef BANYAN_PAGE_REQUEST

}  // namespace banyan::rest
