#include "base/thread_name.h"

#include <pthread.h>

#include <cstring>

namespace cairn {

void NameThisThread(const char* name) {
  char cut[16];
  std::strncpy(cut, name, sizeof cut - 1);
  cut[sizeof cut - 1] = '\0';
  pthread_setname_np(pthread_self(), cut);  // fails only for a name over 15 bytes (cut above)
}

}  // namespace cairn
