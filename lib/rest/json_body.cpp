#include "json_body.hpp"

#include <string>
#include <vector>

namespace banyan::rest {

namespace {

using json = nlohmann::json;

// Builds the document from nlohmann's SAX events. Its own DOM builder with a callback
// rescans the enclosing container after every value (quadratic for an array of many
// objects); this one keeps a stack of open containers and does constant work per event.
class BoundedBuilder {
 public:
  explicit BoundedBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() { return add(json(nullptr)); }
  bool boolean(bool v) { return add(json(v)); }
  bool number_integer(json::number_integer_t v) { return add(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return add(json(v)); }
  bool string(std::string& v) {
    if (v.size() > limits_.max_string_bytes)
      return refuse(
          400, "a string is longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
    return add(json(std::move(v)));
  }
  bool binary(json::binary_t&) { return refuse(400, "binary values are not JSON"); }

  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    if (k.size() > limits_.max_string_bytes)
      return refuse(400,
                    "a key is longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
    json& object = *open_.back().value;
    if (object.size() >= limits_.max_members)
      return refuse(413,
                    "an object has more than " + std::to_string(limits_.max_members) + " members");
    if (object.contains(k)) return refuse(400, "the key '" + k + "' appears twice in one object");
    // The member exists from its key on, so a duplicate later in the object is found.
    open_.back().pending = &object[std::move(k)];
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    if (!refused_) refuse(400, std::string("the body is not valid JSON: ") + e.what());
    return false;
  }

  // The document, once sax_parse has returned true.
  json take() { return std::move(root_); }
  [[nodiscard]] bool refused() const { return refused_; }
  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const std::string& detail() const { return detail_; }

 private:
  struct Open {
    json* value;
    json* pending = nullptr;  // an object's member whose key was read last
  };

  // Places `v` where the parse stands: the root, the pending member or the array's end.
  json* place(json&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Open& top = open_.back();
    if (top.value->is_object()) {
      *top.pending = std::move(v);
      return top.pending;
    }
    if (top.value->size() >= limits_.max_elements) {
      refuse(413, "an array has more than " + std::to_string(limits_.max_elements) + " elements");
      return nullptr;
    }
    top.value->push_back(std::move(v));
    return &top.value->back();
  }

  bool add(json&& v) { return place(std::move(v)) != nullptr; }

  bool open(json&& container) {
    if (static_cast<int>(open_.size()) >= limits_.max_depth)
      return refuse(400,
                    "the body nests deeper than " + std::to_string(limits_.max_depth) + " levels");
    json* at = place(std::move(container));
    if (at == nullptr) return false;
    // Pointers into an array stay valid: nothing is added to it while a child is open.
    open_.push_back(Open{at});
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  bool refuse(int status, std::string detail) {
    refused_ = true;
    status_ = status;
    detail_ = std::move(detail);
    return false;
  }

  const JsonLimits& limits_;
  json root_;
  std::vector<Open> open_;
  bool refused_ = false;
  int status_ = 400;
  std::string detail_;
};

}  // namespace

json parse_json_within(std::string_view text, const JsonLimits& limits) {
  // nlohmann's lexer takes a NUL for the end of the input, so `{}\0anything` would pass.
  // JSON has no raw NUL anywhere (in a string it is escaped as \u0000).
  if (text.find('\0') != std::string_view::npos)
    throw JsonRefused(400, "the body holds a NUL byte (JSON escapes it as \\u0000)");
  BoundedBuilder builder(limits);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                                  /*strict=*/true);
  if (!ok || builder.refused())
    throw JsonRefused(builder.refused() ? builder.status() : 400,
                      builder.refused() ? builder.detail() : "the body is not valid JSON");
  return builder.take();
}

}  // namespace banyan::rest
