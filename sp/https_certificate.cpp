#include "sp/https_certificate.hpp"

#include <sodium.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "platform/log.hpp"
#include "platform/tls_certificate.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSealContext = "dualsp https key v1";
constexpr const char* kLocationsUri = "/redfish/v1/CertificateService/CertificateLocations";

std::string derivedKey(const std::string& pair_key) {
  std::string material = std::string(kSealContext) + '\0' + pair_key;
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(material.data()), material.size(),
                     nullptr, 0);
  sodium_memzero(material.data(), material.size());
  return key;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

proto::CommandResult failure(proto::CommandResult::Status status, const std::string& why) {
  proto::CommandResult r;
  r.set_status(status);
  r.set_error(why);
  return r;
}

}  // namespace

std::string sealWithPairKey(const std::string& pair_key, const std::string& plain) {
  const std::string key = derivedKey(pair_key);
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), out,
                        reinterpret_cast<const unsigned char*>(key.data()));
  std::string text(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), out, box.size(), sodium_base64_VARIANT_ORIGINAL);
  text.resize(std::strlen(text.c_str()));
  return text;
}

std::optional<std::string> openWithPairKey(const std::string& pair_key, const std::string& sealed) {
  std::string box(sealed.size(), '\0');
  size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), sealed.data(),
                        sealed.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      size < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(box.data());
  const std::string key = derivedKey(pair_key);
  std::string plain(size - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 in + crypto_secretbox_NONCEBYTES,
                                 size - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0)
    return std::nullopt;
  return plain;
}

HttpsCertificate::HttpsCertificate(std::string file, std::string pair_key, std::string common_name,
                                   std::vector<std::string> addresses, Dependencies deps)
    : file_(std::move(file)),
      pair_key_(std::move(pair_key)),
      common_name_(std::move(common_name)),
      addresses_(std::move(addresses)),
      deps_(std::move(deps)) {
  installed_ = readFile(file_);
}

std::optional<HttpsCertificate::Stored> HttpsCertificate::stored(std::string& why) const {
  for (const ConfigRecord& r : deps_.list(kHttpsCertificateKey)) {
    if (r.key() != kHttpsCertificateKey || r.deleted()) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object() || !v.value("Certificate", json()).is_string() ||
        !v.value("SealedKey", json()).is_string()) {
      why = "record " + std::string(kHttpsCertificateKey) + " is not readable";
      return std::nullopt;
    }
    std::optional<std::string> key = openWithPairKey(pair_key_, v["SealedKey"].get<std::string>());
    if (!key) {
      why = "the stored key does not open with this SP's pair key";
      return std::nullopt;
    }
    return Stored{v["Certificate"].get<std::string>(), *key, v.value("Fingerprint", std::string())};
  }
  why = "none in the store";
  return std::nullopt;
}

void HttpsCertificate::installLocked(const Stored& s) {
  const std::string text = s.certificate + s.key;
  if (text == installed_) return;
  if (std::string why = platform::writePrivateFile(file_, text); !why.empty()) {
    LOG_ERROR << "cannot install the array's HTTPS certificate " << s.fingerprint << ": " << why;
    return;
  }
  installed_ = text;
  file_changed_ = true;
  LOG_NOTICE << "installed the array's HTTPS certificate (SHA-256 " << s.fingerprint << ") at "
             << file_;
}

void HttpsCertificate::install() {
  std::lock_guard lock(mu_);
  std::string why;
  std::optional<Stored> s = stored(why);
  usable_ = s.has_value();
  if (s) installLocked(*s);
  file_changed_ = false;  // spweb starts after this: nothing to restart
}

void HttpsCertificate::onRecord(const ConfigRecord& record) {
  if (record.key() != kHttpsCertificateKey || record.deleted()) return;
  std::lock_guard lock(mu_);
  std::string why;
  std::optional<Stored> s = stored(why);
  usable_ = s.has_value();
  if (!s) {
    LOG_ERROR << "the array's HTTPS certificate changed but cannot be installed: " << why;
    return;
  }
  installLocked(*s);
}

bool HttpsCertificate::takeFileChanged() {
  std::lock_guard lock(mu_);
  return std::exchange(file_changed_, false);
}

