#include "app/viewer/progressive.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nf::viewer {

std::vector<Phase> phase_order(int stride) {
  stride = std::max(1, stride);
  int bits = 0;
  while ((1 << bits) < stride) ++bits;
  // Bayer matrix entry of (x, y): the bits of x ^ y and y interleaved, lowest coordinate bits first.
  auto bayer = [bits](int x, int y) {
    int v = 0;
    for (int i = 0; i < bits; ++i) v = (v << 2) | ((((x >> i) ^ (y >> i)) & 1) << 1) | ((y >> i) & 1);
    return v;
  };
  std::vector<Phase> order;
  for (int y = 0; y < stride; ++y)
    for (int x = 0; x < stride; ++x) order.push_back({x, y});
  std::stable_sort(order.begin(), order.end(),
                   [&](const Phase& a, const Phase& b) { return bayer(a.x0, a.y0) < bayer(b.x0, b.y0); });
  return order;
}

int phase_stride(double scale, double max_scale) {
  if (!(scale > 0) || !(max_scale > 0)) return 1;
  return std::max(1, static_cast<int>(std::ceil(max_scale / scale - 1e-9)));
}

void ProgressiveView::start(int64_t view_id, int width, int height, int stride, const std::vector<ImageBuf>& base,
                            const std::map<std::string, double>& base_scalars, int64_t base_step) {
  view_id_ = view_id;
  width_ = std::max(1, width);
  height_ = std::max(1, height);
  stride_ = std::max(1, stride);
  order_ = phase_order(stride_);
  next_ = 0;
  mse_.assign(order_.size(), -1.0);
  base_scalars_ = base_scalars;
  bool full = !base.empty();
  images_.clear();
  for (const auto& b : base) {
    full = full && b.width == width_ && b.height == height_;
    ImageBuf c;
    c.name = b.name;
    c.kind = b.kind;
    c.width = width_;
    c.height = height_;
    c.channels = b.channels;
    c.data.resize(static_cast<size_t>(width_ * height_ * b.channels));
    for (int64_t y = 0; y < height_; ++y) {  // nearest: the base pixel whose area holds the pixel centre
      const int64_t sy = std::min<int64_t>(b.height - 1, (2 * y + 1) * b.height / (2 * height_));
      for (int64_t x = 0; x < width_; ++x) {
        const int64_t sx = std::min<int64_t>(b.width - 1, (2 * x + 1) * b.width / (2 * width_));
        for (int64_t ch = 0; ch < b.channels; ++ch)
          c.data[static_cast<size_t>((y * width_ + x) * b.channels + ch)] =
              b.data[static_cast<size_t>((sy * b.width + sx) * b.channels + ch)];
      }
    }
    images_.push_back(std::move(c));
  }
  step_.assign(order_.size(), full ? base_step : -1);
}

int64_t ProgressiveView::phase_pixels(const Phase& p) const {
  const int64_t w = (width_ - p.x0 + stride_ - 1) / stride_, h = (height_ - p.y0 + stride_ - 1) / stride_;
  return std::max<int64_t>(0, w) * std::max<int64_t>(0, h);
}

void ProgressiveView::put(const Phase& p, const std::vector<ImageBuf>& images,
                          const std::map<std::string, double>& scalars, int64_t step) {
  if (!active()) throw std::logic_error("ProgressiveView::put: no session");
  const int64_t pw = (width_ - p.x0 + stride_ - 1) / stride_, ph = (height_ - p.y0 + stride_ - 1) / stride_;
  for (auto& c : images_) {
    const ImageBuf* src = nullptr;
    for (const auto& im : images)
      if (im.name == c.name) src = &im;
    if (!src) continue;
    if (src->width != pw || src->height != ph || src->channels != c.channels)
      throw std::runtime_error("progressive preview: phase (" + std::to_string(p.x0) + ", " + std::to_string(p.y0) +
                               ") of '" + c.name + "' is " + std::to_string(src->width) + "x" +
                               std::to_string(src->height) + "x" + std::to_string(src->channels) + ", expected " +
                               std::to_string(pw) + "x" + std::to_string(ph) + "x" + std::to_string(c.channels));
    for (int64_t j = 0; j < ph; ++j)
      for (int64_t i = 0; i < pw; ++i) {
        const int64_t x = p.x0 + stride_ * i, y = p.y0 + stride_ * j;
        for (int64_t ch = 0; ch < c.channels; ++ch)
          c.data[static_cast<size_t>((y * width_ + x) * c.channels + ch)] =
              src->data[static_cast<size_t>((j * pw + i) * c.channels + ch)];
      }
  }
  size_t k = 0;
  while (k < order_.size() && (order_[k].x0 != p.x0 || order_[k].y0 != p.y0)) ++k;
  if (k == order_.size()) throw std::logic_error("ProgressiveView::put: phase outside the stride");
  step_[k] = step;
  auto it = scalars.find("psnr_view");
  mse_[k] = it != scalars.end() ? std::pow(10.0, -it->second / 10.0) : -1.0;
  if (k == next_) next_ = (next_ + 1) % order_.size();
}

std::map<std::string, double> ProgressiveView::scalars() const {
  auto s = base_scalars_;
  double sum = 0, n = 0;
  for (size_t k = 0; k < order_.size(); ++k) {
    if (mse_[k] < 0) return s;  // some phase has no error of its own yet: the base's PSNR
    sum += mse_[k] * static_cast<double>(phase_pixels(order_[k]));
    n += static_cast<double>(phase_pixels(order_[k]));
  }
  if (n > 0) s["psnr_view"] = sum > 0 ? 10.0 * std::log10(n / sum) : 100.0;
  return s;
}

double ProgressiveView::coverage() const {
  if (!active()) return 0;
  int64_t px = 0;
  for (size_t k = 0; k < order_.size(); ++k)
    if (step_[k] >= 0) px += phase_pixels(order_[k]);
  return static_cast<double>(px) / (static_cast<double>(width_) * height_);
}

int64_t ProgressiveView::oldest_step() const {
  if (!active() || step_.empty()) return -1;
  int64_t s = step_[0];
  for (int64_t v : step_) {
    if (v < 0) return -1;
    s = std::min(s, v);
  }
  return s;
}

int64_t ProgressiveView::newest_step() const {
  int64_t s = -1;
  for (int64_t v : step_) s = std::max(s, v);
  return s;
}

}  // namespace nf::viewer
