// GetSensors and GetInventory: what the platform reads from the hardware.
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

namespace dualsp::sp {
namespace {

void fillSensors(platform::Hardware& hw, proto::CommandResult& r) {
  auto* out = r.mutable_sensors();
  for (const auto& s : hw.sensors()) {
    auto* p = out->add_sensors();
    p->set_id(s.id);
    p->set_name(s.name);
    p->set_kind(s.kind);
    p->set_reading(s.reading);
    p->set_units(s.units);
    p->set_upper_critical(s.upper_critical);
    p->set_health(s.critical ? proto::HEALTH_CRITICAL : proto::HEALTH_OK);
  }
}

void fillInventory(platform::Hardware& hw, proto::CommandResult& r) {
  auto* out = r.mutable_inventory();
  for (const auto& i : hw.inventory()) {
    auto* p = out->add_items();
    p->set_id(i.id);
    p->set_kind(i.kind);
    p->set_name(i.name);
    p->set_manufacturer(i.manufacturer);
    p->set_model(i.model);
    p->set_serial_number(i.serial_number);
    p->set_part_number(i.part_number);
  }
}

// The common frame of both commands: no back end, or the data plus any read problem.
void answerFromHardware(const CommandContext& ctx, Reply reply,
                        void (*fill)(platform::Hardware&, proto::CommandResult&)) {
  if (!ctx.hardware) {
    reply(errorResult(proto::CommandResult::UNAVAILABLE, "no hardware back end"));
    return;
  }
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(ctx.self));
  fill(*ctx.hardware, r);
  if (!ctx.hardware->lastError().empty()) r.set_error(ctx.hardware->lastError());
  reply(std::move(r));
}

}  // namespace

void registerHardwareCommands(CommandRegistry& registry, const CommandContext& context) {
  registry.add({"GetSensors",
                [context](const proto::Command&, Reply reply) {
                  answerFromHardware(context, std::move(reply), fillSensors);
                },
                /*degraded=*/true, Privilege::Login, /*mutating=*/false});
  registry.add({"GetInventory",
                [context](const proto::Command&, Reply reply) {
                  answerFromHardware(context, std::move(reply), fillInventory);
                },
                /*degraded=*/true, Privilege::Login, /*mutating=*/false});
}

}  // namespace dualsp::sp
