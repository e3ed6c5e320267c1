// The array's HTTPS certificate (sp/https_certificate.hpp) over an in-memory store that both
// SPs' instances share, as replication makes it: the active SP makes one when there is none,
// both install the same certificate and key, the key is sealed in the record and never in an
// answer, a replacement is checked before anything is written, and a failed write is retried.

#include <CppUTest/TestHarness.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "platform/tls_certificate.hpp"
#include "sp/https_certificate.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using json = nlohmann::json;

namespace {

const std::string kPairKey(32, 'k');

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

platform::CertificateAndKey selfSigned(const std::string& cn, int days = 30) {
  std::string error;
  auto made =
      platform::makeSelfSigned({.common_name = cn, .ip_addresses = {}, .days = days}, error);
  CHECK_TEXT(made.has_value(), error.c_str());
  return *made;
}

struct Pair {
  std::string dir;
  std::mutex mu;
  std::map<std::string, std::string> store;
  std::vector<proto::ConfigWrite> writes;
  std::optional<proto::CommandResult::Status> fail_writes;
  std::optional<SpId> active = SpId::A;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  std::unique_ptr<HttpsCertificate> a, b;

  Pair() {
    char tmpl[] = "/tmp/https-cert-test-XXXXXX";
    dir = mkdtemp(tmpl);
    a = make(SpId::A, kPairKey);
    b = make(SpId::B, kPairKey);
  }
  ~Pair() {
    a.reset();
    b.reset();
    std::system(("rm -rf " + dir).c_str());
  }

  std::string file(SpId sp) const { return dir + "/" + std::string(spName(sp)) + ".pem"; }

  std::unique_ptr<HttpsCertificate> make(SpId sp, const std::string& key) {
    HttpsCertificate::Dependencies d;
    d.self = sp;
    d.list = [this](const std::string& prefix) {
      std::lock_guard lock(mu);
      std::vector<ConfigRecord> out;
      for (auto& [k, v] : store)
        if (k.rfind(prefix, 0) == 0) {
          ConfigRecord r;
          r.set_key(k);
          r.set_value(v);
          out.push_back(r);
        }
      return out;
    };
    d.write = [this](proto::Command c, Reply reply) {
      CHECK_EQUAL(std::string("1"), c.args().at("private"));
      proto::ConfigWrite w;
      CHECK(w.ParseFromString(c.payload()));
      std::vector<ConfigRecord> applied;
      {
        std::lock_guard lock(mu);
        writes.push_back(w);
        if (fail_writes) {
          proto::CommandResult r;
          r.set_status(*fail_writes);
          r.set_error("scripted");
          return reply(r);
        }
        for (const auto& r : w.records()) {
          store[r.key()] = r.value();
          applied.push_back(r);
        }
      }
      // Replicated: both SPs' listeners see the record.
      for (const auto& r : applied) {
        a->onRecord(r);
        b->onRecord(r);
      }
      proto::CommandResult ok;
      ok.set_status(proto::CommandResult::OK);
      reply(ok);
    };
    d.active = [this, sp] { return active == sp; };
    d.now = [this] { return now; };
    return std::make_unique<HttpsCertificate>(file(sp), key, "dualsp-test",
                                              std::vector<std::string>{"198.18.0.10"}, d);
  }

  proto::CommandResult run(HttpsCertificate& sp, const std::string& name,
                           const std::string& payload) {
    CommandRegistry registry;
    sp.registerCommands(registry);
    proto::Command c;
    c.set_name(name);
    c.mutable_caller()->set_user("admin");
    c.set_payload(payload);
    proto::CommandResult out;
    registry.find(name)->handler(c, [&out](proto::CommandResult r) { out = std::move(r); });
    return out;
  }
};

}  // namespace

TEST_GROUP(PairKeySeal){};

TEST(PairKeySeal, OpensOnlyWithTheSamePairKeyAndUntouched) {
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nMIGH...\n-----END PRIVATE KEY-----\n";
  const std::string sealed = sealWithPairKey(kPairKey, secret);
  CHECK(sealed.find("PRIVATE") == std::string::npos);
  STRCMP_EQUAL(secret.c_str(), openWithPairKey(kPairKey, sealed).value_or("").c_str());
  CHECK(sealed != sealWithPairKey(kPairKey, secret));  // a fresh nonce each time
  CHECK_FALSE(openWithPairKey(std::string(32, 'x'), sealed).has_value());
  std::string tampered = sealed;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_FALSE(openWithPairKey(kPairKey, tampered).has_value());
  CHECK_FALSE(openWithPairKey(kPairKey, "not base64 !").has_value());
  CHECK_FALSE(openWithPairKey(kPairKey, "").has_value());
}

