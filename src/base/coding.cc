#include "base/coding.h"

// The fixed-width coders memcpy native integers; Cairn's formats are little-endian on disk.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Cairn's on-disk formats assume a little-endian host");
