// `ingot bench M.ingot|MODEL.onnx`: throughput and latency (min/mean/median/p90/p95/p99), as trtexec.
// Runs at least --iterations times and for at least --duration seconds, after --warmup seconds.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "core/atomic_file.h"
#include "core/npy.h"
#include "core/threading.h"

namespace ingot::cli {
namespace {

struct BenchOptions {
  std::string model;
  BuildOptions build;
  std::vector<std::string> inputs;
  int64_t iterations = 10;
  double duration = 3.0;
  double warmup = 0.2;
  uint64_t seed = 0;
  std::string json;
  bool dump_profile = false;
  bool no_data_transfers = false;
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Per-layer times over `runs` extra runs with profiling on (after the timed runs, so that the clock reads
// do not touch the latency figures): every layer in order with its share, then the totals per op and
// tactic, heaviest first.
Expected<nlohmann::json> dump_profile(ExecutionContext& ctx, const std::function<Status()>& run_once,
                                      int64_t runs) {
  ctx.set_profiling(true);
  for (int64_t i = 0; i < runs; ++i) INGOT_RETURN_IF_ERROR(run_once());
  const std::vector<LayerTime> layers = ctx.profile();
  ctx.set_profiling(false);
  double total = 0;
  for (const LayerTime& l : layers) total += l.total_ms;
  if (total <= 0) total = 1e-9;
  nlohmann::json j = nlohmann::json::array();
  std::printf("\nper-layer profile (mean over %lld runs; %% of the layers' sum %.3f ms)\n",
              static_cast<long long>(runs), total / static_cast<double>(runs));
  std::printf("%5s %10s %6s  %-28s %-28s %s\n", "#", "ms", "%", "op", "tactic", "layer");
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> by_op;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerTime& l = layers[i];
    const double ms = l.total_ms / static_cast<double>(std::max<int64_t>(1, l.runs));
    std::printf("%5zu %10.4f %6.2f  %-28s %-28s %s\n", i, ms, 100.0 * l.total_ms / total, l.op.c_str(),
                l.tactic.c_str(), l.name.c_str());
    j.push_back({{"layer", l.name}, {"op", l.op}, {"tactic", l.tactic}, {"ms", ms}});
    auto& [sum, count] = by_op[{l.op, l.tactic}];
    sum += ms;
    ++count;
  }
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [key, v] : by_op) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%10.4f %6.2f %6d  %-28s %s", v.first,
                  100.0 * v.first * static_cast<double>(runs) / total, v.second, key.first.c_str(),
                  key.second.c_str());
    rows.emplace_back(v.first, buf);
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::printf("\nper op and tactic\n%10s %6s %6s  %-28s %s\n", "ms", "%", "layers", "op", "tactic");
  for (const auto& r : rows) std::printf("%s\n", r.second.c_str());
  return j;
}

int bench_command(const BenchOptions& opt) {
  if (opt.iterations < 1 || opt.duration < 0 || opt.warmup < 0) {
    return report(Status(StatusCode::kUsage, "--iterations must be >= 1, --duration and --warmup >= 0"));
  }
  auto files = read_input_files(opt.inputs);
  if (!files.ok()) return report(files.status());
  std::map<std::string, Tensor> feeds = std::move(*files);
  using Clock = std::chrono::steady_clock;
  const auto t_load = Clock::now();
  auto engine = open_engine(opt.model, opt.build, dims_of(feeds));
  if (!engine.ok()) return report(engine.status());
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();
  Status filled = fill_random_inputs(**engine, opt.seed, feeds);
  if (!filled.ok()) return report(filled);
  auto ctx = (*engine)->create_context();
  const bool on_device = (*engine)->device() != "cpu";
  if (opt.no_data_transfers && !on_device)
    return report(
        Status(StatusCode::kUsage, "--no-data-transfers needs an engine for a device (--device cuda)"));
  bool first = true;
  std::vector<double> h2d, compute, d2h;
  auto run_once = [&]() -> Status {
    if (opt.no_data_transfers && !first) {
      INGOT_RETURN_IF_ERROR(ctx->run_device_only());
    } else {
      auto r = ctx->run(feeds);
      if (!r.ok()) return r.status();
    }
    first = false;
    return Status::Ok();
  };
  // Warm-up: at least one run.
  const auto w0 = Clock::now();
  do {
    Status st = run_once();
    if (!st.ok()) return report(st.with_context(opt.model));
  } while (std::chrono::duration<double>(Clock::now() - w0).count() < opt.warmup);
  std::vector<double> ms;
  const auto m0 = Clock::now();
  double elapsed = 0;
  while (static_cast<int64_t>(ms.size()) < opt.iterations || elapsed < opt.duration) {
    const auto s = Clock::now();
    Status st = run_once();
    const auto e = Clock::now();
    if (!st.ok()) return report(st.with_context(opt.model));
    ms.push_back(std::chrono::duration<double, std::milli>(e - s).count());
    if (on_device) {
      const DeviceTiming t = ctx->last_device_timing();
      h2d.push_back(t.h2d_ms);
      compute.push_back(t.compute_ms);
      d2h.push_back(t.d2h_ms);
    }
    elapsed = std::chrono::duration<double>(e - m0).count();
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  const double qps = static_cast<double>(ms.size()) / elapsed;
  nlohmann::json j;
  j["model"] = opt.model;
  j["iterations"] = ms.size();
  j["threads"] = num_threads();
  j["wall_s"] = elapsed;
  j["load_ms"] = load_ms;
  j["throughput_qps"] = qps;
  j["latency_ms"] = {{"min", sorted.front()},
                     {"mean", mean},
                     {"median", percentile(sorted, 50)},
                     {"p90", percentile(sorted, 90)},
                     {"p95", percentile(sorted, 95)},
                     {"p99", percentile(sorted, 99)},
                     {"max", sorted.back()}};
  std::printf("%s: %zu iterations in %.3f s (load %.1f ms)\n", opt.model.c_str(), ms.size(), elapsed,
              load_ms);
  std::printf("throughput: %.2f qps\n", qps);
  std::printf("latency (ms): min %.3f  mean %.3f  median %.3f  p90 %.3f  p95 %.3f  p99 %.3f  max %.3f\n",
              sorted.front(), mean, percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 95),
              percentile(sorted, 99), sorted.back());
  if (opt.dump_profile) {
    auto profile = dump_profile(*ctx, run_once, std::max<int64_t>(opt.iterations, 10));
    if (!profile.ok()) return report(profile.status().with_context(opt.model));
    j["profile"] = std::move(*profile);
  }
  if (on_device) {
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? 0.0 : percentile(v, 50);
    };
    j["device"] = (*engine)->device();
    j["gpu_compute_ms"] = {{"median", median(compute)},
                           {"mean", std::accumulate(compute.begin(), compute.end(), 0.0) / compute.size()}};
    j["h2d_ms"] = {{"median", median(h2d)}};
    j["d2h_ms"] = {{"median", median(d2h)}};
    j["no_data_transfers"] = opt.no_data_transfers;
    std::printf("GPU compute time (ms, device events): median %.4f  mean %.4f\n", median(compute),
                std::accumulate(compute.begin(), compute.end(), 0.0) / compute.size());
    if (!opt.no_data_transfers)
      std::printf("H2D copy (ms): median %.4f   D2H copy (ms): median %.4f\n", median(h2d), median(d2h));
  }
  if (!opt.json.empty()) {
    Status st = write_file_atomically(opt.json, {j.dump(2) + "\n"});
    if (!st.ok()) return report(st);
  }
  return kExitOk;
}

}  // namespace

Command add_bench_command(CLI::App& parent) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* app = parent.add_subcommand("bench", "Measure throughput and latency of an engine or ONNX model");
  app->add_option("model", opt->model, "engine file (.ingot) or ONNX model (built in memory)")->required();
  app->add_option("--input,-i", opt->inputs, "NAME=FILE.npy; inputs not given get seeded random values");
  app->add_option("--iterations", opt->iterations, "run at least N times (default 10)");
  app->add_option("--duration", opt->duration, "run for at least S seconds (default 3)");
  app->add_option("--warmup", opt->warmup, "warm up for S seconds first (default 0.2)");
  app->add_option("--seed", opt->seed, "seed for random inputs (default 0)");
  app->add_option("--json", opt->json, "write the results as JSON to FILE");
  app->add_flag("--dump-profile", opt->dump_profile,
                "after the timed runs, time every layer (as many runs again, at least 10) and print the "
                "per-layer and per-op profile (also under \"profile\" in --json)");
  app->add_flag("--no-data-transfers", opt->no_data_transfers,
                "device engines: time the layers only, the inputs staying on the device (as trtexec)");
  add_build_options(app, opt->build);
  return {app, [opt] { return bench_command(*opt); }};
}

}  // namespace ingot::cli
