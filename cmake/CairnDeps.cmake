# Every dependency is a Debian package installed by scripts/setup. A missing one is a hard
# configure error (REQUIRED), never a silent fallback.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED COMPONENTS json CONFIG)
find_package(simdjson REQUIRED)
find_package(fmt REQUIRED)
find_package(ZLIB REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(GTest REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL 3 REQUIRED)  # actions: https webhooks (Boost.Asio SSL)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)  # store: flushed segments' payload frames
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(NLOPT REQUIRED IMPORTED_TARGET nlopt)  # value: maximum-likelihood fits
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)  # base/crc32c
if(CAIRN_BENCH)
  find_package(benchmark REQUIRED)
endif()
