// Records between Python and the library, read off each type's field descriptors
// (banyan/model/fields.hpp), so the module knows every standard field the way the REST
// layer does: adding a field to a descriptor table adds it here.
#include <array>
#include <string_view>

#include "binding.hpp"

namespace banyan::python {

namespace {

template <typename M>
struct IsOptional : std::false_type {};
template <typename M>
struct IsOptional<std::optional<M>> : std::true_type {};

template <typename M>
constexpr bool kIsEnumField = std::is_enum_v<M>;

// A member's value from Python, by the member's C++ type.
template <typename M>
M member_of(py::handle value, const std::string& field) {
  if constexpr (IsOptional<M>::value) {
    if (value.is_none()) return std::nullopt;
    return member_of<typename M::value_type>(value, field);
  } else if constexpr (std::is_same_v<M, std::string>) {
    return value.is_none() ? std::string() : text_of(value, field);
  } else if constexpr (std::is_same_v<M, Id>) {
    // A required id left at 0 is unset (the store names it); an optional one is None.
    if (py::isinstance<py::int_>(value) && integer_of(value, field) == 0) return 0;
    return id_of(value, field);
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    return integer_of(value, field);
  } else if constexpr (std::is_same_v<M, bool>) {
    return flag_of(value, field);
  } else if constexpr (std::is_same_v<M, Timestamp>) {
    return timestamp_of(value, field);
  } else if constexpr (std::is_same_v<M, Date>) {
    return date_of(value, field);
  } else if constexpr (std::is_same_v<M, Money>) {
    return money_of(value, field);
  } else if constexpr (std::is_same_v<M, ContactPoints>) {
    return value.is_none() ? ContactPoints{} : points_of(value, field);
  } else if constexpr (std::is_same_v<M, Addresses>) {
    return value.is_none() ? Addresses{} : addresses_of(value, field);
  } else {
    static_assert(kIsEnumField<M>);
    const std::string name = text_of(value, field);
    const auto names = enum_names<M>();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<M>(i);
    std::string expected;
    for (const auto n : names) expected += (expected.empty() ? "" : ", ") + std::string(n);
    throw ValidationError(field + ": expected one of " + expected, field);
  }
}

template <typename M>
py::object member_to_python(const M& value) {
  if constexpr (IsOptional<M>::value) {
    return value ? member_to_python(*value) : py::object(py::none());
  } else if constexpr (std::is_same_v<M, std::string>) {
    return py::str(value);
  } else if constexpr (std::is_same_v<M, Id> || std::is_same_v<M, std::int64_t>) {
    return py::int_(value);
  } else if constexpr (std::is_same_v<M, bool>) {
    return py::bool_(value);
  } else if constexpr (kIsEnumField<M>) {
    const auto name = enum_names<M>()[static_cast<std::size_t>(value)];
    return py::str(name.data(), name.size());
  } else {
    return to_python(value);
  }
}

// The Python type of a member, for the type stubs.
template <typename M>
std::string python_type() {
  if constexpr (IsOptional<M>::value) {
    return "Optional[" + python_type<typename M::value_type>() + "]";
  } else if constexpr (std::is_same_v<M, std::string> || kIsEnumField<M>) {
    return "str";
  } else if constexpr (std::is_same_v<M, Id> || std::is_same_v<M, std::int64_t>) {
    return "int";
  } else if constexpr (std::is_same_v<M, bool>) {
    return "bool";
  } else if constexpr (std::is_same_v<M, Timestamp>) {
    return "datetime";
  } else if constexpr (std::is_same_v<M, Date>) {
    return "date";
  } else if constexpr (std::is_same_v<M, Money>) {
    return "Money";
  } else if constexpr (std::is_same_v<M, ContactPoints>) {
    return "list[ContactPoint]";
  } else {
    static_assert(std::is_same_v<M, Addresses>);
    return "list[Address]";
  }
}

template <typename T>
const FieldDescriptor<T>& descriptor(const std::string& name) {
  if (const auto* f = standard_field<T>(name)) return *f;
  throw ValidationError(name + ": no such field of a " + std::string(to_string(T::kType)), name);
}

template <typename T>
void assign(T& record, const FieldDescriptor<T>& f, py::handle value) {
  const std::string field(f.name);
  std::visit(
      [&](auto member) {
        using M = std::remove_cvref_t<decltype(record.*member)>;
        record.*member = member_of<M>(value, field);
      },
      f.member);
}

CustomFields custom_of(py::handle value) {
  if (!py::isinstance<py::dict>(value))
    throw ValidationError("custom: expected a dict of custom values", "custom");
  CustomFields custom;
  for (auto [name, v] : py::reinterpret_borrow<py::dict>(value)) {
    const std::string key = text_of(name, "custom");
    custom[key] = custom_value_of(v, "custom." + key);
  }
  return custom;
}

store::Op op_named(const std::string& name) {
  static constexpr std::array<std::pair<std::string_view, store::Op>, 10> kOps{{
      {"eq", store::Op::kEq},
      {"ne", store::Op::kNe},
      {"lt", store::Op::kLt},
      {"le", store::Op::kLe},
      {"gt", store::Op::kGt},
      {"ge", store::Op::kGe},
      {"in", store::Op::kIn},
      {"contains", store::Op::kContains},
      {"starts_with", store::Op::kStartsWith},
      {"is_null", store::Op::kIsNull},
  }};
  for (const auto& [n, op] : kOps)
    if (n == name) return op;
  throw ValidationError("filter: unknown operator " + name, "filter");
}

}  // namespace

template <typename T>
py::dict record_to_python(const T& record) {
  py::dict out;
  for (const auto& f : standard_fields<T>()) {
    std::visit(
        [&](auto member) {
          out[py::str(f.name.data(), f.name.size())] = member_to_python(record.*member);
        },
        f.member);
  }
  out["custom"] = to_python(record.custom);
  return out;
}

template <typename T>
std::pair<T, Creation> record_of(const py::dict& values) {
  T record;
  Creation creation = Creation::kNow;
  for (auto [key, value] : values) {
    const std::string name = text_of(key, "field");
    if (name == "custom") {
      record.custom = custom_of(value);
      continue;
    }
    const auto& f = descriptor<T>(name);
    const bool supplied = name == "created_at" || name == "created_by";
    if (!f.has(kWritable) && !supplied)
      throw ValidationError(name + ": set by the store, not by a create", name);
    if (supplied && !value.is_none()) creation = Creation::kSupplied;
    assign(record, f, value);
  }
  return {std::move(record), creation};
}

template <typename T>
Patch<T> patch_of(const py::dict& values) {
  Patch<T> patch;
  for (auto [key, value] : values) {
    const std::string name = text_of(key, "field");
    if (name == "custom") {
      if (!py::isinstance<py::dict>(value))
        throw ValidationError("custom: expected a dict of custom values", "custom");
      for (auto [field, v] : py::reinterpret_borrow<py::dict>(value)) {
        const std::string custom_name = text_of(field, "custom");
        patch.set_custom(custom_name, custom_value_of(v, "custom." + custom_name));
      }
      continue;
    }
    const auto& f = descriptor<T>(name);
    if (!f.has(kWritable)) throw ValidationError(name + ": set by the store, not by a patch", name);
    assign(patch.values, f, value);
    patch.name(name);
  }
  return patch;
}

#define BANYAN_RECORD_CONVERSIONS(T)                             \
  template py::dict record_to_python<T>(const T&);               \
  template std::pair<T, Creation> record_of<T>(const py::dict&); \
  template Patch<T> patch_of<T>(const py::dict&);
BANYAN_RECORD_CONVERSIONS(User)
BANYAN_RECORD_CONVERSIONS(Team)
BANYAN_RECORD_CONVERSIONS(Tag)
BANYAN_RECORD_CONVERSIONS(Company)
BANYAN_RECORD_CONVERSIONS(Contact)
BANYAN_RECORD_CONVERSIONS(Lead)
BANYAN_RECORD_CONVERSIONS(Pipeline)
BANYAN_RECORD_CONVERSIONS(Stage)
BANYAN_RECORD_CONVERSIONS(Deal)
BANYAN_RECORD_CONVERSIONS(Activity)
#undef BANYAN_RECORD_CONVERSIONS

py::list describe_record_types() {
  py::list types;
  for (const auto type :
       {ObjectType::kUser, ObjectType::kTeam, ObjectType::kTag, ObjectType::kCompany,
        ObjectType::kContact, ObjectType::kLead, ObjectType::kPipeline, ObjectType::kStage,
        ObjectType::kDeal, ObjectType::kActivity}) {
    types.append(with_record_type(type, [&]<typename T>(std::type_identity<T>) -> py::object {
      py::list fields;
      for (const auto& f : standard_fields<T>()) {
        py::dict flags;
        flags["writable"] = f.has(kWritable);
        flags["required"] = f.has(kRequired);
        flags["sensitive"] = f.has(kSensitive);
        flags["filterable"] = f.has(kFilterable);
        flags["sortable"] = f.has(kSortable);
        flags["python_type"] = std::visit(
            [](auto member) {
              return python_type<std::remove_cvref_t<decltype(std::declval<T&>().*member)>>();
            },
            f.member);
        fields.append(py::make_tuple(py::str(f.name.data(), f.name.size()), flags));
      }
      const auto name = to_string(type);
      return py::make_tuple(py::str(name.data(), name.size()), fields, record_to_python(T{}));
    }));
  }
  return types;
}

store::Filter filter_of(py::handle tree) {
  if (!py::isinstance<py::tuple>(tree) || py::len(tree) == 0)
    throw ValidationError("filter: expected an expression made with banyan.F", "filter");
  const auto node = py::reinterpret_borrow<py::tuple>(tree);
  const std::string kind = text_of(node[0], "filter");
  if (kind == "all") return {};
  if (kind == "not") return !filter_of(node[1]);
  if (kind == "and" || kind == "or") {
    std::optional<store::Filter> out;
    for (py::handle child : node[1]) {
      auto f = filter_of(child);
      out = !out ? f : kind == "and" ? (*out && f) : (*out || f);
    }
    if (!out) throw ValidationError("filter: an empty " + kind, "filter");
    return *out;
  }
  if (kind != "cmp") throw ValidationError("filter: unknown node " + kind, "filter");
  const std::string field = text_of(node[1], "filter");
  const store::Op op = op_named(text_of(node[2], "filter"));
  std::vector<store::Value> values;
  for (py::handle v : node[3]) values.push_back(filter_value_of(v, field));
  switch (op) {
    case store::Op::kIsNull:
      return store::Filter::is_null(field);
    case store::Op::kIn:
      return store::Filter::in(field, std::move(values));
    case store::Op::kContains:
    case store::Op::kStartsWith: {
      if (values.size() != 1 || !std::holds_alternative<std::string>(values[0]))
        throw ValidationError(field + ": expected a str to match", field);
      auto text = std::get<std::string>(std::move(values[0]));
      return op == store::Op::kContains ? store::Filter::contains(field, std::move(text))
                                        : store::Filter::starts_with(field, std::move(text));
    }
    default:
      break;
  }
  if (values.size() != 1) throw ValidationError(field + ": expected one value", field);
  auto v = std::move(values[0]);
  switch (op) {
    case store::Op::kEq:
      return store::Filter::eq(field, std::move(v));
    case store::Op::kNe:
      return store::Filter::ne(field, std::move(v));
    case store::Op::kLt:
      return store::Filter::lt(field, std::move(v));
    case store::Op::kLe:
      return store::Filter::le(field, std::move(v));
    case store::Op::kGt:
      return store::Filter::gt(field, std::move(v));
    default:
      return store::Filter::ge(field, std::move(v));
  }
}

}  // namespace banyan::python
