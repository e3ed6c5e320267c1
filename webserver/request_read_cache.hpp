#pragma once
// Identical reads of one client request sent to spd once (docs/WEB.md "Protocol"). A GET with
// $expand or $filter runs many handlers for one client request (a thousand volume GETs for
// the volume collection), and each of them asks spd for what it shows: the same GetStorage,
// the whole storage model, a thousand times. Within the request the first answer is reused,
// and its payload parsed as JSON once (runJsonCommand, bus_command.hpp).
//
// Why this cannot serve stale data:
// - it lives as long as one client request (the dispatcher makes one per GET and HEAD, on the
//   stack of Dispatcher::handle) and is never shared between requests or threads. A client
//   that sees a change acknowledged and then sends a GET gets spd's answers from after it;
// - only reads are reused (isReadCommand, read_cache.hpp: commands that change nothing);
//   any other command sent through it forgets everything it holds, so a handler that reads
//   after it writes reads what spd has then;
// - a command is the same when its name, target, arguments, payload and caller are.
// Within the request, one answer for one question is also the consistent answer: a filtered
// collection judges all of its members against the same model.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "ipc/local_bus.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {

class RequestReadCache final : public ipc::CommandClient {
 public:
  // `bus` carries what is asked (spweb's ReadCache over the local bus); it outlives this.
  explicit RequestReadCache(ipc::CommandClient& bus) : bus_(bus) {}

  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override;

  // The answer without its payload, and the payload parsed as JSON (a discarded value when it
  // is not JSON), both shared by every identical read of the request.
  struct JsonAnswer {
    std::optional<proto::CommandResult> result;
    std::shared_ptr<const Json> payload;
  };
  JsonAnswer callForJson(const proto::Command& command, std::chrono::milliseconds timeout);

  // A value built from this request's reads (the storage model assembled from its parts),
  // kept under `key` until a command that is not a read passes, like the reads themselves.
  std::shared_ptr<const Json> derived(const std::string& key) const;
  void remember(const std::string& key, std::shared_ptr<const Json> value);

  // Commands sent to spd, and reads answered from an earlier identical one.
  size_t sent() const { return sent_; }
  size_t reused() const { return reused_; }

 private:
  struct Entry {
    std::optional<proto::CommandResult> result;  // without its payload
    std::string payload;
    std::shared_ptr<const Json> parsed;  // made on the first callForJson
  };
  // The entry of a read: spd's answer, asked now or before. Null for a command that is not a
  // read (sent, and everything forgotten; the answer is in `passed`).
  Entry* lookUp(const proto::Command& command, std::chrono::milliseconds timeout,
                std::optional<proto::CommandResult>& passed);

  ipc::CommandClient& bus_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, std::shared_ptr<const Json>> derived_;
  size_t sent_ = 0;
  size_t reused_ = 0;
};

}  // namespace dualsp::web
