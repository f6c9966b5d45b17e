#include "audit_anchor.hpp"

#include "banyan/errors.hpp"
#include "banyan/store/audit_log.hpp"

namespace banyan::server {

AuditAnchorWriter::AuditAnchorWriter(Engine& engine, std::string path,
                                     std::chrono::milliseconds interval, LogSink log)
    : engine_(engine), path_(std::move(path)), log_(std::move(log)) {
  anchor();
  task_.emplace(interval, [this] { anchor_or_log(); });
}

AuditAnchorWriter::~AuditAnchorWriter() {
  task_.reset();
  anchor_or_log();
}

void AuditAnchorWriter::anchor() {
  const auto admin = engine_.admin(security::Principal::system());
  const auto c =
      engine_.database().read([&](store::UnitOfWork& uow) { return admin.audit_checkpoint(uow); });
  if (c.hash == last_hash_) return;
  store::append_audit_anchor(path_, c);
  last_hash_ = c.hash;
}

void AuditAnchorWriter::anchor_or_log() {
  try {
    anchor();
  } catch (const Error& e) {
    log_(LogEvent(LogLevel::kError, "audit_checkpoint_failed")
             .with("message", "no audit checkpoint appended to " + path_ + ": " + e.what())
             .with("anchor", path_));
  }
}

}  // namespace banyan::server
