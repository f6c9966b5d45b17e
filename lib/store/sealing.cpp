#include "store/sealing.hpp"

#include "banyan/errors.hpp"

namespace banyan::store::detail {

namespace {

using nlohmann::json;

constexpr const char* kSealedKey = "enc";

bool is_sealed_custom(const json& v) {
  return v.is_object() && v.size() == 1 && v.contains(kSealedKey) && v[kSealedKey].is_string();
}

std::string custom_place(ObjectType type) { return sealed_place(type, "custom"); }

}  // namespace

std::string opened(const FieldCipher* cipher, std::string_view place, std::string stored) {
  if (!FieldCipher::is_sealed(stored)) return stored;
  if (cipher == nullptr)
    throw Unavailable("a value of " + std::string(place) +
                      " is encrypted at rest and no keys are configured");
  return cipher->open(stored, place);
}

std::unique_ptr<std::string> seal_custom(const FieldCipher& cipher, ObjectType type,
                                         const FieldSet& fields,
                                         const std::unique_ptr<std::string>& text,
                                         const std::unique_ptr<std::string>* stored) {
  if (!text) return nullptr;
  bool any = false;
  for (const auto& def : fields.all()) any = any || def.sensitive;
  if (!any) return std::make_unique<std::string>(*text);
  json values = json::parse(*text);
  json before =
      stored != nullptr && *stored ? json::parse(**stored, nullptr, false) : json::object();
  if (!before.is_object()) before = json::object();
  const std::string place = custom_place(type);
  for (const auto& def : fields.all()) {
    if (!def.sensitive) continue;
    const std::string key = json_key(def.id);
    const auto it = values.find(key);
    if (it == values.end() || is_sealed_custom(*it)) continue;
    const std::string plain = it->dump();
    const auto kept = before.find(key);
    if (kept != before.end() && is_sealed_custom(*kept)) {
      const auto& sealed = (*kept)[kSealedKey].get_ref<const std::string&>();
      if (cipher.is_current(sealed) && cipher.open(sealed, place) == plain) {
        *it = *kept;
        continue;
      }
    }
    *it = seal_json(cipher, place, *it);
  }
  return std::make_unique<std::string>(values.dump());
}

json seal_json(const FieldCipher& cipher, std::string_view place, const json& value) {
  return json{{kSealedKey, cipher.seal(value.dump(), place)}};
}

void open_custom(const FieldCipher* cipher, ObjectType type, std::unique_ptr<std::string>& text) {
  // Sealed values are the only objects with this key: most rows skip the parse.
  if (!text || text->find("{\"enc\":") == std::string::npos) return;
  json values = json::parse(*text, nullptr, false);
  if (!values.is_object()) return;
  const std::string place = custom_place(type);
  for (auto& [key, value] : values.items()) value = open_json(cipher, place, value);
  *text = values.dump();
}

json open_json(const FieldCipher* cipher, std::string_view place, const json& value) {
  const std::string* sealed = nullptr;
  if (is_sealed_custom(value)) sealed = value[kSealedKey].get_ptr<const std::string*>();
  // Sensitive columns hold sealed strings; custom values are sealed as objects (a custom
  // text that happens to look sealed is just text).
  const auto* s = place.ends_with(".custom") ? nullptr : value.get_ptr<const std::string*>();
  if (s != nullptr && FieldCipher::is_sealed(*s)) {
    std::string plain = opened(cipher, place, *s);
    // A sealed list (emails, phones) opens to the JSON array it was.
    if (place.ends_with(".emails") || place.ends_with(".phones")) {
      json list = json::parse(plain, nullptr, false);
      if (list.is_array()) return list;
    }
    return plain;
  }
  if (sealed == nullptr) return value;
  return json::parse(opened(cipher, place, *sealed));
}

}  // namespace banyan::store::detail
