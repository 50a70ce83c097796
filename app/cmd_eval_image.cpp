// normfield eval-image: the paper's image table (methods x architectures x images) as a resumable,
// shardable sweep with a results store, a Markdown/CSV table beside the paper's Table 2, and plots.
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "app/assets.h"
#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/image_io.h"
#include "fields/config.h"
#include "fields/registry.h"
#include "tasks/image_fit.h"
#include "report/plot_lines.h"
#include "tasks/sweep.h"
#include "tasks/task_registry.h"

namespace nf::app {
namespace {
namespace fs = std::filesystem;

struct EvalImage {
  std::vector<std::string> methods = method_names();
  std::vector<std::string> archs{"5x20", "5x30", "10x28", "10x40", "13x49"};
  std::vector<std::string> images;  // files or folders; default NORMFIELD_DATA/kodak
  int64_t max_images = 0;
  int64_t iters = 100000;
  int64_t crop = 0;  // centre crop size (0: full image)
  double lr_norm = paper_default_lr(true), lr_plain = paper_default_lr(false);
  std::string out = "out/eval-image";
  std::string shard = "1/1";
  std::vector<std::string> merge;
  bool table_only = false;
  std::string device = "cpu";
  int threads = 0;
  uint64_t seed = 0;
  bool quiet = false;
};

std::vector<fs::path> list_images(const EvalImage& st) {
  std::vector<std::string> srcs = st.images;
  if (srcs.empty()) srcs.push_back((data_dir() / "kodak").string());
  std::vector<fs::path> files;
  for (const auto& s : srcs) {
    if (fs::is_directory(s)) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::directory_iterator(s)) {
        auto ext = e.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
        if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::exists(s)) {
      files.push_back(s);
    } else {
      throw std::runtime_error(s + ": no such image or folder (--images; default is $NORMFIELD_DATA/kodak)");
    }
  }
  if (st.max_images > 0 && static_cast<int64_t>(files.size()) > st.max_images) files.resize(st.max_images);
  if (files.empty()) throw std::runtime_error("--images: no PNG/JPEG images found");
  return files;
}

std::string protocol_tag(const EvalImage& st) {
  return "iters=" + std::to_string(st.iters) + ",crop=" + std::to_string(st.crop) + ",seed=" + std::to_string(st.seed);
}

// Mean PSNR/SSIM/bpp per (method, arch) over the records of this protocol, the paper beside it.
void write_tables(const EvalImage& st, const std::vector<nlohmann::json>& records) {
  struct Acc {
    double psnr = 0, ssim = 0, bpp = 0, ms = 0;
    int n = 0;
  };
  std::map<std::pair<std::string, std::string>, Acc> acc;
  const auto tag = protocol_tag(st);
  for (const auto& r : records) {
    if (r.value("protocol", "") != tag) continue;
    auto& a = acc[{r["method"].get<std::string>(), r["arch"].get<std::string>()}];
    a.psnr += r["psnr"].get<double>();
    a.ssim += r["ssim"].get<double>();
    a.bpp += r["bpp"].get<double>();
    a.ms += r.value("ms_per_iter", 0.0);
    a.n += 1;
  }
  nlohmann::json paper;
  try {
    paper = load_config_file(asset("paper/table2.json"));
  } catch (const std::exception& e) {
    std::cerr << "note: " << e.what() << "; table without the paper's numbers\n";
  }
  auto paper_val = [&](const std::string& metric, const std::string& arch, const std::string& m) {
    if (paper.contains(metric) && paper[metric].contains(arch) && paper[metric][arch].contains(m))
      return paper[metric][arch][m].get<double>();
    return std::nan("");
  };
  std::ostringstream md, csv;
  md << "# Image fitting (" << tag << ")\n\nCell: ours / paper (Table 2, 100k iterations, 24 Kodak images). "
     << "n = images averaged.\n";
  csv << "method,arch,n_images,psnr,ssim,bpp,ms_per_iter,paper_psnr,paper_ssim\n";
  for (const std::string metric : {"psnr", "ssim"}) {
    md << "\n## " << (metric == "psnr" ? "PSNR (dB)" : "SSIM") << "\n\n| arch | n |";
    for (const auto& m : st.methods) md << " " << m << " |";
    md << "\n|---|---|";
    for (size_t i = 0; i < st.methods.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& a : st.archs) {
      int n = 0;
      for (const auto& m : st.methods) n = std::max(n, acc[{m, a}].n);
      md << "| " << a << " | " << n << " |";
      for (const auto& m : st.methods) {
        const auto& c = acc[{m, a}];
        char buf[64];
        const double p = paper_val(metric, a, m);
        if (c.n == 0)
          std::snprintf(buf, sizeof buf, metric == "psnr" ? " - / %.2f |" : " - / %.3f |", p);
        else if (metric == "psnr")
          std::snprintf(buf, sizeof buf, " %.2f / %.2f |", c.psnr / c.n, p);
        else
          std::snprintf(buf, sizeof buf, " %.3f / %.3f |", c.ssim / c.n, p);
        md << buf;
      }
      md << "\n";
    }
  }
  for (const auto& a : st.archs)
    for (const auto& m : st.methods) {
      const auto& c = acc[{m, a}];
      if (c.n == 0) continue;
      csv << m << "," << a << "," << c.n << "," << c.psnr / c.n << "," << c.ssim / c.n << "," << c.bpp / c.n << ","
          << c.ms / c.n << "," << paper_val("psnr", a, m) << "," << paper_val("ssim", a, m) << "\n";
    }
  std::ofstream(fs::path(st.out) / "table.md") << md.str();
  std::ofstream(fs::path(st.out) / "table.csv") << csv.str();
  std::cout << md.str();

  // Rate-distortion: one line per method through the architectures (bpp grows with the arch).
  std::vector<LineSeries> rd_psnr, rd_ssim;
  for (const auto& m : st.methods) {
    LineSeries p{m, {}, {}}, s{m, {}, {}};
    for (const auto& a : st.archs) {
      const auto& c = acc[{m, a}];
      if (c.n == 0) continue;
      p.x.push_back(c.bpp / c.n);
      p.y.push_back(c.psnr / c.n);
      s.x.push_back(c.bpp / c.n);
      s.y.push_back(c.ssim / c.n);
    }
    if (!p.x.empty()) {
      rd_psnr.push_back(p);
      rd_ssim.push_back(s);
    }
  }
  plot_lines(fs::path(st.out) / "rd_psnr.png", rd_psnr, {"PSNR vs bpp (" + tag + ")", "bits per pixel", "PSNR (dB)"});
  plot_lines(fs::path(st.out) / "rd_ssim.png", rd_ssim, {"SSIM vs bpp (" + tag + ")", "bits per pixel", "SSIM"});

  // Training curves: mean PSNR (training batch) per method at each architecture.
  for (const auto& a : st.archs) {
    std::vector<LineSeries> curves;
    for (const auto& m : st.methods) {
      std::map<int64_t, std::pair<double, int>> sum;
      for (const auto& r : records) {
        if (r.value("protocol", "") != tag || r["method"] != m || r["arch"] != a || !r.contains("curve")) continue;
        for (const auto& pt : r["curve"]) {
          auto& e = sum[pt[0].get<int64_t>()];
          e.first += pt[1].get<double>();
          e.second += 1;
        }
      }
      if (sum.empty()) continue;
      LineSeries s{m, {}, {}};
      for (const auto& [step, e] : sum) {
        s.x.push_back(static_cast<double>(step));
        s.y.push_back(e.first / e.second);
      }
      curves.push_back(s);
    }
    if (!curves.empty())
      plot_lines(fs::path(st.out) / ("curves_" + a + ".png"), curves,
                 {"training PSNR, " + a + " (" + tag + ")", "iteration", "PSNR (dB)", false, false});
  }
}

Command reg([](CLI::App& app) {
  auto st = std::make_shared<EvalImage>();
  auto* sub = app.add_subcommand("eval-image", "the paper's image table: methods x architectures x images, resumable and shardable");
  sub->add_option("--methods", st->methods, "methods (default: the 13 of Table 2)")->delimiter(',');
  sub->add_option("--archs", st->archs, "architectures (default: 5x20,5x30,10x28,10x40,13x49)")->delimiter(',');
  sub->add_option("--images", st->images, "image files or folders (default: $NORMFIELD_DATA/kodak)")->delimiter(',');
  sub->add_option("--max-images", st->max_images, "use only the first N images")->check(positive_int());
  sub->add_option("--iters", st->iters, "iterations per run (paper: 100000)")->capture_default_str()->check(positive_int());
  sub->add_option("--crop", st->crop, "centre crop of S x S pixels (0: full image) for reduced protocols")
      ->check(int_in(0));
  sub->add_option("--lr-norm", st->lr_norm, "lr for methods with a norm layer")->capture_default_str()->check(positive_float());
  sub->add_option("--lr-plain", st->lr_plain, "lr for methods without")->capture_default_str()->check(positive_float());
  sub->add_option("--out", st->out, "folder of the results store (results.jsonl), table and plots")->capture_default_str();
  sub->add_option("--shard", st->shard, "run only the k-th of n disjoint parts (k/n), e.g. $SLURM_ARRAY_TASK_ID/8")
      ->capture_default_str();
  sub->add_option("--merge", st->merge, "other results stores to include in the table")->delimiter(',');
  sub->add_flag("--table-only", st->table_only, "write the table from the store(s) without training");
  sub->add_option("--device", st->device, "cpu or cuda")->capture_default_str();
  sub->add_option("--threads", st->threads, "CPU threads (0: default)")->check(thread_count());
  sub->add_option("--seed", st->seed, "random seed")->capture_default_str()->check(nonnegative_int());
  sub->add_flag("--quiet", st->quiet, "no per-run progress output");
  set_action(sub, [st]() {
    auto device = setup_device(st->device, st->threads, st->seed);
    for (const auto& m : st->methods) method_config(m, 2, 3, 1, 1);  // validate names up front
    for (const auto& a : st->archs) parse_arch(a);
    Sweep sweep({"eval-image", st->out, st->shard, st->merge, st->table_only, false});
    if (!st->table_only) {
      auto files = list_images(*st);
      const auto tag = protocol_tag(*st);
      std::vector<SweepJob> jobs;
      for (const auto& img : files)
        for (const auto& a : st->archs)
          for (const auto& m : st->methods)
            jobs.push_back({m + "|" + a + "|" + img.filename().string() + "|" + tag, [st, &device, &tag, img, a, m]() {
              auto im = load_image(img);
              auto pixels = im.channels == 3 || im.channels == 1 ? im.pixels : to_rgb(im.pixels);
              if (st->crop > 0) {
                const int64_t H = pixels.size(0), W = pixels.size(1), S = st->crop;
                if (S > H || S > W) throw std::runtime_error(img.string() + ": --crop " + std::to_string(S) + " exceeds the image");
                pixels = pixels.slice(0, (H - S) / 2, (H - S) / 2 + S).slice(1, (W - S) / 2, (W - S) / 2 + S).contiguous();
              }
              auto [L, W] = parse_arch(a);
              TrainOptions o;
              o.iters = st->iters;
              o.lr.lr = method_has_norm(m) ? st->lr_norm : st->lr_plain;
              o.progress = !st->quiet;
              o.log_every = std::max<int64_t>(1, st->iters / 20);
              o.label = m + " " + a + " " + img.filename().string();
              // Each run checkpoints into its own folder (periodically, and on Ctrl-C) and resumes from it.
              o.out_dir = fs::path(st->out) / "runs" / tag / img.stem() / a / m;
              o.resume = true;
              torch::manual_seed(st->seed);
              auto r = fit_image(pixels, method_config(m, 2, pixels.size(2), L, W), o, {}, device, img.string());
              nlohmann::json rec = r.metrics;
              rec.erase("field");
              rec["protocol"] = tag;
              rec["method"] = m;
              rec["arch"] = a;
              rec["image"] = img.filename().string();
              rec["lr"] = o.lr.lr;
              nlohmann::json curve = nlohmann::json::array();
              for (const auto& h : r.history)
                if (h.step % o.log_every == 0 || h.step == o.iters) curve.push_back({h.step, h.metrics.at("psnr")});
              rec["curve"] = curve;
              return rec;
            }});
      sweep.run(jobs, [](const nlohmann::json& rec) {
        char line[256];
        std::snprintf(line, sizeof line, "%-8s %-6s %-12s PSNR %.2f SSIM %.4f bpp %.3f  %.1f ms/iter",
                      rec["method"].get<std::string>().c_str(), rec["arch"].get<std::string>().c_str(),
                      rec["image"].get<std::string>().c_str(), rec["psnr"].get<double>(), rec["ssim"].get<double>(),
                      rec["bpp"].get<double>(), rec["ms_per_iter"].get<double>());
        return std::string(line);
      });
    }
    write_tables(*st, sweep.store().records());
    std::printf("wrote %s/{table.md,table.csv,rd_psnr.png,rd_ssim.png,curves_*.png}\n", st->out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
