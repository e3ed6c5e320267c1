// spctl: the array's command-line client (docs/SPCTL.md). One management address, a Redfish
// session cached per user, every request retried through a failover within a deadline and
// every change made at most once (Idempotency-Key). Human tables by default, --json for
// scripts, exit codes that say what happened.

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/spctl/client/client.hpp"
#include "tools/spctl/client/sse.hpp"
#include "tools/spctl/table.hpp"

namespace dualsp::spctl {
namespace {

using Json = nlohmann::json;

// docs/SPCTL.md "Exit status". Never renumbered.
enum Exit : int {
  kOk = 0,
  kRefused = 1,      // the array refused the request (4xx), with its message
  kUsage = 2,        // a mistake on the command line
  kAuth = 3,         // authentication failed (401) or not allowed (403)
  kNotFound = 4,     // no such resource (404)
  kUnreachable = 5,  // no answer within the deadline: for a change, outcome unknown
  kServerError = 6,  // the array failed (5xx) after the retries
  kTls = 7,          // the certificate is not trusted or not the pinned one
};

constexpr const char* kUsageText = R"(usage: spctl -a ADDRESS [options] COMMAND ...

options:
  -a, --address HOST[:PORT]   the array's management address ($SPCTL_ADDRESS)
  --http                      plain HTTP instead of HTTPS
  --cacert FILE               trust the certificates signed by FILE's CA
  --pin sha256:HEX            trust exactly the certificate with this SHA-256 fingerprint
  --insecure                  do not verify the certificate at all
  --credentials-file FILE     user=/password= lines (mode 600); else $SPCTL_USER and
                              $SPCTL_PASSWORD, else a prompt
  --deadline SECONDS          give up a request after this long, retries included (60)
  --no-cache                  do not keep the session token
  --json                      machine output
  -v, --verbose               say every retry and why, on stderr

commands:
  status                                  both SPs: role, health, faults, uptime
  events list [--top N]                   the array's event log (newest N, default 20)
  events follow [--from ID] [--for S] [--count N] [--idle S]
                                          events as they happen, each once, in order
  chassis show | set --asset-tag TEXT
  manager list | show SP
  failover [--yes]                        the active SP hands the role to its peer
  reset SP [--yes]                        restart an SP's firmware
  subscription list | create --destination URL [--context C] | delete ID
  account list | create NAME --role ROLE | delete NAME   (password: $SPCTL_NEW_PASSWORD or prompt)
  session list | logout
  pool list | create --name N --raid RAID --drives Disk0,Disk1,... [--owner SPA|SPB]
  volume list | show ID | create --pool P --name N --capacity SIZE [--owner SPA|SPB]
         | set ID [--name N] [--capacity SIZE] | delete ID | move ID
  host list
  get PATH | delete PATH | patch PATH JSON | post PATH JSON
)";

struct Global {
  std::string address;
  bool http = false;
  TlsOptions tls;
  std::string credentials_file;
  Millis deadline{60000};
  bool cache = true;
  bool json = false;
  bool verbose = false;
};

struct Failure {
  int code;
  std::string message;
};

// The words after the command: positional words and --name value / --flag options.
class Args {
 public:
  Args(std::vector<std::string> words, std::vector<std::string> flags) : flags_(std::move(flags)) {
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      if (w.rfind("--", 0) == 0 && w.size() > 2) {
        std::string name = w.substr(2);
        if (size_t eq = name.find('='); eq != std::string::npos) {
          options_[name.substr(0, eq)] = name.substr(eq + 1);
        } else if (std::find(flags_.begin(), flags_.end(), name) != flags_.end()) {
          options_[name] = "";
        } else if (i + 1 < words.size()) {
          options_[name] = words[++i];
        } else {
          throw Failure{kUsage, "--" + name + " needs a value"};
        }
      } else {
        positional_.push_back(w);
      }
    }
  }
  const std::vector<std::string>& positional() const { return positional_; }
  std::string word(size_t i, const std::string& what) const {
    if (i >= positional_.size()) throw Failure{kUsage, "missing " + what};
    return positional_[i];
  }
  std::optional<std::string> get(const std::string& name) const {
    auto it = options_.find(name);
    if (it == options_.end()) return std::nullopt;
    return it->second;
  }
  std::string need(const std::string& name) const {
    auto v = get(name);
    if (!v || v->empty()) throw Failure{kUsage, "--" + name + " is required"};
    return *v;
  }
  bool flag(const std::string& name) const { return options_.count(name) > 0; }
  // Every option given must be one the command knows.
  void only(std::initializer_list<const char*> known) const {
    for (const auto& [name, value] : options_) {
      bool ok = false;
      for (const char* k : known) ok = ok || name == k;
      if (!ok) throw Failure{kUsage, "unknown option --" + name};
    }
  }

