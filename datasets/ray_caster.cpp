// Embree 3 ray casting (see ray_caster.h).
#include "datasets/ray_caster.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#ifdef NORMFIELD_WITH_EMBREE
#include <embree3/rtcore.h>
#endif

namespace nf {

#ifdef NORMFIELD_WITH_EMBREE
struct RayCaster::Impl {
  RTCDevice device = nullptr;
  RTCScene scene = nullptr;
  float diagonal = 0;  // of the vertices' bounding box: count_hits steps 1e-6 of it past each hit
  int64_t faces = 0;
  ~Impl() {
    if (scene) rtcReleaseScene(scene);
    if (device) rtcReleaseDevice(device);
  }
};

namespace {
void check(RTCDevice d, const char* what) {
  const RTCError e = rtcGetDeviceError(d);
  if (e != RTC_ERROR_NONE) throw std::runtime_error(std::string("embree: ") + what + " failed (error " + std::to_string(int(e)) + ")");
}

// An unhit ray from origin o [3] along direction d [3], starting at t_near (tfar: infinity).
RTCRayHit ray_from(const float* o, const float* d, float t_near) {
  RTCRayHit rh;
  rh.ray.org_x = o[0];
  rh.ray.org_y = o[1];
  rh.ray.org_z = o[2];
  rh.ray.dir_x = d[0];
  rh.ray.dir_y = d[1];
  rh.ray.dir_z = d[2];
  rh.ray.tnear = t_near;
  rh.ray.tfar = std::numeric_limits<float>::infinity();
  rh.ray.time = 0.0f;
  rh.ray.mask = 0xFFFFFFFFu;
  rh.ray.id = 0;
  rh.ray.flags = 0;
  rh.hit.geomID = RTC_INVALID_GEOMETRY_ID;
  rh.hit.primID = RTC_INVALID_GEOMETRY_ID;
  rh.hit.instID[0] = RTC_INVALID_GEOMETRY_ID;
  return rh;
}
}  // namespace

RayCaster::RayCaster(const Mesh& mesh) : impl_(std::make_unique<Impl>()) {
  const at::Tensor& vertices = mesh.vertices;  // [V, 3]
  const at::Tensor& faces = mesh.faces;        // [F, 3]
  if (!vertices.defined() || vertices.dim() != 2 || vertices.size(1) != 3 || vertices.size(0) == 0)
    throw std::runtime_error("RayCaster: expected vertices of shape [V, 3], V > 0");
  if (!faces.defined() || faces.dim() != 2 || faces.size(1) != 3 || faces.size(0) == 0)
    throw std::runtime_error("RayCaster: expected faces of shape [F, 3], F > 0");
  const at::Tensor v = vertices.to(at::kCPU, at::kFloat).contiguous();
  const at::Tensor f = faces.to(at::kCPU, at::kLong).contiguous();
  if (f.min().item<int64_t>() < 0 || f.max().item<int64_t>() >= v.size(0))
    throw std::runtime_error("RayCaster: face index out of range");
  if (!at::isfinite(v).all().item<bool>()) throw std::runtime_error("RayCaster: non-finite vertices");
  impl_->diagonal = (std::get<0>(v.max(0)) - std::get<0>(v.min(0))).norm().item<float>();
  impl_->device = rtcNewDevice(nullptr);
  if (!impl_->device) throw std::runtime_error("embree: cannot create a device");
  impl_->scene = rtcNewScene(impl_->device);
  RTCGeometry g = rtcNewGeometry(impl_->device, RTC_GEOMETRY_TYPE_TRIANGLE);
  auto* vb = static_cast<float*>(rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_VERTEX, 0, RTC_FORMAT_FLOAT3,
                                                         3 * sizeof(float), size_t(v.size(0))));
  auto* ib = static_cast<unsigned*>(rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_INDEX, 0, RTC_FORMAT_UINT3,
                                                            3 * sizeof(unsigned), size_t(f.size(0))));
  check(impl_->device, "buffer allocation");
  const float* vs = v.data_ptr<float>();
  for (int64_t i = 0; i < 3 * v.size(0); ++i) vb[i] = vs[i];
  const int64_t* fs = f.data_ptr<int64_t>();
  for (int64_t i = 0; i < 3 * f.size(0); ++i) ib[i] = unsigned(fs[i]);
  rtcCommitGeometry(g);
  rtcAttachGeometry(impl_->scene, g);
  rtcReleaseGeometry(g);
  rtcCommitScene(impl_->scene);
  impl_->faces = f.size(0);
  check(impl_->device, "scene build");
}

