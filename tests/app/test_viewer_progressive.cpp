// The viewer's progressive full-resolution view while training with a still camera
// (app/viewer/progressive.h, app/viewer/run_preview.cpp) and its learning-rate schedule.
// 1. ProgressiveView's bookkeeping: the phases partition the image, the composite starts as the
//    low-resolution preview upsampled, every pixel is written by exactly its phase, round robin.
// 2. Task level (NeRF, the shipped lego_100 at 50x50): a preview of a pixel subset equals those pixels
//    of the whole render (mip-NeRF cone radii included, and the error view's ground truth).
// 3. The run thread's renderer (render_for_view) with the training paused between slices: a still
//    camera reaches the dataset's full resolution with every pixel rendered from the field (equal to a
//    direct full render), a moved camera restarts at low resolution, a moving camera stays low.
// 4. A live TrainingRun: the full-resolution view is reached while it trains; the lr follows the
//    schedule and the lr control overrides it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>
#include <tuple>

#include "app/viewer/progressive.h"
#include "app/viewer/run_state.h"
#include "app/viewer/training_run.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "render/nerf_render.h"
#include "tasks/preview.h"
#include "tasks/task_registry.h"
#include "support/shipped_data.h"
#include "support/viewer.h"

namespace {

using nf::viewer::ImageBuf;
using nf::viewer::Phase;
using nf::viewer::ProgressiveView;
using nf::viewer::RenderBudget;
using nf::viewer::RunSpec;
using nf::viewer::Snapshot;
using nf::viewer::TrainingRun;
using nf::viewer::ViewRequest;

ImageBuf image(const std::string& name, int64_t w, int64_t h, int64_t c, float fill) {
  ImageBuf b;
  b.name = name;
  b.kind = c == 3 ? "rgb" : "unit";
  b.width = w;
  b.height = h;
  b.channels = c;
  b.data.assign(static_cast<size_t>(w * h * c), fill);
  return b;
}

std::filesystem::path lego() { return nf_test::shipped_data() / "nerf_synthetic" / "lego_100"; }

// 50x50 images, 8 training frames, 128 rays of 8 + 8 samples (as tests/app/test_viewer_nerf.cpp).
nlohmann::json tiny_task() { return nf_test::tiny_nerf_task(); }

RunSpec tiny_spec() {
  RunSpec s;
  s.task = tiny_task();
  s.field = nf::mipnerf_config("small", "cn");
  s.lr = 5e-3;
  s.heldout_every = 1000;
  s.name = "tiny cn";
  return s;
}

using nf_test::pixels;

const ImageBuf* find(const std::vector<ImageBuf>& v, const std::string& name) {
  for (const auto& i : v)
    if (i.name == name) return &i;
  return nullptr;
}

}  // namespace

// A run thread's state built by hand: the tests call its renderer directly, one slice at a time.
namespace {

struct HandRun {
  TrainingRun::State s;
  explicit HandRun(double lr) {
    s.spec = tiny_spec();
    s.task_cfg = tiny_task();
    s.task = nf::make_task(s.task_cfg, c10::kCPU);
    at::manual_seed(0);
    s.field = nf::make_field(s.spec.field);
    nf::TrainOptions o;
    o.iters = 1000;
    o.lr = nf::LrSchedule{"constant", lr, -1};
    o.progress = false;
    s.trainer = std::make_unique<nf::Trainer>(s.field, *s.task, o);
    s.has_camera = true;
  }
};

}  // namespace

// ------------------------------------------------------------------ 1. bookkeeping
TEST(ViewerProgressive, PhaseOrderIsABayerPermutation) {
  const auto o2 = nf::viewer::phase_order(2);
  ASSERT_EQ(o2.size(), 4u);
  const int want[4][2] = {{0, 0}, {1, 1}, {1, 0}, {0, 1}};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(o2[k].x0, want[k][0]);
    EXPECT_EQ(o2[k].y0, want[k][1]);
  }
  for (int stride : {1, 3, 4, 5, 7}) {
    const auto o = nf::viewer::phase_order(stride);
    std::set<std::pair<int, int>> seen;
    for (const auto& p : o) {
      EXPECT_TRUE(p.x0 >= 0 && p.x0 < stride && p.y0 >= 0 && p.y0 < stride);
      seen.insert({p.x0, p.y0});
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(stride * stride)) << "stride " << stride;
  }
  // Stride 4: the first four phases are one per 2x2 block of offsets (spread, not a row).
  const auto o4 = nf::viewer::phase_order(4);
  EXPECT_EQ(o4[1].x0, 2);
  EXPECT_EQ(o4[1].y0, 2);
  EXPECT_EQ(nf::viewer::phase_stride(0.21, 1.0), 5);
  EXPECT_EQ(nf::viewer::phase_stride(0.25, 1.0), 4);
  EXPECT_EQ(nf::viewer::phase_stride(1.0, 1.0), 1);
  EXPECT_EQ(nf::viewer::phase_stride(0.25, 0.5), 2);
}

