#pragma once
// The local bus between spweb and spd (docs/DESIGN.md "Processes on one SP", "The command path"):
// Boost.Interprocess message queues carrying proto::BusRequest / proto::BusResponse.
//
//   spweb (LocalBusClient) --BusRequest--> "dualsp-<array>-sp<a|b>-bus"        --> spd
//   spweb                 <--BusResponse-- "dualsp-<array>-sp<a|b>-bus-reply-<pid>" <-- spd
//
// Either side may die and restart at any time: each side removes a stale queue of its own
// name before creating it, the client reopens spd's queue when it was recreated, and spd
// never blocks for more than a few ms on a reply queue nobody drains.

#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "platform/privilege.hpp"
#include "platform/sp_types.hpp"
#include "proto/bus.pb.h"
#include "proto/command.pb.h"

namespace dualsp::ipc {

// spd's request queue: small commands, a few in flight per CivetWeb worker.
inline constexpr size_t kBusRequestQueueMessages = 16;
inline constexpr size_t kBusRequestMessageBytes = 64 * 1024;
// A client's reply queue: room for GetLog's 1000 lines (the most spweb asks for). Only the
// pages a message touches become resident, so the size costs memory only when used.
inline constexpr size_t kBusReplyQueueMessages = 16;
inline constexpr size_t kBusReplyMessageBytes = 256 * 1024;

// "dualsp-<array>-sp<a|b>-bus": the request queue of spd on SP `sp`.
std::string busRequestQueueName(const std::string& array_id, SpId sp);
// A client's reply queue, and its removal once the client is gone for good (a crashed
// spweb never removes its own; spd does when it reaps it). True when one was removed.
std::string busReplyQueueName(const std::string& request_queue, pid_t client_pid);
bool removeBusReplyQueue(const std::string& request_queue, pid_t client_pid);

// Something that runs commands: the local bus in spweb, a fake in tests.
class CommandClient {
 public:
  virtual ~CommandClient() = default;
  // The command's result; nullopt when it certainly never reached spd; status UNANSWERED
  // when it did and no answer came within `timeout` (a change's outcome is then unknown).
  virtual std::optional<proto::CommandResult> call(const proto::Command& command,
                                                   std::chrono::milliseconds timeout) = 0;
};

// spd's end: receives requests on its queue, hands each to the handler, sends the result to
// the requester's reply queue.
class LocalBusServer {
 public:
  // Call exactly once, from any thread, now or later (a later call is ignored and logged).
  using Reply = std::function<void(const proto::CommandResult&)>;
  using Handler = std::function<void(const proto::Command&, Reply)>;

  // Removes a stale queue of that name and creates it, 0600. With `web` (spd as root, spweb
  // unprivileged: docs/SECURITY.md "What runs as whom") the queue gets the web group, mode
  // 0660, and reply queues the web user owns (0600) are answered too. Throws
  // std::runtime_error on failure.
  LocalBusServer(std::string request_queue_name, Handler handler,
                 std::optional<platform::UnixIdentity> web = {});
  // Stops and removes the queue.
  ~LocalBusServer();
  LocalBusServer(const LocalBusServer&) = delete;
  LocalBusServer& operator=(const LocalBusServer&) = delete;

  // Starts the receive thread; the handler runs on it.
  void start();
  // Stops receiving within a few tens of ms. Replies still pending may be sent later.
  void stop();
  // Replaces the queue by a new, empty one under the same name. For when a client process
  // ended: killed in the middle of a send, it may hold the queue's lock for ever (its mutex
  // lives in the shared memory, not robust), which would silence the bus. Clients notice the
  // new queue and reopen it; requests in the old one are dropped (their callers time out).
  void recreate();
  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// spweb's end: thread-safe, called concurrently from CivetWeb's worker threads.
class LocalBusClient final : public CommandClient {
 public:
  // Creates the reply queue "<request_queue_name>-reply-<pid>" (removing a stale one) and
  // its receiver thread, so one client per request queue and process. spd's queue is opened
  // lazily, and again whenever spd made it anew: with `web` (spweb's identity), a request queue
  // of root's with the web group and mode 0660 is trusted too, and a root process gives its
  // reply queue (still 0600) to `web` at once, as it will be that user soon (spweb drops root
  // after binding). Throws std::runtime_error on failure.
  explicit LocalBusClient(std::string request_queue_name,
                          std::optional<platform::UnixIdentity> web = {});
  // Removes the reply queue.
  ~LocalBusClient() override;
  LocalBusClient(const LocalBusClient&) = delete;
  LocalBusClient& operator=(const LocalBusClient&) = delete;

  // nullopt when the command never reached spd: at once when spd's queue does not exist or
  // once closed, after `timeout` when the queue stays full. A result with status UNANSWERED
  // when it was sent and no answer came within `timeout` (or close() was called meanwhile):
  // spd may have carried it out.
  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override;
  // For spweb's stop (docs/WEB.md "Stopping"): every call waiting for spd returns UNANSWERED
  // now, and later calls return nullopt without sending. A command spd already received goes
  // on there; only its answer is not waited for. Safe to call twice and from any thread.
  void close();
  bool closed() const;
  const std::string& requestQueueName() const;
  const std::string& replyQueueName() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dualsp::ipc
