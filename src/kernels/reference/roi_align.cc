#include "kernels/reference/roi_align.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ingot/dtype.h"

namespace ingot::ref {
namespace {

// Bilinear taps of one sample point (four positions in the H*W plane and their weights).
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample make_sample(double y, double x, int64_t height, int64_t width) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<double>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<double>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
  const double hy = 1 - ly, hx = 1 - lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

}  // namespace

template <typename T>
void roi_align(const T* x, const T* rois, const int64_t* batch_indices, int64_t num_rois,
               const RoiAlignParams& p, T* y) {
  const double offset = p.half_pixel ? 0.5 : 0.0;
  const int64_t plane = p.height * p.width;
  std::vector<Sample> samples;
  for (int64_t n = 0; n < num_rois; ++n) {
    const T* r = rois + n * 4;
    const double scale = p.spatial_scale;
    const double start_w = static_cast<double>(r[0]) * scale - offset;
    const double start_h = static_cast<double>(r[1]) * scale - offset;
    double roi_w = static_cast<double>(r[2]) * scale - offset - start_w;
    double roi_h = static_cast<double>(r[3]) * scale - offset - start_h;
    if (!p.half_pixel) {
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    const double bin_h = roi_h / static_cast<double>(p.out_h), bin_w = roi_w / static_cast<double>(p.out_w);
    const int64_t grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_h));
    const int64_t grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_w));
    const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    samples.clear();
    for (int64_t ph = 0; ph < p.out_h; ++ph)
      for (int64_t pw = 0; pw < p.out_w; ++pw)
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const double yy = start_h + static_cast<double>(ph) * bin_h +
                            (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h);
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const double xx = start_w + static_cast<double>(pw) * bin_w +
                              (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w);
            samples.push_back(make_sample(yy, xx, p.height, p.width));
          }
        }
    const int64_t per_bin = std::max<int64_t>(grid_h, 0) * std::max<int64_t>(grid_w, 0);
    for (int64_t c = 0; c < p.channels; ++c) {
      const T* src = x + (batch_indices[n] * p.channels + c) * plane;
      T* dst = y + (n * p.channels + c) * p.out_h * p.out_w;
      for (int64_t b = 0; b < p.out_h * p.out_w; ++b) {
        double acc = 0;
        for (int64_t k = 0; k < per_bin; ++k) {
          const Sample& s = samples[b * per_bin + k];
          if (p.max_mode) {
            double v = s.w[0] * static_cast<double>(src[s.pos[0]]);
            for (int q = 1; q < 4; ++q) v = std::max(v, s.w[q] * static_cast<double>(src[s.pos[q]]));
            acc = k == 0 ? v : std::max(acc, v);
          } else {
            for (int q = 0; q < 4; ++q) acc += s.w[q] * static_cast<double>(src[s.pos[q]]);
          }
        }
        dst[b] = static_cast<T>(p.max_mode ? acc : acc / count);
      }
    }
  }
}

template void roi_align<float>(const float*, const float*, const int64_t*, int64_t, const RoiAlignParams&,
                               float*);
template void roi_align<double>(const double*, const double*, const int64_t*, int64_t, const RoiAlignParams&,
                                double*);
template void roi_align<Float16>(const Float16*, const Float16*, const int64_t*, int64_t,
                                 const RoiAlignParams&, Float16*);
template void roi_align<BFloat16>(const BFloat16*, const BFloat16*, const int64_t*, int64_t,
                                  const RoiAlignParams&, BFloat16*);

}  // namespace ingot::ref