TEST(ViewerProgressive, CompositeCoversEveryPixelOnceOverTheUpsampledBase) {
  const int W = 7, H = 5, k = 3;
  // Base: a 2x2 low-resolution image with four distinct values.
  ImageBuf base = image("rgb", 2, 2, 3, 0);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) base.data[static_cast<size_t>((y * 2 + x) * 3 + c)] = 0.1f * (1 + y * 2 + x);
  ProgressiveView pv;
  pv.start(4, W, H, k, {base, image("acc", 2, 2, 1, 0.5f)}, {{"psnr_view", 20.0}}, 10);
  ASSERT_TRUE(pv.active());
  EXPECT_EQ(pv.view_id(), 4);
  EXPECT_DOUBLE_EQ(pv.coverage(), 0.0);
  EXPECT_EQ(pv.oldest_step(), -1);
  ASSERT_EQ(pv.images().size(), 2u);
  const auto& c0 = pv.images()[0];
  ASSERT_EQ(c0.width, W);
  ASSERT_EQ(c0.height, H);
  // Nearest upsampling: the corners show the base's corners.
  EXPECT_FLOAT_EQ(c0.data[0], 0.1f);
  EXPECT_FLOAT_EQ(c0.data[static_cast<size_t>((W - 1) * 3)], 0.2f);
  EXPECT_FLOAT_EQ(c0.data[static_cast<size_t>(((H - 1) * W) * 3)], 0.3f);
  EXPECT_FLOAT_EQ(c0.data[static_cast<size_t>(((H - 1) * W + W - 1) * 3)], 0.4f);
  // Render every phase with its own value: each pixel must end up holding its phase's value.
  std::vector<Phase> done;
  for (int n = 0; n < k * k; ++n) {
    const Phase p = pv.next();
    for (const auto& q : done) EXPECT_FALSE(q.x0 == p.x0 && q.y0 == p.y0) << "phase rendered twice";
    done.push_back(p);
    const int64_t pw = (W - p.x0 + k - 1) / k, ph = (H - p.y0 + k - 1) / k;
    EXPECT_EQ(pv.phase_pixels(p), pw * ph);
    const float v = 1.0f + static_cast<float>(p.y0 * k + p.x0);
    pv.put(p, {image("rgb", pw, ph, 3, v), image("acc", pw, ph, 1, -v)}, {{"psnr_view", 30.0}}, 100 + n);
    EXPECT_LT(pv.coverage(), n + 1 < k * k ? 1.0 : 1.0 + 1e-12);
  }
  EXPECT_DOUBLE_EQ(pv.coverage(), 1.0);
  EXPECT_EQ(pv.oldest_step(), 100);
  EXPECT_EQ(pv.newest_step(), 100 + k * k - 1);
  EXPECT_NEAR(pv.scalars().at("psnr_view"), 30.0, 1e-9);  // over the phases, no longer the base's 20
  const auto& rgb = pv.images()[0];
  const auto& acc = pv.images()[1];
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const float v = 1.0f + static_cast<float>((y % k) * k + x % k);
      EXPECT_FLOAT_EQ(rgb.data[static_cast<size_t>((y * W + x) * 3 + 2)], v) << x << "," << y;
      EXPECT_FLOAT_EQ(acc.data[static_cast<size_t>(y * W + x)], -v) << x << "," << y;
    }
  // Round robin: the next phase is the oldest (the first one rendered), and re-rendering it moves the
  // oldest step on.
  EXPECT_EQ(pv.next().x0, done[0].x0);
  EXPECT_EQ(pv.next().y0, done[0].y0);
  const Phase p = pv.next();
  const int64_t pw = (W - p.x0 + k - 1) / k, ph = (H - p.y0 + k - 1) / k;
  pv.put(p, {image("rgb", pw, ph, 3, 0), image("acc", pw, ph, 1, 0)}, {}, 200);
  EXPECT_EQ(pv.oldest_step(), 101);
  EXPECT_EQ(pv.next().x0, done[1].x0);
  // A phase image of the wrong size is refused.
  EXPECT_THROW(pv.put(pv.next(), {image("rgb", pw + 5, ph, 3, 0)}, {}, 201), std::runtime_error);
  // A full-resolution base counts as every phase rendered at its step.
  ProgressiveView full;
  full.start(5, W, H, k, {image("rgb", W, H, 3, 0.5f)}, {}, 42);
  EXPECT_DOUBLE_EQ(full.coverage(), 1.0);
  EXPECT_EQ(full.oldest_step(), 42);
}

