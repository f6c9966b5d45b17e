// The answer of a batch run with "atomic": false: each item applied on its own (under a
// savepoint of the request's one transaction) and reported on its own, 207 Multi-Status.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "banyan/errors.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "record_json.hpp"
#include "routes.hpp"

namespace banyan::rest {

class ApiContext;

// Whether a batch body asks for all or nothing ("atomic", a boolean, true when absent).
bool atomic_batch(const json& body);

class ItemResults {
 public:
  explicit ItemResults(std::size_t items) : items_(items) {}

  // Item i failed before it was tried (its body did not read).
  void fail(std::size_t i, const Error& e);
  bool failed(std::size_t i) const { return items_[i].contains("error"); }
  // Runs item i under a savepoint: `work` reports it through done(); an error that
  // belongs to the item (invalid, missing, refused, conflicting) undoes what it wrote and
  // becomes its result. Anything else (the database gone, the transaction lost) fails the
  // whole request, as it would an atomic one.
  void run(store::UnitOfWork& uow, std::size_t i, const std::function<void()>& work);
  // Item i's success: "created" (201), "updated" or "unchanged" (200), with its record.
  void done(std::size_t i, const std::string& outcome, json record);

  // 207 {"items": [...], "created": n, "updated": n, "unchanged": n, "failed": n}.
  HttpResponse response() const;
  // Notes items refused with 403 in the audit trail, as a refused request is; after the
  // write, since the trail is written apart from it.
  void audit_refusals(ApiContext& api, const RouteCall& call) const;

 private:
  std::vector<json> items_;
  std::vector<std::string> refusals_;  // problem bodies of items answered 403
};

}  // namespace banyan::rest
