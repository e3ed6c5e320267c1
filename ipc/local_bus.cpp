#include "ipc/local_bus.hpp"

// About 530 lines, over the house's ~500: both ends of one protocol, sharing the queue helpers
// (create, open, identity, deadlines) in the anonymous namespace below; splitting them would
// need an internal header for those helpers alone.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "platform/log.hpp"
#include "platform/private_shm.hpp"

namespace bip = boost::interprocess;

namespace dualsp::ipc {
namespace {

using Clock = std::chrono::steady_clock;

// How long a receive thread waits before looking at its stop flag: stop() is this prompt.
constexpr std::chrono::milliseconds kReceivePoll{50};
// spd waits at most this long for room in a reply queue: a client that stopped draining its
// queue must not hold spd's threads up (docs/DESIGN.md "Processes on one SP": spd keeps
// running whatever else misbehaves).
constexpr std::chrono::milliseconds kReplySendTimeout{10};
// Reply queues spd keeps open: a few spweb processes (restarts) at most.
constexpr size_t kMaxCachedReplyQueues = 8;

using Queue = bip::message_queue;
using QueuePtr = std::shared_ptr<Queue>;

boost::posix_time::ptime absoluteTime(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  if (left.count() < 0) left = std::chrono::microseconds(0);
  return boost::posix_time::microsec_clock::universal_time() +
         boost::posix_time::microseconds(left.count());
}

// Which shared-memory object a queue name currently denotes. A queue removed and created
// anew (spd restarted) is another object under the same name: a handle opened on the old one
// would send into a queue nobody reads any more.
struct QueueIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const QueueIdentity&) const = default;
};

// Boost.Interprocess keeps a queue in POSIX shared memory named "/<name>" (shm_open). A queue
// someone else made (another user, or readable by others) has no identity: it is never used.
std::optional<QueueIdentity> queueIdentity(const std::string& name,
                                           const platform::ShmTrust& trust) {
  int fd = shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  int rc = fstat(fd, &st);
  close(fd);
  if (rc != 0) return std::nullopt;
  if (std::string why = platform::untrustedShmReason(st, trust); !why.empty()) {
    LOG_WARNING << "local bus: queue /dev/shm/" << name << " refused: " << why;
    return std::nullopt;
  }
  return QueueIdentity{st.st_dev, st.st_ino};
}

// Who may use spd's request queue besides root: spweb's group, to send on it (0660).
platform::ShmTrust requestQueueTrust(const std::optional<platform::UnixIdentity>& web) {
  return platform::ShmTrust{.web = web, .web_group_mode = platform::kWebReadWriteMode};
}
// Which reply queues spd sends to: its own user's or root's, or the web user's, all 0600.
platform::ShmTrust replyQueueTrust(const std::optional<platform::UnixIdentity>& web) {
  return platform::ShmTrust{.web = web, .web_may_own = true};
}

// Removes a queue a crashed process (or someone else) left behind, then creates it, 0600 (or
// 0660 with the web group when `trust` shares it): the requests and answers on the bus are for
// spd and spweb only.
QueuePtr createQueue(const std::string& name, size_t messages, size_t message_bytes,
                     const platform::ShmTrust& trust = {}) {
  Queue::remove(name.c_str());
  QueuePtr queue;
  try {
    queue = std::make_shared<Queue>(bip::create_only, name.c_str(), messages, message_bytes,
                                    bip::permissions(platform::kPrivateShmMode));
  } catch (const bip::interprocess_exception& e) {
    throw std::runtime_error("local bus queue " + name + ": " + e.what());
  }
  // Shared only once it is ours (created exclusively above; /dev/shm's sticky bit keeps
  // others from replacing the name).
  if (std::string why = platform::shareShmByName(name, trust); !why.empty()) {
    queue.reset();
    Queue::remove(name.c_str());
    throw std::runtime_error("local bus queue " + name + ": " + why);
  }
  return queue;
}

// The queue `name` denotes now, with its identity; nullopt when there is none.
std::optional<std::pair<QueuePtr, QueueIdentity>> openQueue(const std::string& name,
                                                            const platform::ShmTrust& trust) {
  std::optional<QueueIdentity> before = queueIdentity(name, trust);
  if (!before) return std::nullopt;
  try {
    auto queue = std::make_shared<Queue>(bip::open_only, name.c_str());
    if (queueIdentity(name, trust) != before) return std::nullopt;  // replaced meanwhile
    return std::make_pair(std::move(queue), *before);
  } catch (const bip::interprocess_exception&) {
    return std::nullopt;
  }
}

