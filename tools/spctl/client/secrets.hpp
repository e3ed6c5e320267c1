#pragma once
// Where spctl's credentials and session token live (docs/SPCTL.md "Credentials"): never on
// the command line; a file only when nobody else can read it.

#include <optional>
#include <string>

namespace dualsp::spctl {

struct Credentials {
  std::string user;
  std::string password;
};

// A file of `user=NAME` and `password=SECRET` lines (# comments). Refused (error set) when
// it is readable or writable by group or others, or not owned by the caller.
std::optional<Credentials> readCredentialsFile(const std::string& path, std::string& error);

// Why a secret file may not be trusted ("" when it may): owner and mode.
std::string secretFileProblem(const std::string& path);

// The session token cache: one file per array address and user under
// $XDG_CACHE_HOME/spctl (default ~/.cache/spctl), directory 0700, files 0600, replaced
// atomically. A file anyone else could read or change is ignored and reported.
class TokenCache {
 public:
  TokenCache(std::string directory, const std::string& address, const std::string& user);
  static std::string defaultDirectory();  // "" when neither XDG_CACHE_HOME nor HOME is set

  struct Entry {
    std::string token;
    std::string session;  // the session's URI (for logout)
  };
  std::optional<Entry> load(std::string& warning) const;
  std::string store(const Entry& entry) const;  // "" or why not
  void remove() const;
  const std::string& path() const { return path_; }

 private:
  std::string directory_;
  std::string path_;
};

}  // namespace dualsp::spctl
