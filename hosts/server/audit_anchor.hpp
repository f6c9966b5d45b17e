// Keeps the audit trail anchored outside the database: appends a signed checkpoint of the
// trail's head to the operator's anchor file (store/audit_log.hpp) as the trail moves.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "banyan/engine.hpp"
#include "periodic_task.hpp"

namespace banyan::server {

class AuditAnchorWriter {
 public:
  // Appends the first checkpoint at once (so that a missing audit key or an unwritable
  // file stops the server before it serves: Unavailable), then one every `interval` in
  // which the trail moved. A failed append later is logged and tried again next time.
  // The checkpoints are read through `engine` as the system principal.
  AuditAnchorWriter(Engine& engine, std::string path, std::chrono::milliseconds interval,
                    LogSink log);
  // Appends a last checkpoint if the trail moved.
  ~AuditAnchorWriter();
  AuditAnchorWriter(const AuditAnchorWriter&) = delete;
  AuditAnchorWriter& operator=(const AuditAnchorWriter&) = delete;

 private:
  // Appends a checkpoint when the head is not the one last anchored.
  void anchor();
  void anchor_or_log();

  Engine& engine_;
  const std::string path_;
  const LogSink log_;
  std::string last_hash_;  // of the last checkpoint appended (the task's thread, after the first)
  std::optional<PeriodicTask> task_;
};

}  // namespace banyan::server