proto::CommandResult internalErrorResult(const proto::CommandResult& original, std::string text) {
  proto::CommandResult out;
  out.set_status(proto::CommandResult::INTERNAL);
  out.set_error(std::move(text));
  out.set_answered_by(original.answered_by());
  out.set_served_by(original.served_by());
  return out;
}

// Sends results to requesters' reply queues. Shared by every Reply, so a handler may reply
// after the server is gone.
class ReplySender {
 public:
  explicit ReplySender(platform::ShmTrust trust) : trust_(std::move(trust)) {}

  void send(const std::string& reply_queue, uint64_t id, const proto::CommandResult& result) {
    QueuePtr queue = replyQueue(reply_queue);
    if (!queue) return;
    proto::BusResponse response;
    response.set_id(id);
    *response.mutable_result() = result;
    std::string bytes = response.SerializeAsString();
    const size_t limit = queue->get_max_msg_size();
    if (bytes.size() > limit) {
      LOG_ERROR << "local bus: result of " << result.ByteSizeLong() << " bytes for " << reply_queue
                << " exceeds its message size " << limit << ": answering INTERNAL";
      *response.mutable_result() = internalErrorResult(
          result, "result too large for the local bus (" + std::to_string(bytes.size()) +
                      " bytes, at most " + std::to_string(limit) + ")");
      bytes = response.SerializeAsString();
      if (bytes.size() > limit) return;
    }
    bool sent = false;
    try {
      sent = queue->timed_send(bytes.data(), bytes.size(), 0,
                               absoluteTime(Clock::now() + kReplySendTimeout));
    } catch (const bip::interprocess_exception& e) {
      forget(reply_queue);
      warnOnce(reply_queue, std::string("cannot be written (") + e.what() + ")");
      return;
    }
    if (!sent) {
      warnOnce(reply_queue, "is full");
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    warned_.erase(reply_queue);
  }

 private:
  struct Cached {
    QueuePtr queue;
    QueueIdentity identity;
  };

  QueuePtr replyQueue(const std::string& name) {
    std::optional<QueueIdentity> now = queueIdentity(name, trust_);
    if (!now) {
      forget(name);
      warnOnce(name, "does not exist");
      return nullptr;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = cache_.find(name);
      if (it != cache_.end() && it->second.identity == *now) return it->second.queue;
    }
    auto opened = openQueue(name, trust_);
    if (!opened) {
      warnOnce(name, "cannot be opened");
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (cache_.size() >= kMaxCachedReplyQueues && !cache_.count(name)) cache_.erase(cache_.begin());
    cache_[name] = Cached{opened->first, opened->second};
    return opened->first;
  }

  void forget(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    cache_.erase(name);
  }

  // One log line per reply queue while it stays broken, not one per reply.
  void warnOnce(const std::string& name, const std::string& problem) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (warned_.size() >= 64) warned_.clear();
      if (!warned_.insert(name).second) return;
    }
    LOG_WARNING << "local bus: reply queue " << name << " " << problem << ": dropping replies";
  }

  const platform::ShmTrust trust_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
  std::set<std::string> warned_;
};

}  // namespace

std::string busRequestQueueName(const std::string& array_id, SpId sp) {
  return "dualsp-" + array_id + "-sp" + std::string(1, spLetter(sp) + ('a' - 'A')) + "-bus";
}

std::string busReplyQueueName(const std::string& request_queue, pid_t client_pid) {
  return request_queue + "-reply-" + std::to_string(client_pid);
}

bool removeBusReplyQueue(const std::string& request_queue, pid_t client_pid) {
  return Queue::remove(busReplyQueueName(request_queue, client_pid).c_str());
}

// ---------------------------------------------------------------------------------------
// LocalBusServer

// One receive thread per queue. It owns what it uses (the queue, the handler, the reply
// sender), so a thread stuck for ever can be abandoned: glibc re-acquires the queue's mutex
// after a condition wait without any timeout, and a client killed while holding it leaves it
// locked for ever (chaos seeds 5 and 7). The server then moves to a new queue and a new thread.
struct Receiver {
  std::string name;
  LocalBusServer::Handler handler;
  QueuePtr queue;
  std::shared_ptr<ReplySender> sender;
  std::atomic<bool> running{true};
  std::promise<void> ended;

