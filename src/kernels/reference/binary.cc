#include "kernels/reference/binary.h"

#include "kernels/reference/broadcast.h"

namespace ingot::ref {
namespace {

template <typename U>
void where_typed(const bool* cond, const Dims& dc, const U* x, const Dims& dx, const U* y, const Dims& dy,
                 U* out, const Dims& dout) {
  broadcast_ternary(cond, dc, x, dx, y, dy, out, dout, [](bool c, U a, U b) { return c ? a : b; });
}

}  // namespace

void where_fixed(const bool* cond, const Dims& dc, const void* x, const Dims& dx, const void* y,
                 const Dims& dy, void* out, const Dims& dout, size_t elem_size) {
  switch (elem_size) {
    case 1:
      where_typed(cond, dc, static_cast<const uint8_t*>(x), dx, static_cast<const uint8_t*>(y), dy,
                  static_cast<uint8_t*>(out), dout);
      break;
    case 2:
      where_typed(cond, dc, static_cast<const uint16_t*>(x), dx, static_cast<const uint16_t*>(y), dy,
                  static_cast<uint16_t*>(out), dout);
      break;
    case 4:
      where_typed(cond, dc, static_cast<const uint32_t*>(x), dx, static_cast<const uint32_t*>(y), dy,
                  static_cast<uint32_t*>(out), dout);
      break;
    case 8:
      where_typed(cond, dc, static_cast<const uint64_t*>(x), dx, static_cast<const uint64_t*>(y), dy,
                  static_cast<uint64_t*>(out), dout);
      break;
    default:
      break;
  }
}

}  // namespace ingot::ref