 private:
  std::vector<std::string> flags_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

uint64_t number(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    unsigned long long n = std::stoull(text, &used);
    if (used == text.size()) return n;
  } catch (const std::exception&) {
  }
  throw Failure{kUsage, what + " must be a number, not '" + text + "'"};
}

// "107374182400", "100GiB", "1TiB", "512MiB"
uint64_t size(const std::string& text) {
  static const std::pair<const char*, uint64_t> units[] = {
      {"TiB", 1ULL << 40}, {"GiB", 1ULL << 30}, {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10},
      {"T", 1ULL << 40},   {"G", 1ULL << 30},   {"M", 1ULL << 20},   {"K", 1ULL << 10}};
  for (const auto& [suffix, scale] : units) {
    const std::string s = suffix;
    if (text.size() > s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0)
      return number(text.substr(0, text.size() - s.size()), "the size") * scale;
  }
  return number(text, "the size (bytes, or with KiB/MiB/GiB/TiB)");
}

std::string str(const Json& j, const char* key, const std::string& fallback = "-") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string readSecret(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO))
    throw Failure{kAuth,
                  "no password: set SPCTL_PASSWORD or use "
                  "--credentials-file (stdin is not a terminal)"};
  std::cerr << prompt << std::flush;
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string secret;
  std::getline(std::cin, secret);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return secret;
}

