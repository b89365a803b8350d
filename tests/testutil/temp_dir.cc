#include "testutil/temp_dir.h"

#include <cstdlib>
#include <filesystem>

#include "base/check.h"

namespace cairn::testutil {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cairn-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  CHECK(made != nullptr) << "mkdtemp failed for " << tmpl;
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cairn::testutil
