#include "platform/privilege.hpp"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string_view>

namespace dualsp::platform {
namespace {

std::optional<unsigned> decimal(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "name:password:uid:gid:..." -> uid and gid, when the name matches.
std::optional<UnixIdentity> passwdEntry(const std::string& line, const std::string& name) {
  size_t fields[4] = {};
  size_t at = 0;
  for (int i = 0; i < 3; ++i) {
    at = line.find(':', at);
    if (at == std::string::npos) return std::nullopt;
    fields[i] = at++;
  }
  fields[3] = line.find(':', at);
  if (fields[3] == std::string::npos) return std::nullopt;
  if (std::string_view(line).substr(0, fields[0]) != name) return std::nullopt;
  auto uid = decimal(std::string_view(line).substr(fields[1] + 1, fields[2] - fields[1] - 1));
  auto gid = decimal(std::string_view(line).substr(fields[2] + 1, fields[3] - fields[2] - 1));
  if (!uid || !gid) return std::nullopt;
  return UnixIdentity{*uid, *gid};
}

std::string failed(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

std::string identityText(const UnixIdentity& id) {
  return std::to_string(id.uid) + ":" + std::to_string(id.gid);
}

std::optional<UnixIdentity> resolveIdentity(const std::string& spec, std::string& error,
                                            const std::string& passwd_file) {
  std::optional<UnixIdentity> id;
  if (size_t colon = spec.find(':'); colon != std::string::npos) {
    auto uid = decimal(std::string_view(spec).substr(0, colon));
    auto gid = decimal(std::string_view(spec).substr(colon + 1));
    if (!uid || !gid || *uid == static_cast<unsigned>(-1) || *gid == static_cast<unsigned>(-1)) {
      error = "'" + spec + "' is not UID:GID (two decimal numbers)";
      return std::nullopt;
    }
    id = UnixIdentity{*uid, *gid};
  } else if (spec.empty()) {
    error = "the user is empty";
    return std::nullopt;
  } else {
    std::ifstream passwd(passwd_file);
    for (std::string line; !id && std::getline(passwd, line);) id = passwdEntry(line, spec);
    if (!id && spec == kDefaultWebUser) id = kFallbackWebIdentity;
    if (!id) {
      error = "no user '" + spec + "' in " + passwd_file + " (give UID:GID instead)";
      return std::nullopt;
    }
  }
  if (id->uid == 0 || id->gid == 0) {
    error = "'" + spec + "' is root (uid or gid 0): spweb must run unprivileged";
    return std::nullopt;
  }
  return id;
}

std::string dropPrivileges(const UnixIdentity& target) {
  if (target.uid == 0 || target.gid == 0) return "refusing to drop to uid or gid 0";
  // Groups first: once the uid is not 0 any more, the groups cannot be changed.
  if (::setgroups(0, nullptr) != 0) return failed("setgroups");
  if (::setresgid(target.gid, target.gid, target.gid) != 0) return failed("setresgid");
  if (::setresuid(target.uid, target.uid, target.uid) != 0) return failed("setresuid");
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0)
    return failed("getresuid");
  if (ruid != target.uid || euid != target.uid || suid != target.uid || rgid != target.gid ||
      egid != target.gid || sgid != target.gid)
    return "the ids are not " + identityText(target) + " after the change";
  if (::getgroups(0, nullptr) != 0) return "supplementary groups remain after setgroups(0)";
  if (::setuid(0) == 0 || ::seteuid(0) == 0) return "root can be regained (setuid(0) succeeded)";
  if (::setgid(0) == 0) return "group root can be regained (setgid(0) succeeded)";
  return {};
}

}  // namespace dualsp::platform