// ------------------------------------------------------------------ 2. task level: pixel subsets
TEST(ViewerProgressive, NerfPixelSubsetEqualsThoseOfTheWholeRender) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego() << " not found";
  HandRun run(5e-3);
  run.s.trainer->run_steps(20);  // a field with some structure
  auto& task = run.s.task;
  auto& field = run.s.field;
  const auto info = task->preview_info();
  nf::PreviewRequest r;
  r.use_camera = true;
  r.camera = info.cameras[8].camera;  // the test view: the error view has ground truth
  r.dataset_view = 8;
  r.scale = 1.0;
  const nf::Preview whole = task->preview(*field, r);
  ASSERT_NO_FATAL_FAILURE(
      nf_test::expect_pixel_subsets_equal_whole(*task, *field, r, whole, {{3, 1, 2}, {4, 3, 0}, {2, 0, 1}}));
  // The subset camera alone would render cones stride times wider (a blurred image): not the same pixels.
  nf::NerfRenderOptions ro;
  ro.n_coarse = ro.n_fine = 8;
  const nf::Camera cam = nf::to_camera(info.cameras[8].camera);
  const auto wide = nf::render_view(nf::as_mipnerf(*field), nf::pixel_subset(cam, 4, 3, 0), info.near, info.far, ro,
                                    c10::kCPU);
  EXPECT_GT((wide.rgb - nf::pixel_subset(whole.images[0].second.pixels, 4, 3, 0)).abs().max().item<double>(), 1e-3);
  r.stride = 3;
  r.x0 = 3;  // outside the stride
  EXPECT_THROW(task->preview(*field, r), std::runtime_error);
}

