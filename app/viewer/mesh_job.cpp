// MeshJob: the viewer's mesh extraction on a run's training thread (see mesh_job.h).
#include "app/viewer/mesh_job.h"

#include <ATen/ATen.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "render/mesh.h"
#include "render/mesh_blocks.h"
#include "tasks/task.h"

namespace nf::viewer {

struct MeshJob::Shared {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool info_asked = false, info_ready = false;
  MeshInfo info;
  int64_t queued = 0;  // extractions and saves queued or running
  bool extracting = false;
  double progress = 0;
  std::atomic<bool> cancel{false};
  std::string message;
  MeshBuf buf;     // the latest mesh, plain
  Mesh mesh;       // the same, for Save PLY (touched on the training thread only)
  void finish(std::string msg) {
    std::lock_guard<std::mutex> lk(mu);
    message = std::move(msg);
    extracting = false;
    --queued;
    cv.notify_all();
  }
};

namespace {

MeshBuf to_buf(const Mesh& m) {  // vertices [V, 3], normals [V, 3], faces [F, 3]
  MeshBuf b;
  const at::Tensor v = m.vertices.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor n = (m.normals.defined() ? m.normals : compute_vertex_normals(m)).to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor f = m.faces.to(at::kCPU, at::kInt).contiguous();
  b.vertices = v.size(0);
  b.faces = f.size(0);
  b.positions.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
  b.normals.assign(n.data_ptr<float>(), n.data_ptr<float>() + n.numel());
  b.indices.resize(static_cast<size_t>(f.numel()));
  for (int64_t i = 0; i < f.numel(); ++i) b.indices[static_cast<size_t>(i)] = static_cast<uint32_t>(f.data_ptr<int32_t>()[i]);
  if (b.vertices > 0) {
    const at::Tensor lo = std::get<0>(v.min(0)), hi = std::get<0>(v.max(0));
    for (int a = 0; a < 3; ++a) {
      b.lo[static_cast<size_t>(a)] = lo[a].item<float>();
      b.hi[static_cast<size_t>(a)] = hi[a].item<float>();
    }
  }
  b.boundary_edges = b.faces > 0 ? count_boundary_edges(m) : 0;
  return b;
}

}  // namespace

MeshJob::MeshJob(TrainingRun& run) : run_(run), shared_(std::make_shared<Shared>()) {}

MeshJob::~MeshJob() { cancel(); }

bool MeshJob::info(MeshInfo& out) {
  auto sh = shared_;
  {
    std::lock_guard<std::mutex> lk(sh->mu);
    if (sh->info_ready) {
      out = sh->info;
      return true;
    }
    if (sh->info_asked) return false;
    sh->info_asked = true;
  }
  run_.with_task([sh](Task* task, FieldImpl*, int64_t) {
    MeshInfo i = task ? task->mesh_info() : MeshInfo{};
    std::lock_guard<std::mutex> lk(sh->mu);
    sh->info = i;
    sh->info_ready = true;
  });
  return false;
}

void MeshJob::start(MeshRequest request) {
  auto sh = shared_;
  {
    std::lock_guard<std::mutex> lk(sh->mu);
    if (sh->extracting) return;
    sh->extracting = true;
    ++sh->queued;
    sh->progress = 0;
    sh->message = "extracting ...";
  }
  sh->cancel = false;
  run_.with_task([sh, request](Task* task, FieldImpl* field, int64_t step) mutable {
    if (!task || !field) {
      sh->finish("no field to extract a mesh from");
      return;
    }
    request.step = step;
    request.progress = [sh](double f) {
      std::lock_guard<std::mutex> lk(sh->mu);
      sh->progress = f;
      return !sh->cancel.load();
    };
    const auto t0 = std::chrono::steady_clock::now();
    try {
      auto m = task->extract_mesh(*field, request);
      if (!m) {
        sh->finish("this task has no mesh");
        return;
      }
      MeshBuf b = to_buf(*m);
      b.step = step;
      b.resolution = request.resolution;
      b.threshold = request.threshold_or(task->mesh_info());
      b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char msg[200];
      std::snprintf(msg, sizeof msg, "mesh at step %lld: %lld vertices, %lld faces, %lld boundary edges (%.1f s)",
                    static_cast<long long>(step), static_cast<long long>(b.vertices), static_cast<long long>(b.faces),
                    static_cast<long long>(b.boundary_edges), b.seconds);
      if (b.faces == 0)
        std::snprintf(msg, sizeof msg, "mesh at step %lld: empty (nothing above the threshold %.3g: lower it)",
                      static_cast<long long>(step), b.threshold);
      sh->mesh = std::move(*m);
      {
        std::lock_guard<std::mutex> lk(sh->mu);
        b.version = sh->buf.version + 1;
        sh->buf = std::move(b);
      }
      sh->finish(msg);
    } catch (const MeshCancelled&) {
      sh->finish("mesh extraction cancelled");
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (msg.find('\n') != std::string::npos) msg = msg.substr(0, msg.find('\n'));
      sh->finish(msg);
    }
  });
}

void MeshJob::cancel() { shared_->cancel = true; }

MeshJobStatus MeshJob::status() const {
  std::lock_guard<std::mutex> lk(shared_->mu);
  return {shared_->queued > 0, shared_->progress, shared_->message, shared_->buf.version};
}

bool MeshJob::latest(MeshBuf& out) const {
  std::lock_guard<std::mutex> lk(shared_->mu);
  if (shared_->buf.version <= out.version) return false;
  out = shared_->buf;
  return true;
}

void MeshJob::save_ply(std::string path) {
  auto sh = shared_;
  {
    std::lock_guard<std::mutex> lk(sh->mu);
    ++sh->queued;
  }
  run_.with_task([sh, path](Task*, FieldImpl*, int64_t) {
    if (sh->mesh.num_vertices() == 0 && sh->mesh.num_faces() == 0) {
      std::lock_guard<std::mutex> lk(sh->mu);
      sh->message = "no mesh to save: extract one first";
      --sh->queued;
      sh->cv.notify_all();
      return;
    }
    std::string msg;
    try {
      write_ply(path, sh->mesh);
      msg = "saved " + path;
    } catch (const std::exception& e) {
      msg = e.what();
    }
    std::lock_guard<std::mutex> lk(sh->mu);
    sh->message = msg;
    --sh->queued;
    sh->cv.notify_all();
  });
}

bool MeshJob::wait_idle(double timeout_s) const {
  std::unique_lock<std::mutex> lk(shared_->mu);
  return shared_->cv.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return shared_->queued == 0; });
}

}  // namespace nf::viewer