  void loop();
  void dispatch(proto::BusRequest& request);
};

void Receiver::loop() {
  std::vector<char> buffer(queue->get_max_msg_size());
  uint64_t failures = 0;
  while (running.load()) {
    size_t received = 0;
    unsigned int priority = 0;
    bool got = false;
    try {
      got = queue->timed_receive(buffer.data(), buffer.size(), received, priority,
                                 absoluteTime(Clock::now() + kReceivePoll));
    } catch (const bip::interprocess_exception& e) {
      // A lock held by a process that died (spd recreates the queue when its spweb ends).
      if (failures++ % 100 == 0)
        LOG_ERROR << "local bus: receive on " << name << " failed: " << e.what();
      std::this_thread::sleep_for(kReceivePoll);
      continue;
    }
    failures = 0;
    if (!got) continue;
    proto::BusRequest request;
    if (!request.ParseFromArray(buffer.data(), static_cast<int>(received)) ||
        request.reply_queue().empty()) {
      LOG_WARNING << "local bus: dropping an unreadable request of " << received << " bytes";
      continue;
    }
    dispatch(request);
  }
  ended.set_value();
}

void Receiver::dispatch(proto::BusRequest& request) {
  auto replied = std::make_shared<std::atomic<bool>>(false);
  LocalBusServer::Reply reply =
      [sender = sender, queue = request.reply_queue(), id = request.id(), replied,
       command = request.command().name()](const proto::CommandResult& result) {
        if (replied->exchange(true)) {
          LOG_ERROR << "local bus: second reply to " << command << " request " << id << " ignored";
          return;
        }
        sender->send(queue, id, result);
      };
  try {
    handler(request.command(), reply);
  } catch (const std::exception& e) {
    LOG_ERROR << "local bus: handler of " << request.command().name() << " threw: " << e.what();
    if (!replied->load()) {
      proto::CommandResult failed;
      reply(internalErrorResult(failed, std::string("handler failed: ") + e.what()));
    }
  }
}

struct LocalBusServer::Impl {
  std::string name;
  Handler handler;
  platform::ShmTrust trust;  // of the request queue
  QueuePtr queue;
  std::shared_ptr<ReplySender> sender;
  std::shared_ptr<Receiver> receiver;  // the running one, or null
  std::thread thread;
};

LocalBusServer::LocalBusServer(std::string request_queue_name, Handler handler,
                               std::optional<platform::UnixIdentity> web)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(request_queue_name);
  impl_->handler = std::move(handler);
  impl_->trust = requestQueueTrust(web);
  impl_->sender = std::make_shared<ReplySender>(replyQueueTrust(web));
  impl_->queue =
      createQueue(impl_->name, kBusRequestQueueMessages, kBusRequestMessageBytes, impl_->trust);
}

LocalBusServer::~LocalBusServer() {
  stop();
  impl_->queue.reset();
  Queue::remove(impl_->name.c_str());
}

void LocalBusServer::start() {
  if (impl_->receiver) return;
  auto r = std::make_shared<Receiver>();
  r->name = impl_->name;
  r->handler = impl_->handler;
  r->queue = impl_->queue;
  r->sender = impl_->sender;
  impl_->receiver = r;
  impl_->thread = std::thread([r] { r->loop(); });
}

void LocalBusServer::stop() {
  auto r = std::move(impl_->receiver);
  impl_->receiver.reset();
  if (!r) return;
  r->running = false;
  // A thread that does not end in time is stuck on a lock its holder took to its grave:
  // abandoned (it holds only its own receiver; it will never run again).
  if (r->ended.get_future().wait_for(kReceivePoll * 20) == std::future_status::ready) {
    impl_->thread.join();
  } else {
    LOG_ERROR << "local bus: the receive thread of " << impl_->name
              << " is stuck on a lock held by a process that died; abandoning it";
    impl_->thread.detach();
  }
}

void LocalBusServer::recreate() {
  const bool was_running = impl_->receiver != nullptr;
  stop();
  impl_->queue.reset();
  impl_->queue =
      createQueue(impl_->name, kBusRequestQueueMessages, kBusRequestMessageBytes, impl_->trust);
  if (was_running) start();
}

const std::string& LocalBusServer::name() const {
  return impl_->name;
}

