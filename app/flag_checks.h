#pragma once
// Reusable checks for numeric command-line flags and config files. The validators read the flag's
// text before CLI11 converts it, so a bad value (0, -1, nan, 1e-400, 1e300, 1/2/3) is refused at
// parse time with one line naming the flag ("--lr: must be a finite number > 0 (got 'nan')")
// instead of being clamped, wrapped or replaced by a default.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace nf::app {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

// A finite number > 0 that stays finite and non-zero in float32 (learning rates, epochs, radii).
CLI::Validator positive_float();
// A finite number >= 0 (noise levels).
CLI::Validator nonnegative_float();
// A finite number in [lo, hi] (hi_open: [lo, hi); lo_open: (lo, hi]).
CLI::Validator float_in(double lo, double hi, bool lo_open = false, bool hi_open = false);
// A whole number (digits only, optional sign) in [lo, hi].
CLI::Validator int_in(int64_t lo, int64_t hi = kMaxInt);
inline CLI::Validator positive_int() { return int_in(1); }
inline CLI::Validator nonnegative_int() { return int_in(0); }
// --threads: 0 (LibTorch's default) up to max_threads().
CLI::Validator thread_count();
int64_t max_threads();  // 4x the cores, at least 64

// "WxH" (each side 1 to max_digits digits) as {W, H}; otherwise throws "<flag>: expected WxH such as
// <example>, got '<text>'".
std::pair<int, int> parse_wxh(const std::string& flag, const std::string& text, const std::string& example,
                              int max_digits);

// The same checks for values that come from a config file: throw nf::ConfigError naming `where`.
void require_positive_float(double v, const std::string& where);
void require_int_in(int64_t v, int64_t lo, int64_t hi, const std::string& where);

// Config files: every top-level key must be one the command reads. Keys every training command
// takes (method, arch, iters, lr, lr_final, schedule, log_every, checkpoint_every, seed, field,
// comment, description) are always allowed; `command_keys` adds the command's own.
void check_config_keys(const nlohmann::json& cfg, const std::vector<std::string>& command_keys,
                       const std::string& file);

}  // namespace nf::app