TEST_GROUP(HttpsCertificate){};

TEST(HttpsCertificate, TheActiveSpMakesOneAndBothSpsInstallTheSameFile) {
  Pair p;
  p.active.reset();
  p.a->tick();
  p.b->tick();
  LONGS_EQUAL(0, p.writes.size());  // nobody active: nobody makes one
  p.active = SpId::A;
  p.b->tick();
  LONGS_EQUAL(0, p.writes.size());  // B is passive
  p.a->tick();
  LONGS_EQUAL(1, p.writes.size());
  p.a->tick();
  LONGS_EQUAL(1, p.writes.size());  // one is enough

  const std::string record = p.store.at(kHttpsCertificateKey);
  CHECK(record.find("PRIVATE KEY") == std::string::npos);  // sealed
  json v = json::parse(record);
  const std::string on_a = readFile(p.file(SpId::A));
  STRCMP_EQUAL(on_a.c_str(), readFile(p.file(SpId::B)).c_str());
  CHECK(on_a.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(on_a.find("PRIVATE KEY") != std::string::npos);
  struct stat st {};
  LONGS_EQUAL(0, stat(p.file(SpId::B).c_str(), &st));
  LONGS_EQUAL(0600, st.st_mode & 0777);
  std::string error;
  STRCMP_EQUAL(v["Fingerprint"].get<std::string>().c_str(),
               platform::certificateFingerprint(p.file(SpId::B), error).c_str());
  // spweb to be restarted once on each SP, and the change is an event that says so.
  CHECK(p.a->takeFileChanged());
  CHECK_FALSE(p.a->takeFileChanged());
  CHECK(p.b->takeFileChanged());
  STRCMP_CONTAINS("HTTPS certificate: a self-signed certificate made by SP-A",
                  p.writes[0].event().message().c_str());

  // A restarted SP installs from the store, and keeps a file that already matches.
  std::remove(p.file(SpId::B).c_str());
  auto b = p.make(SpId::B, kPairKey);
  b->install();
  STRCMP_EQUAL(on_a.c_str(), readFile(p.file(SpId::B)).c_str());
  CHECK_FALSE(b->takeFileChanged());  // spweb starts after install(): nothing to restart
}

TEST(HttpsCertificate, AnswersTheCertificateNeverTheKey) {
  Pair p;
  LONGS_EQUAL(proto::CommandResult::NOT_FOUND, p.run(*p.b, "GetHttpsCertificate", "").status());
  p.a->tick();
  proto::CommandResult r = p.run(*p.b, "GetHttpsCertificate", "");
  LONGS_EQUAL(proto::CommandResult::OK, r.status());
  CHECK(r.payload().find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(r.payload().find("PRIVATE KEY") == std::string::npos);
}

TEST(HttpsCertificate, AFailedWriteIsRetriedLater) {
  Pair p;
  p.fail_writes = proto::CommandResult::UNAVAILABLE;
  p.a->tick();
  LONGS_EQUAL(1, p.writes.size());
  p.fail_writes.reset();
  p.a->tick();
  LONGS_EQUAL(1, p.writes.size());  // not before kRetry
  p.now += HttpsCertificate::kRetry;
  p.a->tick();
  LONGS_EQUAL(2, p.writes.size());
  CHECK(p.store.count(kHttpsCertificateKey));
}

TEST(HttpsCertificate, ARecordThisPairKeyCannotOpenIsReplacedByTheActive) {
  Pair p;
  p.a->tick();
  const std::string first = p.store.at(kHttpsCertificateKey);
  // The pair key was changed on both SPs: the old record's key no longer opens.
  auto a = p.make(SpId::A, std::string(32, 'n'));
  a->tick();
  LONGS_EQUAL(2, p.writes.size());
  CHECK(first != p.store.at(kHttpsCertificateKey));
}

TEST(HttpsCertificate, AReplacementIsCheckedBeforeItIsStored) {
  Pair p;
  p.a->tick();
  const auto mine = selfSigned("array.example.com");
  const auto other = selfSigned("other.example.com");
  const auto expired = selfSigned("old.example.com", -2);
  struct Case {
    std::string pem;
    const char* why;
  } refused[] = {
      {"", "no PEM certificate"},
      {"garbage", "no PEM certificate"},
      {mine.certificate, "no private key"},
      {mine.certificate + other.key, "does not belong to the certificate"},
      {expired.certificate + expired.key, "expired"},
      {mine.certificate + "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n", "encrypted"},
  };
  for (const Case& c : refused) {
    proto::CommandResult r = p.run(*p.b, "ReplaceHttpsCertificate", c.pem);
    LONGS_EQUAL_TEXT(proto::CommandResult::BAD_REQUEST, r.status(), c.why);
    STRCMP_CONTAINS(c.why, r.error().c_str());
  }
  LONGS_EQUAL(1, p.writes.size());  // nothing written on refusal

  // Either order; both SPs serve it afterwards.
  proto::CommandResult r = p.run(*p.b, "ReplaceHttpsCertificate", mine.key + mine.certificate);
  LONGS_EQUAL(proto::CommandResult::OK, r.status());
  CHECK(r.payload().find("PRIVATE KEY") == std::string::npos);
  std::string error;
  auto info = platform::inspectCertificate(readFile(p.file(SpId::A)), error);
  CHECK(info.has_value());
  STRCMP_EQUAL("array.example.com", info->common_name.c_str());
  STRCMP_EQUAL(readFile(p.file(SpId::A)).c_str(), readFile(p.file(SpId::B)).c_str());
  STRCMP_CONTAINS("replaced", p.writes.back().event().message().c_str());
  STRCMP_CONTAINS("by admin", p.writes.back().event().message().c_str());
}

TEST_GROUP(TlsCertificate){};

TEST(TlsCertificate, InspectShowsWhatACertificateResourceNeeds) {
  const auto made = selfSigned("dualsp-array");
  std::string error;
  auto info = platform::inspectCertificate(made.certificate, error);
  CHECK_TEXT(info.has_value(), error.c_str());
  STRCMP_EQUAL("CN=dualsp-array", info->subject.c_str());
  STRCMP_EQUAL("dualsp-array", info->issuer_common_name.c_str());
  STRCMP_EQUAL("EC P-256", info->key_type.c_str());
  LONGS_EQUAL(95, info->fingerprint.size());  // 32 bytes as "AB:" ... "CD"
  CHECK(info->not_before < info->not_after);
  LONGS_EQUAL(20, info->not_after.size());  // 2026-12-04T03:30:00Z
  CHECK(info->certificate.find("PRIVATE") == std::string::npos);
  CHECK_FALSE(platform::inspectCertificate("nothing", error).has_value());
}

TEST(HttpsCertificate, AFileThatCannotBeWrittenIsLoggedAndSpwebKeepsItsOwn) {
  Pair p;
  // spweb's certificate file in a directory that does not exist: the write fails for real.
  std::string missing_dir = p.dir + "/gone";
  p.a->tick();  // the store now holds the array's certificate
  auto lost = std::make_unique<HttpsCertificate>(
      missing_dir + "/spweb.pem", kPairKey, "dualsp-test", std::vector<std::string>{},
      HttpsCertificate::Dependencies{
          .self = SpId::B,
          .list =
              [&p](const std::string& prefix) {
                std::vector<ConfigRecord> out;
                for (auto& [k, v] : p.store)
                  if (k.rfind(prefix, 0) == 0) {
                    ConfigRecord r;
                    r.set_key(k);
                    r.set_value(v);
                    out.push_back(r);
                  }
                return out;
              },
          .write = [](proto::Command, Reply) { FAIL("a passive SP writes nothing"); },
          .active = [] { return false; }});
  lost->install();
  ConfigRecord r;
  r.set_key(kHttpsCertificateKey);
  r.set_value(p.store.at(kHttpsCertificateKey));
  lost->onRecord(r);
  CHECK_FALSE(lost->takeFileChanged());  // nothing installed: spweb is not restarted
  CHECK(access((missing_dir + "/spweb.pem").c_str(), F_OK) != 0);
}