// ---------------------------------------------------------------------------------------
// LocalBusClient

struct LocalBusClient::Impl {
  struct Pending {
    std::condition_variable answered;
    std::optional<proto::CommandResult> result;
  };

  std::string request_name;
  platform::ShmTrust request_trust;
  std::string reply_name;
  QueuePtr reply_queue;
  std::atomic<bool> running{true};
  std::thread receiver;
  std::atomic<uint64_t> next_id{1};

  std::mutex pending_mutex;
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  bool closed = false;  // under pending_mutex; see close()

  std::mutex queue_mutex;
  QueuePtr request_queue;  // spd's queue as last opened; null until needed
  QueueIdentity request_identity;

  // Whether spd answered the last call: logged when it changes, not per call.
  std::atomic<int> answering{-1};

  void receiveLoop();
  bool send(Queue& queue, const std::string& bytes, Clock::time_point deadline);
  QueuePtr requestQueue();
  void forgetRequestQueue(const QueuePtr& queue);
  void noteAnswering(bool now, const char* why);
};

void LocalBusClient::Impl::receiveLoop() {
  std::vector<char> buffer(reply_queue->get_max_msg_size());
  while (running.load()) {
    size_t received = 0;
    unsigned int priority = 0;
    bool got = false;
    try {
      got = reply_queue->timed_receive(buffer.data(), buffer.size(), received, priority,
                                       absoluteTime(Clock::now() + kReceivePoll));
    } catch (const bip::interprocess_exception& e) {
      LOG_ERROR << "local bus: receive on " << reply_name << " failed: " << e.what();
      std::this_thread::sleep_for(kReceivePoll);
      continue;
    }
    if (!got) continue;
    proto::BusResponse response;
    if (!response.ParseFromArray(buffer.data(), static_cast<int>(received))) {
      LOG_WARNING << "local bus: dropping an unreadable response of " << received << " bytes";
      continue;
    }
    std::lock_guard<std::mutex> lock(pending_mutex);
    auto it = pending.find(response.id());
    if (it == pending.end()) continue;  // its caller gave up already
    it->second->result = std::move(*response.mutable_result());
    it->second->answered.notify_one();
  }
}

// Waits for room in spd's queue in short slices, so close() ends the wait too.
bool LocalBusClient::Impl::send(Queue& queue, const std::string& bytes,
                                Clock::time_point deadline) {
  for (;;) {
    const Clock::time_point slice = std::min(deadline, Clock::now() + kReceivePoll);
    try {
      if (queue.timed_send(bytes.data(), bytes.size(), 0, absoluteTime(slice))) return true;
    } catch (const bip::interprocess_exception& e) {
      LOG_ERROR << "local bus: send on " << request_name << " failed: " << e.what();
      return false;
    }
    if (Clock::now() >= deadline) return false;
    std::lock_guard<std::mutex> lock(pending_mutex);
    if (closed) return false;
  }
}

QueuePtr LocalBusClient::Impl::requestQueue() {
  std::optional<QueueIdentity> now = queueIdentity(request_name, request_trust);
  std::lock_guard<std::mutex> lock(queue_mutex);
  if (!now) {
    request_queue.reset();
    return nullptr;
  }
  if (request_queue && request_identity == *now) return request_queue;
  auto opened = openQueue(request_name, request_trust);
  if (!opened) {
    request_queue.reset();
    return nullptr;
  }
  request_queue = opened->first;
  request_identity = opened->second;
  return request_queue;
}

void LocalBusClient::Impl::forgetRequestQueue(const QueuePtr& queue) {
  std::lock_guard<std::mutex> lock(queue_mutex);
  if (request_queue == queue) request_queue.reset();
}

void LocalBusClient::Impl::noteAnswering(bool now, const char* why) {
  int before = answering.exchange(now ? 1 : 0);
  if (before == (now ? 1 : 0)) return;
  if (now && before == 0)
    LOG_NOTICE << "local bus: spd answers again on " << request_name;
  else if (!now)
    LOG_WARNING << "local bus: " << request_name << " " << why;
}

