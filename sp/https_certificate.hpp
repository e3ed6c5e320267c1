#pragma once
// The array's HTTPS certificate (docs/SECURITY.md "TLS"): one certificate and key for both
// SPs, so a client that pinned it keeps talking to the floating address after a failover.
// They live in the replicated store as record security/https, which no client command reads
// (GetConfig leaves it out, as it does accounts). The key is sealed (libsodium secretbox) with
// a key derived from the pair key, so neither the journal on disk nor the peer link carries it
// in clear. The active SP makes a self-signed certificate when the store has none;
// CertificateService.ReplaceCertificate installs an administrator's. Each SP writes the store's
// certificate and key to spweb's certificate file (0600, root) and restarts spweb when it
// changed: CivetWeb reads its certificate once, at start.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "platform/sp_types.hpp"
#include "proto/config.pb.h"
#include "sp/command_registry.hpp"
#include "sp/config_store/config_store.hpp"

namespace dualsp::sp {

inline constexpr const char* kHttpsCertificateKey = "security/https";

// secretbox under BLAKE2b("dualsp https key v1" | pair key): base64 of nonce | ciphertext.
std::string sealWithPairKey(const std::string& pair_key, const std::string& plain);
// nullopt when `sealed` is not base64, too short, or not sealed with this pair key.
std::optional<std::string> openWithPairKey(const std::string& pair_key, const std::string& sealed);

class HttpsCertificate {
 public:
  struct Dependencies {
    SpId self = SpId::A;
    std::function<std::vector<ConfigRecord>(const std::string&)> list;
    // ConfigWrite, as the registry's handler takes it.
    std::function<void(proto::Command, Reply)> write;
    std::function<bool()> active;
    std::function<std::chrono::steady_clock::time_point()> now = [] {
      return std::chrono::steady_clock::now();
    };
  };
  // `file`: spweb's certificate file (web.tls_certificate); `common_name` of a certificate
  // made here; `addresses`: its IP subjectAltNames (the floating address).
  HttpsCertificate(std::string file, std::string pair_key, std::string common_name,
                   std::vector<std::string> addresses, Dependencies deps);

  // The store's certificate into the file, when it differs (at start, before spweb runs).
  void install();
  // The configuration service's listener for security/https (any SP, on its worker thread).
  void onRecord(const ConfigRecord& record);
  // From spd's main loop: on the active SP, makes the array's certificate when the store has
  // none (or one this pair key cannot open), at most once per kRetry while writes fail.
  void tick();
  // True once after the file changed: spweb is to be restarted to serve it.
  bool takeFileChanged();
  // GetHttpsCertificate (the certificates, never the key), ReplaceHttpsCertificate (payload:
  // PEM with the certificate and its key).
  void registerCommands(CommandRegistry& clients);

  static constexpr std::chrono::seconds kRetry{10};

 private:
  struct Stored {
    std::string certificate;
    std::string key;
    std::string fingerprint;
  };
  // The record's certificate and opened key; nullopt (with `why`) when absent or unreadable.
  std::optional<Stored> stored(std::string& why) const;
  void installLocked(const Stored& s);
  void write(const std::string& certificate, const std::string& key, const std::string& detail,
             const proto::Command& from, Reply reply);
  void getCertificate(const proto::Command& command, Reply reply);
  void replaceCertificate(const proto::Command& command, Reply reply);

  const std::string file_;
  const std::string pair_key_;
  const std::string common_name_;
  const std::vector<std::string> addresses_;
  Dependencies deps_;

  mutable std::mutex mu_;
  std::string installed_;  // what the file holds, as this process last wrote or read it
  bool file_changed_ = false;
  bool usable_ = false;  // the store holds a certificate whose key this pair key opens
  bool making_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  std::string last_complaint_;
};

}  // namespace dualsp::sp