void HttpsCertificate::tick() {
  {
    std::lock_guard lock(mu_);
    // usable_ follows the record (install, onRecord): the store is read only while it lacks one.
    if (usable_ || making_ || deps_.now() < retry_at_ || !deps_.active()) return;
    std::string why;
    if (stored(why)) return;
    if (why != last_complaint_) {
      LOG_NOTICE << "the array has no usable HTTPS certificate (" << why
                 << "); this active SP makes one";
      last_complaint_ = why;
    }
    making_ = true;
  }
  std::string error;
  std::optional<platform::CertificateAndKey> made = platform::makeSelfSigned(
      platform::SelfSignedRequest{.common_name = common_name_, .ip_addresses = addresses_}, error);
  if (!made) {
    LOG_ERROR << "cannot make the array's HTTPS certificate: " << error;
    std::lock_guard lock(mu_);
    making_ = false;
    retry_at_ = deps_.now() + kRetry;
    return;
  }
  proto::Command from;
  from.mutable_caller()->set_origin("spd " + std::string(spName(deps_.self)));
  write(made->certificate, made->key,
        "a self-signed certificate made by " + std::string(spName(deps_.self)), from,
        [this](proto::CommandResult r) {
          std::lock_guard lock(mu_);
          making_ = false;
          if (r.status() != proto::CommandResult::OK) {
            LOG_WARNING << "storing the array's new HTTPS certificate failed: " << r.error()
                        << "; trying again in " << kRetry.count() << " s";
            retry_at_ = deps_.now() + kRetry;
          }
        });
}

void HttpsCertificate::write(const std::string& certificate, const std::string& key,
                             const std::string& detail, const proto::Command& from, Reply reply) {
  std::string error;
  std::optional<platform::CertificateInfo> info = platform::inspectCertificate(certificate, error);
  if (!info) return reply(failure(proto::CommandResult::BAD_REQUEST, error));
  proto::ConfigWrite change;
  proto::ConfigRecord* r = change.add_records();
  r->set_key(kHttpsCertificateKey);
  r->set_value(json{{"Certificate", info->certificate},
                    {"SealedKey", sealWithPairKey(pair_key_, key)},
                    {"Fingerprint", info->fingerprint}}
                   .dump());
  const std::string who = from.caller().user().empty() ? "" : "; by " + from.caller().user();
  *change.mutable_event() =
      makeEvent(message::kChanged, {}, kLocationsUri, "OK", deps_.self,
                "HTTPS certificate: " + detail + ", SHA-256 " + info->fingerprint + who);
  proto::Command c;
  c.set_name("ConfigWrite");
  c.set_target(proto::SP_UNKNOWN);
  *c.mutable_caller() = from.caller();
  (*c.mutable_args())["private"] = "1";  // ConfigService refuses security/ to other writers
  c.set_payload(change.SerializeAsString());
  LOG_NOTICE << "storing the array's HTTPS certificate (" << detail << "), SHA-256 "
             << info->fingerprint;
  deps_.write(std::move(c), std::move(reply));
}

void HttpsCertificate::registerCommands(CommandRegistry& clients) {
  clients.add({"GetHttpsCertificate",
               [this](const proto::Command& c, Reply r) { getCertificate(c, std::move(r)); }, false,
               Privilege::Login, false});
  clients.add({"ReplaceHttpsCertificate",
               [this](const proto::Command& c, Reply r) { replaceCertificate(c, std::move(r)); },
               false, Privilege::ConfigureManager, true});
}

void HttpsCertificate::getCertificate(const proto::Command&, Reply reply) {
  std::string why;
  std::optional<Stored> s;
  {
    std::lock_guard lock(mu_);
    s = stored(why);
  }
  if (!s) return reply(failure(proto::CommandResult::NOT_FOUND, "no HTTPS certificate: " + why));
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_payload(s->certificate);  // never the key
  reply(std::move(r));
}

void HttpsCertificate::replaceCertificate(const proto::Command& command, Reply reply) {
  std::string error;
  std::optional<platform::CertificateAndKey> offered =
      platform::checkReplacement(command.payload(), error);
  if (!offered) {
    LOG_NOTICE << "HTTPS certificate replacement refused: " << error;
    return reply(failure(proto::CommandResult::BAD_REQUEST, error));
  }
  std::string certificate = offered->certificate;
  write(offered->certificate, offered->key, "replaced", command,
        [certificate, reply = std::move(reply)](proto::CommandResult r) {
          if (r.status() == proto::CommandResult::OK) r.set_payload(certificate);
          reply(std::move(r));
        });
}

}  // namespace dualsp::sp
