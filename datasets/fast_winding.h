#pragma once
// Fast generalised winding numbers (Barill, Dickson, Schmidt, Levin, Jacobson 2018, "Fast
// Winding Numbers for Soups and Clouds"): a bounding-volume hierarchy over the triangles; a
// cluster far from the query point (distance > beta * cluster radius) contributes through a
// second-order multipole expansion of its area-weighted normals, a near one is opened, and
// leaves are summed exactly (Van Oosterom & Strackee, as datasets/mesh_occupancy.cpp).
// The expansion keeps the dipole, first- and second-order terms (Barill et al.'s order 2), so a
// far cluster's error falls like (radius / distance)^3.
//
// Cost per point ~ O(log F) instead of O(F), so the 128^3 (2M) or 512^3 (134M) evaluation
// grids of the occupancy task can be labelled in seconds to minutes on a CPU, where the exact
// O(N * F) sum of winding_numbers() would take hours. The far-field error is small (~1e-3 of a
// unit with beta = 2, measured in tests/tasks/test_occupancy.cpp) and only matters where |w| is close to 0.5, i.e. at the surface, where the
// sum is exact; tests compare the labels against occupancy_labels(WindingNumber).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "datasets/mesh_io.h"

namespace nf {

class FastWinding {
 public:
  // mesh: validated triangle mesh (any orientation; labels use |w|). beta: opening criterion
  // (larger = more exact, slower); leaf_size: triangles per leaf.
  explicit FastWinding(const Mesh& mesh, double beta = 2.0, int leaf_size = 8);

  // points: [N, 3] any float dtype / device -> [N] float32 winding numbers on the points' device
  // (computed on the CPU, at::parallel_for over points, double precision).
  at::Tensor winding_numbers(const at::Tensor& points) const;

  // Same rule as occupancy_labels(..., WindingNumber): 1 where |w| >= 0.5 and the point lies in
  // the mesh's bounding box padded by 1e-4 of its longest side, else 0.
  // points: [N, 3] -> [N] float32 {0, 1} on the points' device.
  at::Tensor occupancy(const at::Tensor& points) const;

  int64_t num_nodes() const { return static_cast<int64_t>(nodes_.size()); }

 private:
  struct Node {
    double centre[3];  // area-weighted centroid of the cluster
    double radius;     // max distance from centre to a vertex of the cluster
    double n[3];       // sum of area-weighted normals (0.5 (b - a) x (c - a))
    double m[9];       // M_ij = sum_t (c_t - centre)_i n_t,j  (n_t area weighted; row-major)
    double q[18];      // Q_ijk = sum_t n_t,i / A_t * int_t (x - centre)_j (x - centre)_k dA, for
                       // (j, k) in {00, 01, 02, 11, 12, 22}: q[6 * i + jk]
    int32_t left = -1, right = -1;  // children (inner node) or -1 (leaf)
    int32_t begin = 0, end = 0;     // triangle range (leaf)
  };
  int32_t build(int32_t begin, int32_t end, std::vector<double>& centroids);
  double query(const double* p) const;

  std::vector<double> tri_;  // [F, 9] corners, permuted to leaf order
  std::vector<double> area_n_;  // [F, 3] area-weighted normals
  std::vector<Node> nodes_;
  double beta_;
  int leaf_size_;
  double lo_[3], hi_[3];  // mesh bbox (padded) for the occupancy rule
};

}  // namespace nf