LocalBusClient::LocalBusClient(std::string request_queue_name,
                               std::optional<platform::UnixIdentity> web)
    : impl_(std::make_unique<Impl>()) {
  impl_->request_name = std::move(request_queue_name);
  impl_->request_trust = requestQueueTrust(web);
  impl_->reply_name = busReplyQueueName(impl_->request_name, getpid());
  impl_->reply_queue =
      createQueue(impl_->reply_name, kBusReplyQueueMessages, kBusReplyMessageBytes);
  // Root about to become the web user (spweb): the queue is that user's from the start, so it
  // stays this process's own after the drop (spd answers it: replyQueueTrust).
  if (web && ::geteuid() == 0) {
    if (std::string why = platform::giveShmByName(impl_->reply_name, *web); !why.empty()) {
      impl_->reply_queue.reset();
      Queue::remove(impl_->reply_name.c_str());
      throw std::runtime_error("local bus queue " + impl_->reply_name + ": " + why);
    }
  }
  impl_->receiver = std::thread([impl = impl_.get()] { impl->receiveLoop(); });
}

LocalBusClient::~LocalBusClient() {
  impl_->running = false;
  if (impl_->receiver.joinable()) impl_->receiver.join();
  impl_->reply_queue.reset();
  Queue::remove(impl_->reply_name.c_str());
}

std::optional<proto::CommandResult> LocalBusClient::call(const proto::Command& command,
                                                         std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  const Clock::time_point deadline = Clock::now() + timeout;
  QueuePtr queue = d.requestQueue();
  if (!queue) {
    d.noteAnswering(false, "does not exist: spd is not running");
    return std::nullopt;
  }
  const uint64_t id = d.next_id.fetch_add(1);
  proto::BusRequest request;
  request.set_id(id);
  request.set_reply_queue(d.reply_name);
  *request.mutable_command() = command;
  const std::string bytes = request.SerializeAsString();
  if (bytes.size() > queue->get_max_msg_size()) {
    LOG_ERROR << "local bus: command " << command.name() << " of " << bytes.size()
              << " bytes exceeds the message size " << queue->get_max_msg_size();
    return std::nullopt;
  }

  auto pending = std::make_shared<Impl::Pending>();
  {
    std::lock_guard<std::mutex> lock(d.pending_mutex);
    if (d.closed) return std::nullopt;
    d.pending[id] = pending;
  }
  const bool sent = d.send(*queue, bytes, deadline);
  std::optional<proto::CommandResult> result;
  bool closed = false;
  {
    std::unique_lock<std::mutex> lock(d.pending_mutex);
    if (sent)
      pending->answered.wait_until(lock, deadline,
                                   [&] { return pending->result.has_value() || d.closed; });
    result = std::move(pending->result);
    closed = d.closed;
    d.pending.erase(id);
  }
  if (!result && !sent) {
    d.forgetRequestQueue(queue);
    d.noteAnswering(false, "is full");
    return std::nullopt;  // never reached spd: nothing was done
  }
  if (!result) {
    // spd got the command and may have carried it out (a change replicated, then spd killed
    // before its answer): not "nothing done", which is what nullopt promises.
    proto::CommandResult unanswered;
    unanswered.set_status(proto::CommandResult::UNANSWERED);
    if (closed) {  // spweb stopping: spd is not to blame
      unanswered.set_error(
          "this SP's web server stopped waiting for spd's answer (it is "
          "restarting); a change may have been applied: read it back");
      return unanswered;
    }
    // spd may be gone or restarted: look the queue up afresh next time.
    d.forgetRequestQueue(queue);
    d.noteAnswering(false, "did not answer in time");
    unanswered.set_error("spd did not answer within " + std::to_string(timeout.count()) +
                         " ms; a change may have been applied: read it back");
    return unanswered;
  }
  d.noteAnswering(true, "");
  return result;
}

void LocalBusClient::close() {
  size_t waiting = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->pending_mutex);
    if (impl_->closed) return;
    impl_->closed = true;
    waiting = impl_->pending.size();
    for (auto& [id, pending] : impl_->pending) pending->answered.notify_all();
  }
  LOG_INFO << "local bus: closed " << impl_->reply_name << "; " << waiting
           << " call(s) no longer wait for spd";
}

bool LocalBusClient::closed() const {
  std::lock_guard<std::mutex> lock(impl_->pending_mutex);
  return impl_->closed;
}

const std::string& LocalBusClient::requestQueueName() const {
  return impl_->request_name;
}

const std::string& LocalBusClient::replyQueueName() const {
  return impl_->reply_name;
}

}  // namespace dualsp::ipc
