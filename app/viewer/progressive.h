#pragma once
// Progressive full-resolution previews while a run trains and the camera is still (TrainingRun).
//
// The full-resolution image (W x H: the camera at max quality) is split into stride x stride
// interleaved pixel subsets, "phases": phase (x0, y0) is the pixels (x0 + stride i, y0 + stride j), an
// image of about (W / stride) x (H / stride), as costly as a low-resolution preview at 1 / stride. Every
// training slice renders the next phases that fit its preview time (PreviewRequest's pixel subset),
// each from the field as it is at that moment, oldest first (round robin), so after stride² phases
// every pixel is rendered at full resolution and later phases keep replacing the oldest ones: the
// image keeps tracking training. Pixels whose phase was never rendered show the low-resolution preview
// the session started from, upsampled (nearest). A moved camera starts a new session.
// Torch-free (plain vectors); the training thread owns it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/viewer/training_run.h"  // ImageBuf

namespace nf::viewer {

struct Phase {
  int x0 = 0, y0 = 0;
};

// The stride² phases in rendering order: a Bayer (ordered-dither) order, so the first phases spread
// evenly over the image (stride 2: (0,0), (1,1), (1,0), (0,1)).
std::vector<Phase> phase_order(int stride);

// The phase stride whose phase costs about as much as a preview at `scale` of a camera at `max_scale`:
// ceil(max_scale / scale), at least 1.
int phase_stride(double scale, double max_scale);

class ProgressiveView {
 public:
  // Starts a session for view request `view_id`: a width x height composite of `base` (any size, the
  // preview so far) upsampled, split into stride x stride phases. A base of width x height (a full
  // render) counts as every phase rendered at base_step.
  void start(int64_t view_id, int width, int height, int stride, const std::vector<ImageBuf>& base,
             const std::map<std::string, double>& base_scalars, int64_t base_step);
  void reset() { stride_ = 0; }
  bool active() const { return stride_ > 0; }
  int64_t view_id() const { return view_id_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int stride() const { return stride_; }

  // The phase to render next: the one rendered longest ago (the never rendered ones first, in
  // phase_order). Then put() it.
  Phase next() const { return order_[next_]; }
  int64_t phase_pixels(const Phase& p) const;  // its pixel count
  // Writes a rendered phase (the pixel subset of the same full-resolution camera: every image
  // ceil((W - x0) / stride) x ceil((H - y0) / stride)) into the composite and moves on to the next
  // phase. Images the composite lacks are ignored; a size mismatch throws. scalars: the phase's
  // ("psnr_view": its PSNR against the ground truth, combined over the phases once all are rendered).
  void put(const Phase& p, const std::vector<ImageBuf>& images, const std::map<std::string, double>& scalars,
           int64_t step);

  const std::vector<ImageBuf>& images() const { return images_; }  // the composite
  std::map<std::string, double> scalars() const;  // the base's, with psnr_view over the phases when complete
  double coverage() const;       // share of the composite's pixels rendered at full resolution
  int64_t oldest_step() const;   // step of the oldest rendered phase; -1 while some phase never was
  int64_t newest_step() const;   // step of the newest rendered phase; -1 when none was

 private:
  int64_t view_id_ = -1;
  int width_ = 0, height_ = 0, stride_ = 0;
  std::vector<ImageBuf> images_;
  std::map<std::string, double> base_scalars_;
  std::vector<Phase> order_;
  std::vector<int64_t> step_;   // per phase (order index): the step it was rendered at, -1: never
  std::vector<double> mse_;     // per phase: its error view's mean squared error (-1: none)
  size_t next_ = 0;
};

}  // namespace nf::viewer
