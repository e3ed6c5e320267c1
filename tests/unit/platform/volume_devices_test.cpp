// A volume's device-mapper table over its pool's drives (platform/linux/volume_devices):
// extents split at drive boundaries, in the volume's block order, and the refusals. The
// ioctls themselves run under QEMU (the build host has no device-mapper).

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "platform/linux/volume_devices.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

using namespace dualsp::platform;

namespace {

constexpr uint64_t kMiB = 1 << 20;

DataPathVolume volume(std::vector<DataPathExtent> extents) {
  DataPathVolume v;
  v.id = "7";
  v.extents = std::move(extents);
  return v;
}

// Two 128 MiB drives: the pool's sectors 0..262143 on vdb, 262144.. on vdc.
const std::vector<ShelfDrive> kDrives = {{"vdb", "254:16", 128 * kMiB / 512},
                                         {"vdc", "254:32", 128 * kMiB / 512}};

}  // namespace

TEST_GROUP(VolumeDevices){};

TEST(VolumeDevices, OneExtentOnOneDriveIsOneLine) {
  std::string why;
  auto t = linearTable(volume({{8 * kMiB, 16 * kMiB}}), kDrives, why);
  CHECK_TRUE(t.has_value());
  CHECK(*t == (std::vector<LinearLine>{{0, 32768, "254:16", 16384}}));
}

TEST(VolumeDevices, ExtentsFollowTheVolumesBlockOrderAndSplitAtDriveBoundaries) {
  std::string why;
  // Its first run crosses from vdb into vdc; its second is back at the start of vdb.
  auto t = linearTable(volume({{120 * kMiB, 16 * kMiB}, {0, 4 * kMiB}}), kDrives, why);
  CHECK_TRUE(t.has_value());
  CHECK(*t == (std::vector<LinearLine>{{0, 16384, "254:16", 245760},
                                       {16384, 16384, "254:32", 0},
                                       {32768, 8192, "254:16", 0}}));
}

TEST(VolumeDevices, WhatCannotBeMappedIsRefusedWithTheReason) {
  std::string why;
  CHECK_FALSE(linearTable(volume({{250 * kMiB, 16 * kMiB}}), kDrives, why));
  CHECK_TRUE(why.find("beyond its pool's drives") != std::string::npos);
  CHECK_FALSE(linearTable(volume({{100, 512}}), kDrives, why));
  CHECK_TRUE(why.find("whole sectors") != std::string::npos);
  CHECK_FALSE(linearTable(volume({}), kDrives, why));
  CHECK_TRUE(why.find("no extents") != std::string::npos);
}

TEST(VolumeDevices, ADriveIsReadFromSysBlock) {
  char tmpl[] = "/tmp/dualsp-ut-sysblock-XXXXXX";
  CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  CHECK_EQUAL(0, std::system(("mkdir -p " + dir + "/vdb").c_str()));
  std::ofstream(dir + "/vdb/dev") << "254:16\n";
  std::ofstream(dir + "/vdb/size") << "262144\n";
  std::string why;
  auto d = readShelfDrive("vdb", why, dir);
  CHECK_TRUE(d.has_value());
  STRCMP_EQUAL("254:16", d->device.c_str());
  CHECK_EQUAL(262144u, d->sectors);
  CHECK_FALSE(readShelfDrive("vdq", why, dir));
  CHECK_TRUE(why.find("drive vdq is not on this SP") != std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}