bool confirm(const Global& g, const Args& args, const std::string& question) {
  if (args.flag("yes")) return true;
  if (!::isatty(STDIN_FILENO)) throw Failure{kUsage, question + ": add --yes to confirm"};
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

class Session {
 public:
  explicit Session(const Global& g) : g_(g) {
    ClientOptions o;
    o.address = g.address;
    o.scheme = g.http ? "http" : "https";
    o.tls = g.tls;
    o.deadline = g.deadline;
    o.user = userName();
    o.cache_directory = g.cache ? TokenCache::defaultDirectory() : std::string();
    if (g.verbose) o.log = [](const std::string& s) { std::cerr << "spctl: " << s << "\n"; };
    client_.emplace(o, [this](std::string& error) { return credentials(error); });
  }

  Client& client() { return *client_; }

  // A request whose answer must be 2xx: its JSON body (null when none), or a Failure.
  Json call(const std::string& method, const std::string& path, const Json& body = nullptr,
            Result* out = nullptr, const std::string& key = {}) {
    Result r = client_->request(method, path, body.is_null() ? std::string() : body.dump(), key);
    if (out) *out = r;
    checkRequest(r, method, path);
    if (r.response.body.empty()) return nullptr;
    Json j = Json::parse(r.response.body, nullptr, false);
    return j.is_discarded() ? Json(r.response.body) : j;
  }

  // check() of a request that may have stopped at its login.
  void checkRequest(const Result& r, const std::string& method, const std::string& path) const {
    if (client_->loginFailure())
      check(*client_->loginFailure(), "login as " + client_->options().user, "");
    check(r, method, path);
  }

  void check(const Result& r, const std::string& method, const std::string& path) const {
    const HttpResponse& h = r.response;
    const std::string what = path.empty() ? method : method + " " + path;
    switch (h.kind) {
      case Outcome::Kind::TlsRefused:
        throw Failure{kTls, what + ": TLS: " + h.error};
      case Outcome::Kind::Unreachable:
        throw Failure{kUnreachable, what + ": the array did not answer within " +
                                        std::to_string(g_.deadline.count() / 1000) + " s (" +
                                        h.error + "); nothing was sent"};
      case Outcome::Kind::Cut:
        throw Failure{kUnreachable,
                      what + ": no answer within the deadline (" + h.error + ")" +
                          (r.key.empty() ? ""
                                         : "; the change may have been made: run it again "
                                           "with --idempotency-key " +
                                               r.key)};
      case Outcome::Kind::Answered:
        break;
    }
    if (h.status >= 200 && h.status < 300) return;
    std::string message = redfishMessage(h);
    if (!h.error.empty() && message.empty()) message = h.error;
    const std::string text =
        what + ": " + std::to_string(h.status) + (message.empty() ? "" : " " + message);
    if (h.status == 401 || h.status == 403) throw Failure{kAuth, text};
    if (h.status == 404) throw Failure{kNotFound, text};
    if (h.status >= 500) throw Failure{kServerError, text};
    throw Failure{kRefused, text};
  }

  static std::string redfishMessage(const HttpResponse& h) {
    Json j = Json::parse(h.body, nullptr, false);
    if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return {};
    const Json& e = j["error"];
    std::string out;
    if (e.contains("@Message.ExtendedInfo") && e["@Message.ExtendedInfo"].is_array())
      for (const Json& info : e["@Message.ExtendedInfo"])
        out += (out.empty() ? "" : "; ") + str(info, "MessageId", "") + ": " +
               str(info, "Message", "");
    if (out.empty()) out = str(e, "code", "") + ": " + str(e, "message", "");
    return out;
  }

 private:
  std::string userName() const {
    if (!g_.credentials_file.empty()) {
      std::string error;
      if (auto c = readCredentialsFile(g_.credentials_file, error); c && !c->user.empty())
        return c->user;
    }
    if (const char* u = std::getenv("SPCTL_USER"); u && *u) return u;
    return "admin";
  }

  std::optional<Credentials> credentials(std::string& error) const {
    if (!g_.credentials_file.empty()) {
      auto c = readCredentialsFile(g_.credentials_file, error);
      if (c && c->user.empty()) c->user = "admin";
      return c;
    }
    Credentials c{userName(), ""};
    if (const char* p = std::getenv("SPCTL_PASSWORD"); p) {
      c.password = p;
      return c;
    }
    c.password = readSecret("Password for " + c.user + "@" + g_.address + ": ");
    return c;
  }

  const Global& g_;
  std::optional<Client> client_;
};

void print(const Global& g, const Json& j) {
  std::cout << (g.json ? j.dump() : j.dump(2)) << "\n";
}

Json members(Session& s, const std::string& collection) {
  Json c = s.call("GET", collection + "?$expand=.");
  return c.is_object() && c.contains("Members") ? c["Members"] : Json::array();
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "A", "spa", "SPA", "SP-A" -> "SPA"
std::string managerId(const std::string& word) {
  std::string u = upper(word);
  if (u == "A" || u == "SPA" || u == "SP-A") return "SPA";
  if (u == "B" || u == "SPB" || u == "SP-B") return "SPB";
  throw Failure{kUsage, "no SP '" + word + "' (SPA or SPB)"};
}

std::string duration(uint64_t seconds) {
  const uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60;
  if (d) return std::to_string(d) + "d" + std::to_string(h) + "h";
  if (h) return std::to_string(h) + "h" + std::to_string(m) + "m";
  return std::to_string(m) + "m" + std::to_string(seconds % 60) + "s";
}

// --- status, managers ---------------------------------------------------------------------

Json managerSummary(const Json& m) {
  const Json oem = m.contains("Oem") && m["Oem"].contains("DualSP") ? m["Oem"]["DualSP"] : Json();
  Json faults = Json::array();
  if (oem.is_object() && oem.contains("Faults") && oem["Faults"].is_array())
    for (const Json& f : oem["Faults"]) faults.push_back(str(f, "Message", f.dump()));
  return {{"Id", str(m, "Id")},
          {"Role", oem.is_object() ? str(oem, "Role") : "-"},
          {"State", m.contains("Status") ? str(m["Status"], "State") : "-"},
          {"Health", m.contains("Status") ? str(m["Status"], "Health") : "-"},
          // Stale: the SP does not answer; the role is the last one known (a dead active SP
          // still says "active" there), never the one to send an action to.
          {"Stale", oem.is_object() && oem.value("Stale", false)},
          {"HoldsFloatingIp", oem.is_object() && oem.value("HoldsFloatingIp", false)},
          {"UptimeSeconds", oem.is_object() ? oem.value("UptimeSeconds", Json()) : Json()},
          {"FirmwareVersion", m.value("FirmwareVersion", Json())},
          {"Faults", faults}};
}

int cmdStatus(const Global& g, Session& s, const Args& a) {
  a.only({});
  Json out = Json::array();
  for (const Json& m : members(s, "/redfish/v1/Managers")) out.push_back(managerSummary(m));
  if (g.json) {
    print(g, out);
    return kOk;
  }
  Table t({"SP", "ROLE", "STATE", "HEALTH", "ADDRESS", "UPTIME", "FAULTS"});
  for (const Json& m : out) {
    std::string faults;
    for (const Json& f : m["Faults"]) faults += (faults.empty() ? "" : "; ") + f.get<std::string>();
    const std::string role = m["Stale"].get<bool>()
                                 ? "unreachable (was " + m["Role"].get<std::string>() + ")"
                                 : m["Role"].get<std::string>();
    t.add({m["Id"], role, m["State"], m["Health"],
           m["HoldsFloatingIp"].get<bool>() ? "holds it" : "-",
           m["UptimeSeconds"].is_number() ? duration(m["UptimeSeconds"].get<uint64_t>()) : "-",
           faults.empty() ? "none" : faults});
  }
  std::cout << t.render();
  return kOk;
}

int cmdManager(const Global& g, Session& s, const Args& a) {
  a.only({});
  const std::string verb = a.word(1, "list or show");
  if (verb == "list") return cmdStatus(g, s, Args({}, {}));
  if (verb == "show") {
    print(g, s.call("GET", "/redfish/v1/Managers/" + managerId(a.word(2, "the SP"))));
    return kOk;
  }
  throw Failure{kUsage, "manager " + verb + ": list or show"};
}

std::string activeManager(Session& s) {
  for (const Json& m : members(s, "/redfish/v1/Managers"))
    if (Json s = managerSummary(m); s["Role"] == "active" && !s["Stale"].get<bool>())
      return m["Id"];
  throw Failure{kServerError, "no SP says it is active"};
}

int cmdFailover(const Global& g, Session& s, const Args& a) {
  a.only({"yes"});
  const std::string active = activeManager(s);
  if (!confirm(g, a,
               active + " is active: hand the role (and the management address) to its peer?"))
    return kRefused;
  Result r;
  s.call("POST", "/redfish/v1/Managers/" + active + "/Actions/Manager.ForceFailover",
         Json::object(), &r);
  if (g.json)
    print(g, {{"HandedOverBy", active}, {"Replayed", r.replayed}});
  else
    std::cout << active << " handed the role over" << (r.replayed ? " (replayed)" : "") << "\n";
  return kOk;
}

int cmdReset(const Global& g, Session& s, const Args& a) {
  a.only({"yes", "type"});
  const std::string sp = managerId(a.word(1, "the SP"));
  const std::string type = a.get("type").value_or("GracefulRestart");
  if (!confirm(g, a, "Reset " + sp + " (" + type + ")?")) return kRefused;
  s.call("POST", "/redfish/v1/Managers/" + sp + "/Actions/Manager.Reset", {{"ResetType", type}});
  if (!g.json) std::cout << sp << ": reset requested (" << type << ")\n";
  return kOk;
}

// --- events -------------------------------------------------------------------------------

std::string eventsPath(Session& s) {
  // The array's log is the same on both SPs; the serving SP answers for either id.
  for (const char* sp : {"SPA", "SPB"}) {
    const std::string path =
        std::string("/redfish/v1/Managers/") + sp + "/LogServices/Events/Entries";
    Result r = s.client().request("GET", path + "?$top=1");
    if (r.answered() && r.response.status == 200) return path;
  }
  throw Failure{kServerError, "the event log is not readable on either SP"};
}

int cmdEventsList(const Global& g, Session& s, const Args& a) {
  a.only({"top"});
  const uint64_t top = a.get("top") ? number(*a.get("top"), "--top") : 20;
  const std::string path = eventsPath(s);
  const Json head = s.call("GET", path + "?$top=1");
  const uint64_t count = head.value("Members@odata.count", 0);
  const uint64_t skip = count > top ? count - top : 0;
  Json entries = Json::array();
  for (uint64_t at = skip; at < count;) {
    Json page = s.call("GET", path + "?$skip=" + std::to_string(at) + "&$top=1000");
    const Json& m = page["Members"];
    if (m.empty()) break;
    for (const Json& e : m) entries.push_back(e);
    at += m.size();
  }
  if (g.json) {
    for (const Json& e : entries)
      std::cout << Json{{"Id", str(e, "Id")},
                        {"Created", str(e, "Created")},
                        {"Severity", str(e, "Severity")},
                        {"MessageId", str(e, "MessageId")},
                        {"Message", str(e, "Message")}}
                       .dump()
                << "\n";
    return kOk;
  }
  Table t({"ID", "TIME", "SEVERITY", "MESSAGE"});
  for (const Json& e : entries)
    t.add({str(e, "Id"), str(e, "Created"), str(e, "Severity"), str(e, "Message")});
  std::cout << t.render();
  return kOk;
}

std::atomic<bool> g_interrupted{false};

void onInterrupt(int) {
  g_interrupted = true;
}

int cmdEventsFollow(const Global& g, Session& s, const Args& a) {
  a.only({"from", "for", "count", "idle"});
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const auto started = std::chrono::steady_clock::now();
  const std::optional<Millis> bound =
      a.get("for") ? std::optional<Millis>(Millis{number(*a.get("for"), "--for") * 1000})
                   : std::nullopt;
  const uint64_t count = a.get("count") ? number(*a.get("count"), "--count") : 0;
  const Millis idle{(a.get("idle") ? number(*a.get("idle"), "--idle") : 15) * 1000};
  std::optional<uint64_t> last =
      a.get("from") ? std::optional<uint64_t>(number(*a.get("from"), "--from")) : std::nullopt;
  EventDedup dedup(last.value_or(0));
  uint64_t shown = 0;
  auto keep_going = [&] {
    if (g_interrupted) return false;
    if (count && shown >= count) return false;
    return !bound || std::chrono::steady_clock::now() - started < *bound;
  };
  Client& c = s.client();
  if (std::string why = c.ensureSession(); !why.empty()) {
    if (c.loginFailure()) s.check(*c.loginFailure(), "POST", "/redfish/v1/SessionService/Sessions");
    throw Failure{kAuth, why};
  }
  int attempt = 0;
  std::mt19937_64 random(std::random_device{}());
  while (keep_going()) {
    // A token is read again each time: a 401 below logs in again (the cache may be stale).
    HttpRequest request;
    request.url = c.url("/redfish/v1/EventService/SSE");
    request.connect_timeout = Millis{2000};
    request.headers.emplace_back("Accept", "text/event-stream");
    Result probe;  // the session, checked through the client (its retries and relogin)
    SseParser parser;
    bool opened = false;
    HttpResponse r;
    // The session checked (and renewed if the array no longer knows it) through the client,
    // with its retries: after a failover this also waits for the new active SP to answer.
    probe = c.request("GET", "/redfish/v1/SessionService");
    s.checkRequest(probe, "GET", "/redfish/v1/SessionService");
    request.headers.emplace_back("X-Auth-Token", c.token());
    if (dedup.last() > 0 || last)
      request.headers.emplace_back("Last-Event-ID", std::to_string(dedup.last()));
    r = stream(
        request, c.options().tls, idle,
        [&](std::string_view bytes) {
          opened = true;
          for (const SseEvent& e : parser.feed(bytes)) {
            if (!dedup.admit(e)) continue;
            Json payload = Json::parse(e.data, nullptr, false);
            Json record =
                payload.is_object() && payload.contains("Events") && !payload["Events"].empty()
                    ? payload["Events"][0]
                    : Json::object();
            Json line = {{"Id", e.id},
                         {"EventTimestamp", str(record, "EventTimestamp")},
                         {"Severity", str(record, "MessageSeverity")},
                         {"MessageId", str(record, "MessageId")},
                         {"Message", str(record, "Message")}};
            if (record.contains("OriginOfCondition"))
              line["OriginOfCondition"] = str(record["OriginOfCondition"], "@odata.id");
            if (g.json)
              std::cout << line.dump() << std::endl;
            else
              std::cout << e.id << "  " << line["EventTimestamp"].get<std::string>() << "  "
                        << line["Severity"].get<std::string>() << "  "
                        << line["Message"].get<std::string>() << std::endl;
            ++shown;
            if (count && shown >= count) return false;
          }
          return keep_going();
        },
        keep_going);
    if (!keep_going()) break;
    if (r.kind == Outcome::Kind::TlsRefused) throw Failure{kTls, "event stream: " + r.error};
    if (r.kind == Outcome::Kind::Answered && (r.status == 401 || r.status == 403))
      throw Failure{kAuth, "event stream: " + std::to_string(r.status)};
    attempt = opened ? 1 : attempt + 1;
    const Millis wait = backoff(attempt, std::uniform_real_distribution<double>(0, 1)(random));
    if (g.verbose)
      std::cerr << "spctl: event stream ended ("
                << (r.kind == Outcome::Kind::Answered ? "status " + std::to_string(r.status)
                                                      : r.error)
                << "); reconnecting with Last-Event-ID " << dedup.last() << " in " << wait.count()
                << " ms\n";
    for (auto until = std::chrono::steady_clock::now() + wait;
         std::chrono::steady_clock::now() < until && keep_going();)
      std::this_thread::sleep_for(Millis{10});
  }
  if (dedup.gaps() > 0)
    std::cerr << "spctl: " << dedup.gaps() << " event id(s) were never sent (see docs/EVENTS.md)\n";
  return kOk;
}

// --- chassis, subscriptions, accounts, sessions ----------------------------------------------

int cmdChassis(const Global& g, Session& s, const Args& a) {
  a.only({"asset-tag"});
  const std::string verb = a.word(1, "show or set");
  const std::string path = "/redfish/v1/Chassis/Enclosure";
  if (verb == "show") {
    Json c = s.call("GET", path);
    if (g.json) {
      print(g, c);
      return kOk;
    }
    Table t({"PROPERTY", "VALUE"});
    for (const char* k :
         {"Id", "Name", "Manufacturer", "Model", "SerialNumber", "AssetTag", "PowerState"})
      t.add({k, str(c, k)});
    if (c.contains("Status")) t.add({"Health", str(c["Status"], "Health")});
    std::cout << t.render();
    return kOk;
  }
  if (verb == "set") {
    Json body = Json::object();
    if (auto tag = a.get("asset-tag")) body["AssetTag"] = *tag;
    if (body.empty()) throw Failure{kUsage, "chassis set: nothing to set (--asset-tag)"};
    Json c = s.call("PATCH", path, body);
    if (g.json) print(g, c);
    return kOk;
  }
  throw Failure{kUsage, "chassis " + verb + ": show or set"};
}

int cmdList(const Global& g, Session& s, const std::string& collection,
            const std::vector<std::pair<std::string, std::string>>& columns) {
  Json m = members(s, collection);
  if (g.json) {
    print(g, m);
    return kOk;
  }
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(c.first);
  Table t(header);
  for (const Json& item : m) {
    std::vector<std::string> row;
    for (const auto& c : columns) {
      // "a/b" reaches into objects.
      Json v = item;
      std::string key = c.second;
      for (size_t at = 0; at != std::string::npos;) {
        size_t slash = key.find('/', at);
        std::string part = key.substr(at, slash == std::string::npos ? slash : slash - at);
        v = v.is_object() && v.contains(part) ? v[part] : Json();
        at = slash == std::string::npos ? slash : slash + 1;
      }
      row.push_back(v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump());
    }
    t.add(row);
  }
  std::cout << t.render();
  return kOk;
}

void printCreated(const Global& g, const Json& body, const Result& r) {
  if (g.json) {
    print(g, body.is_null() ? Json{{"Location", r.response.header("location")}} : body);
    return;
  }
  std::string id = str(body, "Id", "");
  if (id.empty()) {
    id = r.response.header("location");
    if (size_t slash = id.rfind('/'); slash != std::string::npos) id = id.substr(slash + 1);
  }
  std::cout << id << "\n";
}

int cmdSubscription(const Global& g, Session& s, const Args& a) {
  a.only({"destination", "context", "protocol"});
  const std::string verb = a.word(1, "list, create or delete");
  const std::string path = "/redfish/v1/EventService/Subscriptions";
  if (verb == "list")
    return cmdList(g, s, path,
                   {{"ID", "Id"},
                    {"DESTINATION", "Destination"},
                    {"CONTEXT", "Context"},
                    {"PROTOCOL", "Protocol"}});
  if (verb == "create") {
    Json body = {{"Destination", a.need("destination")},
                 {"Protocol", a.get("protocol").value_or("Redfish")}};
    if (auto c = a.get("context")) body["Context"] = *c;
    Result r;
    printCreated(g, s.call("POST", path, body, &r), r);
    return kOk;
  }
  if (verb == "delete") {
    s.call("DELETE", path + "/" + a.word(2, "the subscription id"));
    return kOk;
  }
  throw Failure{kUsage, "subscription " + verb + ": list, create or delete"};
}

int cmdAccount(const Global& g, Session& s, const Args& a) {
  a.only({"role"});
  const std::string verb = a.word(1, "list, create or delete");
  const std::string path = "/redfish/v1/AccountService/Accounts";
  if (verb == "list")
    return cmdList(
        g, s, path,
        {{"NAME", "UserName"}, {"ROLE", "RoleId"}, {"ENABLED", "Enabled"}, {"LOCKED", "Locked"}});
  if (verb == "create") {
    const std::string name = a.word(2, "the account name");
    std::string password;
    if (const char* p = std::getenv("SPCTL_NEW_PASSWORD"); p)
      password = p;
    else
      password = readSecret("Password for the new account " + name + ": ");
    Result r;
    printCreated(
        g,
        s.call("POST", path,
               {{"UserName", name}, {"Password", password}, {"RoleId", a.need("role")}}, &r),
        r);
    return kOk;
  }
  if (verb == "delete") {
    const std::string name = a.word(2, "the account name");
    for (const Json& m : members(s, path))
      if (str(m, "UserName") == name) {
        s.call("DELETE", path + "/" + str(m, "Id"));
        return kOk;
      }
    throw Failure{kNotFound, "no account " + name};
  }
  throw Failure{kUsage, "account " + verb + ": list, create or delete"};
}

int cmdSession(const Global& g, Session& s, const Args& a) {
  a.only({});
  const std::string verb = a.word(1, "list or logout");
  if (verb == "list")
    return cmdList(g, s, "/redfish/v1/SessionService/Sessions",
                   {{"ID", "Id"},
                    {"USER", "UserName"},
                    {"CREATED", "CreatedTime"},
                    {"CLIENT", "ClientOriginIPAddress"}});
  if (verb == "logout") {
    Result r = s.client().logout();
    if (r.response.kind != Outcome::Kind::Answered || r.response.status >= 300)
      s.check(r, "DELETE", "the session");
    if (!g.json) std::cout << "logged out\n";
    return kOk;
  }
  throw Failure{kUsage, "session " + verb + ": list or logout"};
}

// --- storage ------------------------------------------------------------------------------

constexpr const char* kPools = "/redfish/v1/Storage/Array/StoragePools";
constexpr const char* kVolumes = "/redfish/v1/Storage/Array/Volumes";
constexpr const char* kDrives = "/redfish/v1/Chassis/Enclosure/Drives";

Json owner(const std::string& word) {
  return {{"DualSP", {{"DefaultOwner", managerId(word)}}}};
}

int cmdPool(const Global& g, Session& s, const Args& a) {
  a.only({"name", "raid", "drives", "owner"});
  const std::string verb = a.word(1, "list or create");
  if (verb == "list")
    return cmdList(g, s, kPools,
                   {{"ID", "Id"},
                    {"NAME", "Name"},
                    {"RAID", "SupportedRAIDTypes"},
                    {"BYTES", "Capacity/Data/AllocatedBytes"},
                    {"OWNER", "Oem/DualSP/DefaultOwner"},
                    {"HEALTH", "Status/Health"}});
  if (verb == "create") {
    Json drives = Json::array();
    const std::string list = a.need("drives");
    for (size_t at = 0; at <= list.size();) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      if (comma > at)
        drives.push_back({{"@odata.id", std::string(kDrives) + "/" + list.substr(at, comma - at)}});
      at = comma + 1;
    }
    Json body = {{"Name", a.need("name")},
                 {"SupportedRAIDTypes", Json::array({a.get("raid").value_or("RAID5")})},
                 {"CapacitySources", Json::array({{{"ProvidingDrives", drives}}})}};
    if (auto o = a.get("owner")) body["Oem"] = owner(*o);
    Result r;
    printCreated(g, s.call("POST", kPools, body, &r), r);
    return kOk;
  }
  throw Failure{kUsage, "pool " + verb + ": list or create"};
}

int cmdVolume(const Global& g, Session& s, const Args& a) {
  a.only({"pool", "name", "capacity", "owner", "idempotency-key"});
  const std::string verb = a.word(1, "list, show, create, set, delete or move");
  const std::string key = a.get("idempotency-key").value_or("");
  auto call = [&](const std::string& method, const std::string& path, const Json& body,
                  Result* out) { return s.call(method, path, body, out, key); };
  if (verb == "list")
    return cmdList(g, s, kVolumes,
                   {{"ID", "Id"},
                    {"NAME", "Name"},
                    {"BYTES", "CapacityBytes"},
                    {"OWNER", "Oem/DualSP/CurrentOwner"},
                    {"HEALTH", "Status/Health"}});
  if (verb == "show") {
    print(g, s.call("GET", std::string(kVolumes) + "/" + a.word(2, "the volume id")));
    return kOk;
  }
  if (verb == "create") {
    Json body = {
        {"Name", a.need("name")},
        {"CapacityBytes", size(a.need("capacity"))},
        {"CapacitySources",
         Json::array({{{"ProvidingPools", Json::array({{{"@odata.id", std::string(kPools) + "/" +
                                                                          a.need("pool")}}})}}})}};
    if (auto o = a.get("owner")) body["Oem"] = owner(*o);
    Result r;
    Json created = call("POST", kVolumes, body, &r);
    printCreated(g, created, r);
    return kOk;
  }
  const std::string id = a.word(2, "the volume id");
  const std::string path = std::string(kVolumes) + "/" + id;
  if (verb == "set") {
    Json body = Json::object();
    if (auto n = a.get("name")) body["Name"] = *n;
    if (auto c = a.get("capacity")) body["CapacityBytes"] = size(*c);
    if (body.empty()) throw Failure{kUsage, "volume set: nothing to set (--name, --capacity)"};
    Json v = call("PATCH", path, body, nullptr);
    if (g.json) print(g, v);
    return kOk;
  }
  if (verb == "delete") {
    call("DELETE", path, nullptr, nullptr);
    return kOk;
  }
  if (verb == "move") {
    call("POST", path + "/Actions/Oem/DualSPVolume.Move", Json::object(), nullptr);
    return kOk;
  }
  throw Failure{kUsage, "volume " + verb + ": list, show, create, set, delete or move"};
}

int cmdHost(const Global& g, Session& s, const Args& a) {
  a.only({});
  const std::string verb = a.word(1, "list");
  if (verb != "list") throw Failure{kUsage, "host " + verb + ": list"};
  Json fabrics = members(s, "/redfish/v1/Fabrics");
  Json all = Json::array();
  Table t({"FABRIC", "ID", "NAME", "KIND"});
  for (const Json& f : fabrics) {
    const std::string fid = str(f, "Id");
    for (const Json& h : members(s, "/redfish/v1/Fabrics/" + fid + "/EndpointGroups")) {
      all.push_back(h);
      t.add({fid, str(h, "Id"), str(h, "Name"),
             h.contains("Oem") && h["Oem"].contains("DualSP") ? str(h["Oem"]["DualSP"], "Kind")
                                                              : "Host"});
    }
  }
  if (g.json)
    print(g, all);
  else
    std::cout << t.render();
  return kOk;
}

int cmdRaw(const Global& g, Session& s, const std::string& method, const Args& a) {
  a.only({"idempotency-key"});
  std::string path = a.word(1, "the path");
  if (path.rfind("/redfish", 0) != 0) throw Failure{kUsage, "the path starts with /redfish"};
  std::string body;
  if (method == "PATCH" || method == "POST") {
    body = a.word(2, "the JSON body");
    if (Json::parse(body, nullptr, false).is_discarded())
      throw Failure{kUsage, "the body is not JSON: " + body};
  }
  Result r = s.client().request(method, path, body, a.get("idempotency-key").value_or(""));
  s.checkRequest(r, method, path);
  Json j = Json::parse(r.response.body, nullptr, false);
  if (!r.response.body.empty()) {
    if (j.is_discarded())
      std::cout << r.response.body << "\n";
    else
      print(g, j);
  }
  return kOk;
}

int dispatch(const Global& g, const std::vector<std::string>& words) {
  if (words.empty()) throw Failure{kUsage, "no command"};
  const std::string& command = words[0];
  Args a(words, {"yes"});
  Session s(g);
  if (command == "status") return cmdStatus(g, s, a);
  if (command == "events") {
    const std::string verb = a.word(1, "list or follow");
    if (verb == "list") return cmdEventsList(g, s, a);
    if (verb == "follow") return cmdEventsFollow(g, s, a);
    throw Failure{kUsage, "events " + verb + ": list or follow"};
  }
  if (command == "chassis") return cmdChassis(g, s, a);
  if (command == "manager") return cmdManager(g, s, a);
  if (command == "failover") return cmdFailover(g, s, a);
  if (command == "reset") return cmdReset(g, s, a);
  if (command == "subscription") return cmdSubscription(g, s, a);
  if (command == "account") return cmdAccount(g, s, a);
  if (command == "session" || command == "logout")
    return cmdSession(g, s, command == "logout" ? Args({"session", "logout"}, {}) : a);
  if (command == "pool") return cmdPool(g, s, a);
  if (command == "volume") return cmdVolume(g, s, a);
  if (command == "host") return cmdHost(g, s, a);
  if (command == "get") return cmdRaw(g, s, "GET", a);
  if (command == "delete") return cmdRaw(g, s, "DELETE", a);
  if (command == "patch") return cmdRaw(g, s, "PATCH", a);
  if (command == "post") return cmdRaw(g, s, "POST", a);
  throw Failure{kUsage, "unknown command '" + command + "'"};
}

int run(int argc, char** argv) {
  Global g;
  if (const char* a = std::getenv("SPCTL_ADDRESS"); a) g.address = a;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    auto value = [&](const std::string& name) -> std::string {
      if (i + 1 >= argc) throw Failure{kUsage, name + " needs a value"};
      return argv[++i];
    };
    if (!words.empty()) {
      words.push_back(w);
      continue;
    }
    if (w == "-a" || w == "--address") {
      g.address = value(w);
    } else if (w == "--http") {
      g.http = true;
    } else if (w == "--cacert") {
      g.tls.ca_file = value(w);
    } else if (w == "--pin") {
      const std::string pin = value(w);
      g.tls.pin_sha256 = normalisePin(pin);
      if (g.tls.pin_sha256.empty())
        throw Failure{kUsage, "--pin wants sha256: and 64 hex digits (colons allowed), not " + pin};
    } else if (w == "--insecure") {
      g.tls.verify = false;
    } else if (w == "--credentials-file") {
      g.credentials_file = value(w);
    } else if (w == "--deadline") {
      g.deadline = Millis{number(value(w), "--deadline") * 1000};
    } else if (w == "--no-cache") {
      g.cache = false;
    } else if (w == "--json") {
      g.json = true;
    } else if (w == "-v" || w == "--verbose") {
      g.verbose = true;
    } else if (w == "-h" || w == "--help") {
      std::cout << kUsageText;
      return kOk;
    } else if (w == "--password" || w.rfind("--password=", 0) == 0) {
      throw Failure{kUsage,
                    "passwords are never taken on the command line: use $SPCTL_PASSWORD, "
                    "--credentials-file or the prompt"};
    } else if (w.rfind("-", 0) == 0) {
      throw Failure{kUsage, "unknown option " + w};
    } else {
      words.push_back(w);
    }
  }
  if (g.address.empty()) throw Failure{kUsage, "no address: -a ADDRESS or $SPCTL_ADDRESS"};
  if (!g.credentials_file.empty()) {
    std::string error;
    if (!readCredentialsFile(g.credentials_file, error)) throw Failure{kAuth, error};
  }
  return dispatch(g, words);
}

}  // namespace
}  // namespace dualsp::spctl

int main(int argc, char** argv) {
  using namespace dualsp::spctl;
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const Failure& f) {
    std::cerr << "spctl: " << f.message << "\n";
    if (f.code == kUsage) std::cerr << "(spctl --help for the commands)\n";
    return f.code;
  } catch (const std::exception& e) {
    std::cerr << "spctl: " << e.what() << "\n";
    return kServerError;
  }
}