// ------------------------------------------------------------------ 3. the renderer, training paused between slices
TEST(ViewerProgressive, StillCameraReachesFullResolutionFromTheField) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego() << " not found";
  HandRun run(5e-3);
  auto& s = run.s;
  s.trainer->run_steps(30);  // some structure in the picture
  const auto info = s.task->preview_info();
  ViewRequest v;
  v.id = 1;
  v.use_camera = true;
  v.camera = info.cameras[2].camera;  // 50 x 50
  RenderBudget b;
  b.train_share = 0.95;  // a small preview budget: low resolution while training
  b.frame_s = 1e-4;      // phases as small as the budget (at 50 x 50 one 50 ms phase is the whole image)
  const double slice_s = 0.01;
  // The first slice for a new camera: a low-resolution preview.
  nf::viewer::render_for_view(s, v, b, slice_s, false);
  const auto* first = find(s.images, "rgb");
  ASSERT_NE(first, nullptr) << s.status;
  const int64_t low_width = first->width;
  EXPECT_LT(low_width, 50);
  EXPECT_LT(s.view_scale, 1.0);
  EXPECT_FALSE(s.view_partial);
  const at::Tensor low = pixels(*first);
  // Further slices (no training in between): phases of the full-resolution view, as the slices' time
  // credit affords them; a slice without credit keeps the picture.
  int slices = 0, rendering = 0;
  double last_cov = 0;
  do {
    nf::viewer::render_for_view(s, v, b, slice_s, false);
    ++slices;
    if (!s.view_partial) {  // no credit yet: the low-resolution preview stays
      ASSERT_EQ(rendering, 0);
      ASSERT_EQ(find(s.images, "rgb")->width, low_width);
      continue;
    }
    EXPECT_GE(s.view_coverage, last_cov);
    if (s.view_coverage > last_cov) ++rendering;
    last_cov = s.view_coverage;
    ASSERT_EQ(find(s.images, "rgb")->width, 50);  // shown at full size from the first phase on
  } while (!(s.view_partial && s.view_coverage >= 1.0) && slices < 200000);
  ASSERT_TRUE(s.view_partial);
  ASSERT_DOUBLE_EQ(s.view_coverage, 1.0) << "after " << slices << " slices";
  EXPECT_GE(rendering, 2) << "the whole image in one slice: the budget was not small";
  EXPECT_GT(slices, rendering) << "every slice rendered: the training share was not kept";
  EXPECT_DOUBLE_EQ(s.view_scale, 1.0);
  // Every pixel is the field's: the composite equals a direct full-resolution render.
  nf::PreviewRequest r;
  r.use_camera = true;
  r.camera = v.camera;
  r.step = s.step();
  const auto direct = s.task->preview(*s.field, r);
  for (const auto& [name, im] : direct.images) {
    const auto* c = find(s.images, name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_LT((pixels(*c) - im.pixels.reshape({c->height, c->width, c->channels})).abs().max().item<double>(), 1e-4)
        << name;
  }
  // ... which the low-resolution preview was not.
  const auto up = at::upsample_nearest2d(low.permute({2, 0, 1}).unsqueeze(0), {50, 50}).squeeze(0).permute({1, 2, 0});
  EXPECT_GT((up - direct.images[0].second.pixels).abs().max().item<double>(), 0.05);
  // Training between slices: the round robin replaces the oldest phases with the current field's.
  const int64_t before = s.progressive.oldest_step();
  for (int i = 0; i < 3 || (s.progressive.newest_step() != s.step() && i < 2000); ++i) {
    s.trainer->run_steps(1);
    nf::viewer::render_for_view(s, v, b, slice_s, false);
  }
  EXPECT_EQ(s.progressive.newest_step(), s.step());
  EXPECT_GE(s.progressive.oldest_step(), before);
  EXPECT_DOUBLE_EQ(s.view_coverage, 1.0);
  // A moved camera restarts at low resolution.
  v.id = 2;
  v.camera = info.cameras[5].camera;
  nf::viewer::render_for_view(s, v, b, slice_s, false);
  EXPECT_LT(find(s.images, "rgb")->width, 50);
  EXPECT_EQ(s.view_id, 2);
  EXPECT_FALSE(s.view_partial);
  for (int i = 0; i < 200000 && !s.view_partial; ++i) nf::viewer::render_for_view(s, v, b, slice_s, false);
  EXPECT_TRUE(s.view_partial);
  EXPECT_LT(s.view_coverage, 1.0);
  // A moving camera keeps the fast low-resolution preview.
  v.moving = true;
  for (int i = 0; i < 3; ++i) {
    v.id = 3 + i;
    nf::viewer::render_for_view(s, v, b, slice_s, false);
    EXPECT_LT(find(s.images, "rgb")->width, 50);
    EXPECT_FALSE(s.view_partial);
  }
  // Still again, then paused (no slice): the whole image at once.
  v.moving = false;
  v.id = 9;
  nf::viewer::render_for_view(s, v, b, slice_s, false);
  for (int i = 0; i < 200000 && !s.view_partial; ++i) nf::viewer::render_for_view(s, v, b, slice_s, false);
  ASSERT_TRUE(s.view_partial);
  nf::viewer::render_for_view(s, v, b, 0.0, false);
  EXPECT_FALSE(s.view_partial);
  EXPECT_EQ(find(s.images, "rgb")->width, 50);
  EXPECT_DOUBLE_EQ(s.view_coverage, 1.0);
  // --preview-scale (fixed_scale) keeps its fixed factor while training.
  b.fixed_scale = 0.5;
  nf::viewer::render_for_view(s, v, b, slice_s, false);
  EXPECT_EQ(find(s.images, "rgb")->width, 25);
  EXPECT_FALSE(s.view_partial);
}

