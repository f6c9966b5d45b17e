#include "item_results.hpp"

#include <string>
#include <utility>

#include "api_context.hpp"
#include "http_support.hpp"

namespace banyan::rest {

bool atomic_batch(const json& body) {
  if (!body.contains("atomic")) return true;
  if (!body["atomic"].is_boolean())
    throw ValidationError(
        "atomic: true (all or nothing, the default) or false (each item "
        "on its own, answered 207 with a result per item)",
        "atomic");
  return body["atomic"].get<bool>();
}

void ItemResults::fail(std::size_t i, const Error& e) {
  json problem = problem_document(e);
  const int status = problem["status"].get<int>();
  if (status == 403) {
    json noted = problem;
    noted["detail"] = "items[" + std::to_string(i) + "]: " + e.what();
    refusals_.push_back(noted.dump());
  }
  items_[i] = json{{"index", i}, {"status", status}, {"outcome", "error"}, {"error", problem}};
}

void ItemResults::run(store::UnitOfWork& uow, std::size_t i, const std::function<void()>& work) {
  try {
    uow.attempt(work);
  } catch (const Error& e) {
    switch (e.code()) {
      case ErrorCode::kValidation:
      case ErrorCode::kNotFound:
      case ErrorCode::kPermissionDenied:
      case ErrorCode::kConflict:
        if (uow.active()) {
          fail(i, e);
          return;
        }
        throw;
      default:
        throw;
    }
  }
}

void ItemResults::done(std::size_t i, const std::string& outcome, json record) {
  items_[i] = json{{"index", i},
                   {"status", outcome == "created" ? 201 : 200},
                   {"outcome", outcome},
                   {"record", std::move(record)}};
}

HttpResponse ItemResults::response() const {
  json counts{{"created", 0}, {"updated", 0}, {"unchanged", 0}, {"failed", 0}};
  for (const auto& item : items_) {
    const std::string outcome = item["outcome"].get<std::string>();
    counts[outcome == "error" ? "failed" : outcome] =
        counts[outcome == "error" ? "failed" : outcome].get<int>() + 1;
  }
  counts["items"] = items_;
  return json_response(207, counts);
}

void ItemResults::audit_refusals(ApiContext& api, const RouteCall& call) const {
  for (const auto& body : refusals_) {
    HttpResponse refusal;
    refusal.status = 403;
    refusal.body = body;
    api.audit_denial(call, refusal);
  }
}

}  // namespace banyan::rest
