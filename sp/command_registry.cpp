#include "sp/command_registry.hpp"

#include <stdexcept>

namespace dualsp::sp {

std::string_view privilegeName(Privilege p) {
  switch (p) {
    case Privilege::Login:
      return "Login";
    case Privilege::ConfigureManager:
      return "ConfigureManager";
    case Privilege::ConfigureComponents:
      return "ConfigureComponents";
    case Privilege::ConfigureUsers:
      return "ConfigureUsers";
  }
  return "Login";
}

void CommandRegistry::add(CommandSpec spec) {
  if (spec.name.empty() || !spec.handler) throw std::logic_error("command without name or handler");
  std::string name = spec.name;
  if (!specs_.emplace(name, std::move(spec)).second)
    throw std::logic_error("command registered twice: " + name);
}

void PeerCommandRegistry::add(std::string name, Handler handler) {
  if (name.empty() || !handler) throw std::logic_error("peer command without name or handler");
  if (clients_.find(name)) throw std::logic_error("peer command named like a client one: " + name);
  if (!handlers_.emplace(name, std::move(handler)).second)
    throw std::logic_error("peer command registered twice: " + name);
}

const Handler* PeerCommandRegistry::find(const std::string& name) const {
  auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> PeerCommandRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, handler] : handlers_) out.push_back(name);
  return out;
}

const CommandSpec* CommandRegistry::find(const std::string& name) const {
  auto it = specs_.find(name);
  return it == specs_.end() ? nullptr : &it->second;
}

std::vector<const CommandSpec*> CommandRegistry::all() const {
  std::vector<const CommandSpec*> out;
  for (const auto& [name, spec] : specs_) out.push_back(&spec);
  return out;
}

std::string CommandRegistry::describe() const {
  std::string out = "COMMAND              DEGRADED  PRIVILEGE            KIND\n";
  for (const auto* s : all()) {
    std::string line = s->name;
    line.resize(21, ' ');
    line += s->degraded ? "yes       " : "no        ";
    std::string priv(privilegeName(s->privilege));
    priv.resize(21, ' ');
    line += priv;
    line += s->mutating ? "change" : s->fresh_only ? "read (fresh only)" : "read";
    out += line + "\n";
  }
  return out;
}

proto::CommandResult errorResult(proto::CommandResult::Status status, const std::string& text) {
  proto::CommandResult r;
  r.set_status(status);
  r.set_error(text);
  return r;
}

}  // namespace dualsp::sp