// The training share holds over time whatever a render costs: with real training slices in between,
// the previews' total time stays within the credit the slices granted, (1 - share) / share of the
// training time, plus the overshoot of one render; and they still refine the view.
TEST(ViewerProgressive, PreviewsSpendNoMoreThanTheTrainingShareLeaves) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego() << " not found";
  HandRun run(5e-3);
  auto& s = run.s;
  const auto info = s.task->preview_info();
  ViewRequest v;
  v.id = 1;
  v.use_camera = true;
  v.camera = info.cameras[3].camera;  // 50 x 50
  for (const double share : {0.8, 0.95}) {
    RenderBudget b;
    b.train_share = share;
    s.preview_credit = s.preview_spent_s = s.train_spent_s = 0;
    s.images.clear();  // a new view for each share
    ++v.id;
    double longest = 0;
    int rendered = 0;
    for (int i = 0; i < 80; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      s.trainer->run_steps(1);
      const auto t1 = std::chrono::steady_clock::now();
      const int64_t shown = s.view_step;
      nf::viewer::render_for_view(s, v, b, std::chrono::duration<double>(t1 - t0).count(), false);
      longest = std::max(longest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
      rendered += s.view_step != shown;
    }
    const double granted = s.train_spent_s * (1 - share) / share;
    EXPECT_LE(s.preview_spent_s, granted + longest + 1e-3)
        << "share " << share << ": previews took " << s.preview_spent_s << " s of " << s.train_spent_s
        << " s training (longest render " << longest << " s)";
    EXPECT_GT(s.preview_spent_s, 0);
    EXPECT_GE(rendered, 2) << "share " << share << ": the view was not refreshed while training";
  }
}

// ------------------------------------------------------------------ 4. a live run
TEST(ViewerProgressive, LiveRunReachesFullResolutionWhileTraining) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego() << " not found";
  RenderBudget b;
  b.train_share = 0.95;
  TrainingRun run(tiny_spec(), /*paused=*/false, /*steps_per_slice=*/1, b);
  ASSERT_TRUE(run.wait_for_step(0, 120));
  const auto info = run.info();
  ViewRequest v;
  v.id = 1;
  v.use_camera = true;
  v.camera = info.cameras[1].camera;
  run.set_view(v);
  Snapshot s;
  bool partial_seen = false, full = false;
  int64_t first_step = -1;
  const auto t0 = std::chrono::steady_clock::now();
  while (!full && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(240)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!run.latest(s) || s.view_id != 1 || !s.image("rgb")) continue;
    ASSERT_FALSE(s.failed) << s.status;
    if (first_step < 0) first_step = s.step;
    partial_seen = partial_seen || (s.view_coverage > 0 && s.view_coverage < 1);
    full = s.view_coverage >= 1.0 && s.image("rgb")->width == 50 && s.step > first_step;
  }
  ASSERT_TRUE(full) << "no full-resolution view while training (" << (s.image("rgb") ? s.image("rgb")->width : 0)
                    << " px, coverage " << s.view_coverage << ", step " << s.step << ")";
  EXPECT_FALSE(s.paused);
  EXPECT_DOUBLE_EQ(s.view_scale, 1.0);
  EXPECT_TRUE(partial_seen) << "the view went to full resolution without phases";
}

TEST(ViewerProgressive, RunFollowsTheScheduleAndTheLrControlOverridesIt) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego() << " not found";
  RunSpec spec = tiny_spec();
  spec.lr = 2e-3;
  spec.schedule = nf::LrSchedule{"cosine", 999, 1e-4, 4};  // warm-up 4, then cosine to 1e-4 (lr: spec.lr)
  spec.schedule_iters = 20;
  nf::LrSchedule want = spec.schedule;
  want.lr = spec.lr;
  nf::viewer::RenderBudget b;
  b.fixed_scale = 0.2;
  TrainingRun run(spec, /*paused=*/true, 1, b);
  ASSERT_TRUE(run.wait_for_step(0, 120));
  for (int64_t n : {2, 5, 9}) {
    run.step(n - run.published_step());
    ASSERT_TRUE(run.wait_for_step(n, 120));
    Snapshot s;
    ASSERT_TRUE(run.latest(s));
    ASSERT_FALSE(s.failed) << s.status;
    // The lr of the last step (set on the optimizer for it) is the schedule's at that step.
    EXPECT_NEAR(s.lr, want.at(n - 1, 20), 1e-12) << "after " << n << " steps";
  }
  EXPECT_LT(want.at(1, 20), want.at(4, 20));   // warm-up
  EXPECT_GT(want.at(4, 20), want.at(8, 20));   // decay
  // The lr control: a constant lr from the next step on (no warm-up, no decay).
  run.set_lr(7e-4);
  run.step(3);
  ASSERT_TRUE(run.wait_for_step(12, 120));
  Snapshot s;
  ASSERT_TRUE(run.latest(s));
  EXPECT_DOUBLE_EQ(s.lr, 7e-4);
}
