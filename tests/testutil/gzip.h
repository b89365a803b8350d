#pragma once
// Real gzip (RFC 1952) made with zlib, for tests of what reads it (request bodies, import files).

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::testutil {

// One gzip member holding `in`. level: zlib's 0 (stored) .. 9; -1 its default (6).
std::string Gzip(std::string_view in, int level = -1);

// One gzip member holding `n` zero bytes, built in 1 MiB steps with run-length matching, so a
// bomb of gigabytes is made fast (even under ASan) without holding its inflated size.
std::string GzipZeros(size_t n);

}  // namespace cairn::testutil
