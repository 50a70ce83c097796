#include "tasks/checkpoint.h"

#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <zip.h>

#include <fstream>
#include <memory>
#include <vector>
#include <stdexcept>

#include "fields/file_io.h"
#include "fields/config.h"
#include "fields/memory_check.h"
#include "fields/registry.h"

namespace nf {
namespace {
constexpr const char* kFormat = "normfield-checkpoint-1";

std::string read_string(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString())
    throw std::runtime_error(path + ": not a normfield checkpoint (missing '" + key + "')");
  return v.toStringRef();
}

// LibTorch 1.13 does not check the CRC-32 of the archive's entries, and its TorchScript importer
// segfaults on some corrupted ones (found by fuzz_checkpoint: a flipped byte in an entry). So every
// entry is read once and its CRC checked (libzip) before LibTorch sees the file. A crafted archive
// with valid CRCs can still reach LibTorch's loader: load only checkpoints you trust.
void check_zip_crcs(const std::filesystem::path& path) {
  const std::string bad = path.string() + ": not a normfield checkpoint or corrupt";
  int err = 0;
  std::unique_ptr<zip_t, int (*)(zip_t*)> z(zip_open(path.string().c_str(), ZIP_RDONLY, &err), zip_close);
  if (!z) throw std::runtime_error(bad + " (not a zip archive)");
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  std::vector<char> buf(1 << 16);
  for (zip_int64_t i = 0; i < n; ++i) {
    const std::string entry = " (entry " + std::to_string(i);
    // LibTorch allocates an entry's declared size before reading it (fuzz_checkpoint: a deflated
    // entry declaring 3.7 GB): the declared size must be what the entry holds.
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z.get(), zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw std::runtime_error(bad + entry + " cannot be read)");
    zip_file_t* f = zip_fopen_index(z.get(), zip_uint64_t(i), 0);
    if (!f) throw std::runtime_error(bad + entry + " cannot be opened)");
    zip_int64_t got = 0;
    zip_uint64_t total = 0;
    while ((got = zip_fread(f, buf.data(), buf.size())) > 0 && total <= st.size) total += zip_uint64_t(got);
    const std::string why = got < 0 ? zip_file_strerror(f) : "";
    zip_fclose(f);
    if (got < 0) throw std::runtime_error(bad + entry + ": " + why + ")");
    if (total != st.size)
      throw std::runtime_error(bad + entry + ": declares " + std::to_string(st.size) + " bytes, holds " +
                               (total > st.size ? "more" : std::to_string(total)) + ")");
  }
}

// Tensors are mapped to the device of the field they are loaded into (a CUDA checkpoint loads on a
// CPU-only machine).
void open_archive(torch::serialize::InputArchive& a, const std::filesystem::path& path,
                  c10::optional<c10::Device> device = c10::nullopt) {
  if (!std::filesystem::exists(path)) throw std::runtime_error(path.string() + ": no such checkpoint file");
  check_zip_crcs(path);
  try {
    a.load_from(path.string(), device);
  } catch (const std::exception&) {
    throw std::runtime_error(path.string() + ": not a normfield checkpoint or corrupt");
  }
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, FieldImpl& field, torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  torch::serialize::OutputArchive root;
  root.write("format", c10::IValue(std::string(kFormat)));
  nlohmann::json m{{"step", meta.step},
                   {"field", meta.field_config},
                   {"task", meta.task_config},
                   {"train", meta.train_config}};
  root.write("meta", c10::IValue(m.dump()));
  torch::serialize::OutputArchive model;
  field.save(model);
  root.write("model", model);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    root.write("optimizer", opt);
  }
  // Serialise into memory, then write with write(2): LibTorch's file writer throws from its
  // destructor when the disk is full (std::terminate); here a full disk is a one-line error, the
  // temporary is removed and the previous checkpoint stays (fields/file_io.h).
  std::string bytes;
  try {
    root.save_to([&bytes](const void* data, size_t n) -> size_t {
      bytes.append(static_cast<const char*>(data), n);
      return n;
    });
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": cannot serialise checkpoint");
  }
  write_file_atomic(path, bytes);
}

CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path) {
  torch::serialize::InputArchive a;
  open_archive(a, path);
  if (read_string(a, "format", path.string()) != kFormat)
    throw std::runtime_error(path.string() + ": unsupported checkpoint format");
  auto m = parse_json(read_string(a, "meta", path.string()), path.string() + ": meta");
  // nlohmann's value() throws its own type_error (not one line naming the file) on a wrong type.
  if (!m.is_object()) throw std::runtime_error(path.string() + ": meta: expected a JSON object");
  CheckpointMeta meta;
  if (m.contains("step") && !(m["step"].is_number_unsigned() && m["step"].get<uint64_t>() <= uint64_t(INT64_MAX)))
    throw std::runtime_error(path.string() + ": meta: key 'step' must be a whole number >= 0 (got " + m["step"].dump() + ")");
  meta.step = m.value("step", int64_t{0});
  meta.field_config = m.value("field", nlohmann::json{});
  meta.task_config = m.value("task", nlohmann::json{});
  meta.train_config = m.value("train", nlohmann::json{});
  return meta;
}

void load_checkpoint(const std::filesystem::path& path, FieldImpl& field, torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive a;
  auto params = field.parameters();
  open_archive(a, path, params.empty() ? c10::Device(c10::kCPU) : params.front().device());
  torch::serialize::InputArchive model;
  if (!a.try_read("model", model)) throw std::runtime_error(path.string() + ": checkpoint has no model");
  try {
    field.load(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": weights do not match the field config");
  }
  if (optimizer) {
    torch::serialize::InputArchive opt;
    if (!a.try_read("optimizer", opt)) throw std::runtime_error(path.string() + ": checkpoint has no optimizer state");
    optimizer->load(opt);
  }
}

Field load_field(const std::filesystem::path& path, CheckpointMeta* meta_out) {
  auto meta = read_checkpoint_meta(path);
  check_field_size(meta.field_config, 0, path.string() + ": field");  // a crafted config must not allocate terabytes
  auto field = make_field(meta.field_config);
  load_checkpoint(path, *field, nullptr);
  // The stored norm modes are not module state: a checkpoint with frozen statistics evaluates in
  // frozen mode (chunk invariant); otherwise batch mode.
  bool all_frozen = true;
  for (auto& n : field->norm_layers()) all_frozen = all_frozen && n->has_frozen_stats();
  field->set_norm_mode(all_frozen ? NormMode::Frozen : NormMode::Batch);
  if (meta_out) *meta_out = meta;
  return field;
}

}  // namespace nf
