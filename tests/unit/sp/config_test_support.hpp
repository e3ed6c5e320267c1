#pragma once
// Shared by the configuration units' tests: a temporary directory, a ConfigCore on it with
// its store open, a scripted peer link, and a full filesystem (a small tmpfs in a private
// mount namespace) to make the disk refuse writes for real.

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "sp/config_core.hpp"

namespace dualsp::sp::testing {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/config-unit-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// The peer as a function of the request: answers at once (or not at all: an error).
class ScriptedPeer : public PeerTransport {
 public:
  std::function<Answer(const proto::Command&)> answer;
  std::vector<proto::Command> sent;
  void send(const proto::Command& command, std::chrono::milliseconds,
            std::function<void(Answer)> done) override {
    sent.push_back(command);
    done(answer ? answer(command) : Answer{std::nullopt, ipc::PeerError::NotConnected});
  }
};

inline PeerTransport::Answer okAnswer(const std::string& payload) {
  return {okResult(payload)};
}

inline ConfigRecord record(const std::string& key, const std::string& value, Version v,
                           proto::SpId writer = proto::SP_A) {
  ConfigRecord r;
  r.set_key(key);
  r.set_value(value);
  r.mutable_version()->set_epoch(v.epoch);
  r.mutable_version()->set_seq(v.seq);
  r.set_writer(writer);
  return r;
}

inline ConfigServiceDependencies activeDeps(SpId self, PeerTransport* peer) {
  ConfigServiceDependencies deps;
  deps.self = self;
  deps.role = [] { return Role::Active; };
  deps.epoch = [] { return uint64_t{1}; };
  deps.peer = peer;
  deps.wall_ms = [] { return int64_t{1'800'000'000'000}; };
  return deps;
}

inline ConfigServiceOptions fastOptions() {
  ConfigServiceOptions options;
  options.replicate_timeout = std::chrono::milliseconds{100};
  options.change_wait = std::chrono::milliseconds{200};
  options.forward_timeout = std::chrono::milliseconds{300};
  options.resync_interval = std::chrono::milliseconds{0};
  return options;
}

// A core whose store is open (no worker: the test calls the units on its own thread).
inline std::unique_ptr<ConfigCore> openCore(const std::string& dir, ConfigServiceDependencies deps,
                                            ConfigServiceOptions options = fastOptions()) {
  auto core = std::make_unique<ConfigCore>(dir, std::move(deps), options);
  if (!core->store.open().ok) return nullptr;
  core->loadPoints();
  core->synced = core->visible = core->store.last();
  return core;
}

// The answer a unit gave, when it answers synchronously.
struct Captured {
  std::optional<proto::CommandResult> result;
  Reply reply() {
    return [this](proto::CommandResult r) { result = std::move(r); };
  }
};

// Runs `body(dir)` in a child process where `dir` is a 64 KiB tmpfs (a private mount
// namespace: nothing outside sees it). Returns the child's exit code (0: passed), or -1 when
// this system does not let the test mount one (not root): the caller says so out loud.
inline int inFullFilesystem(const std::function<int(const std::string& dir)>& body) {
  TempDir mountpoint;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(100);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(100);
    if (mount("dualsp-full", mountpoint.path.c_str(), "tmpfs", 0, "size=64k") != 0) _exit(100);
    int rc = body(mountpoint.path);
    umount2(mountpoint.path.c_str(), MNT_DETACH);
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return 99;
  return WEXITSTATUS(status) == 100 ? -1 : WEXITSTATUS(status);
}

// Fills `dir` until the filesystem refuses more (ENOSPC).
inline void fillUp(const std::string& dir) {
  FILE* f = fopen((dir + "/ballast").c_str(), "w");
  if (!f) return;
  std::string block(4096, 'x');
  for (int i = 0; i < 1024 && fwrite(block.data(), 1, block.size(), f) == block.size(); ++i) {
  }
  fclose(f);
}

}  // namespace dualsp::sp::testing
