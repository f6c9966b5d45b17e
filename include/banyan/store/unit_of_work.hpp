// A unit of work: one database transaction that spans every repository.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::store {

class Database;

// What a unit of work intends. On SQLite a read-write unit of work takes the database's
// single write lock when it begins (so a read-then-write never fails to upgrade), and
// waits up to the busy timeout for it; read-only ones run alongside writers. A read-only
// unit of work must not write.
enum class Access { kReadWrite, kReadOnly };

// Owned by the caller; created by Database::begin(). Everything done through it is
// committed together by commit() or not at all: destroying an uncommitted unit of work
// rolls it back. It holds one pooled connection until it ends.
//
// Thread safety: use a unit of work from one thread at a time. Different units of work
// may be used concurrently.
class BANYAN_EXPORT UnitOfWork {
 public:
  UnitOfWork(UnitOfWork&&) noexcept;
  UnitOfWork& operator=(UnitOfWork&&) noexcept;
  ~UnitOfWork();

  // Commits. Throws Conflict when the backend refuses (e.g. a deadlock victim),
  // Unavailable when the connection is lost or a CommitDeadline on this thread has
  // passed; the work is then rolled back.
  void commit();
  // Rolls back. Never throws.
  void rollback() noexcept;
  // True until commit() or rollback().
  bool active() const noexcept;
  // Runs `work` under a savepoint. When it throws, what it did through this unit of work
  // (writes, events, audit entries, after-commit actions) is undone, the unit of work goes
  // on as it was before, and the exception propagates. Should the backend have given up
  // the whole transaction meanwhile (a deadlock victim on MySQL), Conflict is thrown
  // instead and the unit of work has ended. Nests.
  void attempt(const std::function<void()>& work);
  // The user recorded as created_by/updated_by of every write, if any.
  std::optional<Id> actor() const noexcept;
  // What the audit trail notes beside the actor's id: its name (an email, a client id)
  // and where the request came from (a client address). Both optional.
  void describe_actor(std::string name, std::string origin);

  struct Impl;  // lib/store's; reached through store::Session (lib/store/session.hpp)

 private:
  friend class Database;
  friend class Session;
  explicit UnitOfWork(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// While one lives, units of work committed on its thread after `deadline` roll back
// instead (Unavailable): work whose caller has been given up on (a server request
// answered 503 at its deadline) does not take effect afterwards. Nests; the innermost
// holds. Work already committing when the deadline passes still commits.
class BANYAN_EXPORT CommitDeadline {
 public:
  explicit CommitDeadline(std::chrono::steady_clock::time_point deadline) noexcept;
  ~CommitDeadline();
  CommitDeadline(const CommitDeadline&) = delete;
  CommitDeadline& operator=(const CommitDeadline&) = delete;

  // The deadline in force on this thread, if any.
  static std::optional<std::chrono::steady_clock::time_point> current() noexcept;

 private:
  std::optional<std::chrono::steady_clock::time_point> previous_;
};

}  // namespace banyan::store
