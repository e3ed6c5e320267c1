#pragma once
// CRC-32C (Castagnoli), the checksum on every journal record and snapshot. Written here
// because the few lines beat a new link dependency; bit-compatible with iSCSI and ext4.

#include <cstdint>
#include <string_view>

namespace dualsp::sp {

uint32_t crc32c(std::string_view data);

}  // namespace dualsp::sp
