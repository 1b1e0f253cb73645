// Concurrency soak: N threads, each with M execution contexts of one shared engine, run the engine for a
// given time on inputs of their own and check every result, bit for bit, against what one context computed
// alone before the threads started. Any mismatch or failed run makes the exit code 1.
//
//   ingot_soak MODEL.onnx|M.ingot [--threads N] [--contexts M] [--seconds S] [--shapes name:1x3x224x224,...]
//
// Uses the public API only. Float inputs get seeded normal values, integer inputs 0 or 1 (valid indices and
// token ids for the models the tests use); a dynamic dim without --shapes is 1.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingot/engine.h"

namespace {

using ingot::Dims;
using ingot::DType;
using ingot::Tensor;
using Inputs = std::map<std::string, Tensor>;
using Outputs = std::map<std::string, Tensor>;

bool parse_shapes(const std::string& text, std::map<std::string, Dims>* shapes) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    const size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    Dims dims;
    size_t p = colon + 1;
    while (p <= item.size()) {
      size_t x = item.find('x', p);
      if (x == std::string::npos) x = item.size();
      const std::string d = item.substr(p, x - p);
      if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos) return false;
      dims.push_back(std::stoll(d));
      p = x + 1;
    }
    (*shapes)[item.substr(0, colon)] = dims;
    pos = end + 1;
  }
  return true;
}

ingot::Expected<Inputs> make_inputs(const ingot::Engine& engine, const std::map<std::string, Dims>& shapes,
                                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Inputs inputs;
  for (const ingot::TensorInfo& info : engine.inputs()) {
    Dims dims = info.dims;
    if (auto it = shapes.find(info.name); it != shapes.end()) dims = it->second;
    for (int64_t& d : dims) d = d < 0 ? 1 : d;
    INGOT_ASSIGN_OR_RETURN(Tensor t, Tensor::create(info.dtype, dims));
    for (int64_t i = 0; i < t.numel(); ++i) {
      switch (info.dtype) {
        case DType::kF32:
          t.data<float>()[i] = normal(rng);
          break;
        case DType::kI64:
          t.data<int64_t>()[i] = static_cast<int64_t>(rng() & 1);
          break;
        case DType::kI32:
          t.data<int32_t>()[i] = static_cast<int32_t>(rng() & 1);
          break;
        case DType::kBool:
          t.data<bool>()[i] = (rng() & 1) != 0;
          break;
        default:
          return ingot::unsupported("input '" + info.name +
                                    "': the soak fills only float, int and bool inputs");
      }
    }
    inputs.emplace(info.name, std::move(t));
  }
  return inputs;
}

bool same(const Outputs& a, const Outputs& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.dtype() != t.dtype() || it->second.dims() != t.dims() ||
        std::memcmp(it->second.raw(), t.raw(), t.nbytes()) != 0)
      return false;
  }
  return true;
}

int usage(const char* msg) {
  std::fprintf(stderr,
               "ingot_soak: %s\nusage: ingot_soak MODEL.onnx|M.ingot [--threads N] [--contexts M] [--seconds "
               "S] [--shapes name:dims,...]\n",
               msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("a model or engine file is required");
  const std::string path = argv[1];
  int threads = 4, contexts = 2;
  double seconds = 10;
  std::map<std::string, Dims> shapes;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("option " + a + " needs a value").c_str());
    const std::string v = argv[++i];
    try {
      if (a == "--threads")
        threads = std::stoi(v);
      else if (a == "--contexts")
        contexts = std::stoi(v);
      else if (a == "--seconds")
        seconds = std::stod(v);
      else if (a == "--shapes") {
        if (!parse_shapes(v, &shapes)) return usage(("bad --shapes '" + v + "'").c_str());
      } else
        return usage(("unknown option " + a).c_str());
    } catch (const std::exception&) {
      return usage(("bad value '" + v + "' for " + a).c_str());
    }
  }
  if (threads < 1 || contexts < 1 || seconds < 0)
    return usage("threads and contexts must be >= 1, seconds >= 0");

  const bool is_engine = path.size() > 6 && path.compare(path.size() - 6, 6, ".ingot") == 0;
  ingot::BuildConfig config;
  config.shapes = shapes;
  auto engine = is_engine ? ingot::Engine::load(path) : ingot::Engine::from_onnx_file(path, config);
  if (!engine.ok()) {
    std::fprintf(stderr, "ingot_soak: %s\n", engine.status().message().c_str());
    return 1;
  }
  // The expected outputs: each thread's inputs run once, alone, on a context of their own.
  std::vector<Inputs> inputs(threads);
  std::vector<Outputs> expected(threads);
  for (int t = 0; t < threads; ++t) {
    auto in = make_inputs(**engine, shapes, 1000 + t);
    if (!in.ok()) {
      std::fprintf(stderr, "ingot_soak: %s\n", in.status().message().c_str());
      return 1;
    }
    inputs[t] = std::move(*in);
    auto out = (*engine)->create_context()->run(inputs[t]);
    if (!out.ok()) {
      std::fprintf(stderr, "ingot_soak: %s\n", out.status().message().c_str());
      return 1;
    }
    expected[t] = std::move(*out);
  }

  std::atomic<long> runs{0}, mismatches{0}, failures{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<std::unique_ptr<ingot::ExecutionContext>> ctxs;
      for (int c = 0; c < contexts; ++c) ctxs.push_back((*engine)->create_context());
      // At least one round over the contexts, then until the deadline.
      for (long i = 0; i < contexts || std::chrono::steady_clock::now() < deadline; ++i) {
        auto out = ctxs[i % contexts]->run(inputs[t]);
        runs++;
        if (!out.ok()) {
          if (failures++ == 0)
            std::fprintf(stderr, "ingot_soak: thread %d: %s\n", t, out.status().message().c_str());
        } else if (!same(*out, expected[t])) {
          if (mismatches++ == 0)
            std::fprintf(stderr, "ingot_soak: thread %d: run %ld differs from the lone run\n", t, i);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  std::printf("%s: %d threads x %d contexts, %.0f s: %ld runs, %ld mismatches, %ld failures\n", path.c_str(),
              threads, contexts, seconds, runs.load(), mismatches.load(), failures.load());
  return mismatches == 0 && failures == 0 ? 0 : 1;
}