RayHits RayCaster::intersect(const at::Tensor& origins, const at::Tensor& dirs, float t_near) const {
  if (origins.dim() != 2 || origins.size(1) != 3 || dirs.sizes() != origins.sizes())
    throw std::runtime_error("RayCaster::intersect: expected origins and dirs of shape [N, 3]");
  const at::Tensor o = origins.to(at::kCPU, at::kFloat).contiguous(), d = dirs.to(at::kCPU, at::kFloat).contiguous();
  const int64_t n = o.size(0);
  RayHits h{at::full({n}, std::numeric_limits<float>::infinity(), at::kFloat), at::full({n}, -1, at::kLong)};
  const float* op = o.data_ptr<float>();
  const float* dp = d.data_ptr<float>();
  float* tp = h.t.data_ptr<float>();
  int64_t* fp = h.face.data_ptr<int64_t>();
  RTCScene scene = impl_->scene;
  at::parallel_for(0, n, 4096, [&](int64_t b, int64_t e) {
    RTCIntersectContext ctx;
    rtcInitIntersectContext(&ctx);
    for (int64_t i = b; i < e; ++i) {
      RTCRayHit rh = ray_from(op + 3 * i, dp + 3 * i, t_near);
      rtcIntersect1(scene, &ctx, &rh);
      if (rh.hit.geomID != RTC_INVALID_GEOMETRY_ID) {
        tp[i] = rh.ray.tfar;
        fp[i] = int64_t(rh.hit.primID);
      }
    }
  });
  return h;
}

at::Tensor RayCaster::count_hits(const at::Tensor& origins, const at::Tensor& dirs) const {
  if (origins.dim() != 2 || origins.size(1) != 3 || dirs.sizes() != origins.sizes())
    throw std::runtime_error("RayCaster::count_hits: expected origins and dirs of shape [N, 3]");
  const at::Tensor o = origins.to(at::kCPU, at::kFloat).contiguous(), d = dirs.to(at::kCPU, at::kFloat).contiguous();
  const int64_t n = o.size(0);
  at::Tensor out = at::zeros({n}, at::kLong);  // [N]
  const float* op = o.data_ptr<float>();
  const float* dp = d.data_ptr<float>();
  int64_t* cp = out.data_ptr<int64_t>();
  RTCScene scene = impl_->scene;
  const float gap = 1e-6f * std::max(impl_->diagonal, std::numeric_limits<float>::min());
  const int64_t max_hits = impl_->faces + 1;  // a ray crosses each face at most once
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    RTCIntersectContext ctx;
    rtcInitIntersectContext(&ctx);
    for (int64_t i = b; i < e; ++i) {
      const float* dv = dp + 3 * i;
      const float len = std::sqrt(dv[0] * dv[0] + dv[1] * dv[1] + dv[2] * dv[2]);
      if (!(len > 0)) continue;
      const float step = gap / len;  // in units of t
      float t_near = 0.0f;
      int64_t hits = 0;
      while (hits < max_hits) {
        RTCRayHit rh = ray_from(op + 3 * i, dv, t_near);
        rtcIntersect1(scene, &ctx, &rh);
        if (rh.hit.geomID == RTC_INVALID_GEOMETRY_ID) break;
        ++hits;
        // Continue past this hit (always forward, even where the step is below float resolution).
        t_near = std::max(rh.ray.tfar + step, std::nextafter(rh.ray.tfar, std::numeric_limits<float>::infinity()));
      }
      cp[i] = hits;
    }
  });
  return out;
}

bool RayCaster::available() { return true; }

#else  // no Embree

struct RayCaster::Impl {};

RayCaster::RayCaster(const Mesh&) {
  throw std::runtime_error("ray casting: normfield was built without Embree 3 (install libembree-dev)");
}
RayHits RayCaster::intersect(const at::Tensor&, const at::Tensor&, float) const { return {}; }
at::Tensor RayCaster::count_hits(const at::Tensor&, const at::Tensor&) const { return {}; }
bool RayCaster::available() { return false; }

#endif

RayCaster::~RayCaster() = default;

}  // namespace nf
