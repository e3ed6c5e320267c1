# CMake toolchain file: DualSP firmware for armhf (arm-linux-gnueabihf), driven by Makefile.cross.
# Debian's cross compiler; target libraries only from the build-tree sysroot that
# Makefile.cross assembles from Debian's armhf packages (DUALSP_SYSROOT), never the host's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_STRIP arm-linux-gnueabihf-strip)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
