#pragma once
// A local bus of the test's own: records the commands spweb sends and answers what the test
// scripted (nothing at all, by default: the call timed out).

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ipc/local_bus.hpp"

namespace dualsp::web::test {

class FakeCommandClient : public ipc::CommandClient {
 public:
  // What every following call answers; nullopt: no answer within the timeout.
  void answer(std::optional<proto::CommandResult> result) {
    std::lock_guard<std::mutex> lock(mutex_);
    next_ = std::move(result);
  }

  // What calls of command `name` about SP `target` answer, before the default above.
  void answerFor(std::string name, proto::SpId target, std::optional<proto::CommandResult> result) {
    std::lock_guard<std::mutex> lock(mutex_);
    scripted_[{std::move(name), target}] = std::move(result);
  }

  // What calls of command `name` answer, computed from the command (its args, its payload),
  // before everything above.
  using Responder = std::function<std::optional<proto::CommandResult>(const proto::Command&)>;
  void respond(std::string name, Responder responder) {
    std::lock_guard<std::mutex> lock(mutex_);
    responders_[std::move(name)] = std::move(responder);
  }

  // Once a call of command `name` has been answered, every later call answers nullopt
  // without reaching spd: LocalBusClient::close() from spweb's stop, right after that command.
  void closeAfter(std::string name) {
    std::lock_guard<std::mutex> lock(mutex_);
    close_after_ = std::move(name);
  }

  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mutex_);
    commands_.push_back(command);
    timeouts_.push_back(timeout);
    if (closed_) return std::nullopt;
    if (!close_after_.empty() && command.name() == close_after_) closed_ = true;
    if (auto responder = responders_.find(command.name()); responder != responders_.end())
      return responder->second(command);
    auto scripted = scripted_.find({command.name(), command.target()});
    return scripted != scripted_.end() ? scripted->second : next_;
  }

  // The commands of that name, in order.
  std::vector<proto::Command> commandsNamed(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<proto::Command> out;
    for (const proto::Command& c : commands_)
      if (c.name() == name) out.push_back(c);
    return out;
  }

  std::vector<proto::Command> commands() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commands_;
  }

  size_t calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commands_.size();
  }
  proto::Command last() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commands_.empty() ? proto::Command() : commands_.back();
  }
  std::chrono::milliseconds lastTimeout() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return timeouts_.empty() ? std::chrono::milliseconds(0) : timeouts_.back();
  }

 private:
  mutable std::mutex mutex_;
  std::optional<proto::CommandResult> next_;
  std::map<std::pair<std::string, proto::SpId>, std::optional<proto::CommandResult>> scripted_;
  std::map<std::string, Responder> responders_;
  std::vector<proto::Command> commands_;
  std::vector<std::chrono::milliseconds> timeouts_;
  std::string close_after_;
  bool closed_ = false;
};

}  // namespace dualsp::web::test
