// Runs the ONNX backend test data (model.onnx + test_data_set_*/{input,output}_*.pb) through ingot's
// reference runtime. Each case runs in a child process with a time limit, so that a crash or a hang
// is counted as a failure of that case and nothing else.
//
//   ingot_conformance --data DIR [--category node,simple,...] [--filter SUBSTR] [--results FILE]
//                     [--baseline FILE]
//
// Prints passed / failed / unsupported per category. With --baseline (lines "category passed"), exits
// 1 when any category passes fewer cases than recorded.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "core/dispatch.h"
#include "exec/interpreter.h"
#include "onnx/importer.h"
#include "passes/shape_inference.h"

namespace fs = std::filesystem;
using namespace ingot;

namespace {

constexpr double kRtol = 1e-3, kAtol = 1e-3;
constexpr int kCaseTimeoutSeconds = 60;

enum class Outcome { kPass = 0, kFail = 1, kUnsupported = 2 };

struct Result {
  Outcome outcome;
  std::string reason;
};

std::string compare(const Tensor& got, const Tensor& want, const std::string& what) {
  if (got.dtype() != want.dtype()) {
    return what + ": dtype " + dtype_name(got.dtype()) + ", expected " + dtype_name(want.dtype());
  }
  if (got.dims() != want.dims()) {
    return what + ": shape " + dims_to_string(got.dims()) + ", expected " + dims_to_string(want.dims());
  }
  if (want.dtype() == DType::kString) {
    for (int64_t i = 0; i < want.numel(); ++i)
      if (got.strings()[i] != want.strings()[i]) return what + ": string " + std::to_string(i) + " differs";
    return "";
  }
  if (dtype_is_float(want.dtype())) {
    std::string err;
    bool ok = dispatch_float(want.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (int64_t i = 0; i < want.numel(); ++i) {
        double a = static_cast<double>(got.data<T>()[i]), b = static_cast<double>(want.data<T>()[i]);
        if (std::isnan(a) && std::isnan(b)) continue;
        if (std::isinf(b) && a == b) continue;
        if (!(std::fabs(a - b) <= kAtol + kRtol * std::fabs(b))) {
          err = what + ": element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " + std::to_string(b);
          return;
        }
      }
    });
    if (!ok) {  // float8 / float4: compare bytes
      if (std::memcmp(got.raw(), want.raw(), want.nbytes()) != 0) return what + ": values differ";
    }
    return err;
  }
  if (std::memcmp(got.raw(), want.raw(), want.nbytes()) != 0) {
    for (int64_t i = 0; i < want.numel(); ++i) {
      if (got.get_i64(i) != want.get_i64(i)) {
        return what + ": element " + std::to_string(i) + " is " + std::to_string(got.get_i64(i)) + ", expected " +
               std::to_string(want.get_i64(i));
      }
    }
    return what + ": values differ";
  }
  return "";
}

std::string compare_value(const RtValue& got, const RtValue& want, const std::string& what) {
  if (want.is_none()) return got.is_none() ? "" : what + ": expected an empty optional";
  if (want.is_sequence()) {
    if (!got.is_sequence()) return what + ": expected a sequence";
    if (got.sequence.size() != want.sequence.size()) {
      return what + ": sequence of " + std::to_string(got.sequence.size()) + ", expected " +
             std::to_string(want.sequence.size());
    }
    for (size_t i = 0; i < want.sequence.size(); ++i) {
      std::string e = compare(got.sequence[i], want.sequence[i], what + "[" + std::to_string(i) + "]");
      if (!e.empty()) return e;
    }
    return "";
  }
  if (!got.is_tensor()) return what + ": expected a tensor";
  return compare(got.tensor, want.tensor, what);
}

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) v.push_back(e.path());
  std::sort(v.begin(), v.end(), [&](const fs::path& a, const fs::path& b) {
    auto num = [&](const fs::path& p) { return std::atoi(p.filename().string().c_str() + prefix.size()); };
    return num(a) < num(b);
  });
  return v;
}

Result run_case(const fs::path& dir) {
  auto model = onnx_import::import_file((dir / "model.onnx").string());
  if (!model.ok()) {
    return {model.status().code() == StatusCode::kUnsupported ? Outcome::kUnsupported : Outcome::kFail,
            model.status().message()};
  }
  ir::Graph& g = *model->graph;
  std::vector<fs::path> sets;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return {Outcome::kFail, "no test data"};
  bool inferred = false;
  for (const fs::path& set : sets) {
    auto in_files = sorted_files(set, "input_");
    auto out_files = sorted_files(set, "output_");
    std::vector<RtValue> inputs(g.inputs.size());
    for (size_t i = 0; i < in_files.size(); ++i) {
      if (i >= model->declared_inputs.size()) return {Outcome::kFail, "more input files than inputs"};
      ir::Value* v = g.find_local(model->declared_inputs[i]);
      auto val = onnx_import::read_value_file(in_files[i].string(), v->type);
      if (!val.ok()) return {Outcome::kFail, val.status().message()};
      auto it = std::find(g.inputs.begin(), g.inputs.end(), v);
      if (it == g.inputs.end()) {
        v->constant = val->tensor;  // an initializer the test overrides
      } else {
        inputs[it - g.inputs.begin()] = std::move(*val);
      }
    }
    if (!inferred) {
      // Give inference the concrete input shapes, as a user's --shapes would.
      for (size_t i = 0; i < g.inputs.size(); ++i) {
        if (inputs[i].is_tensor() && inputs[i].tensor.defined() && g.inputs[i]->type.kind == ir::ValueType::Kind::kTensor) {
          g.inputs[i]->type.has_shape = true;
          g.inputs[i]->type.shape = ir::to_sym_shape(inputs[i].tensor.dims());
        }
      }
      Status st = passes::infer_shapes(g);
      if (!st.ok()) return {st.code() == StatusCode::kUnsupported ? Outcome::kUnsupported : Outcome::kFail, "inference: " + st.message()};
      inferred = true;
    }
    auto outs = exec::run_graph(g, inputs);
    if (!outs.ok()) {
      return {outs.status().code() == StatusCode::kUnsupported ? Outcome::kUnsupported : Outcome::kFail,
              outs.status().message()};
    }
    if (out_files.size() != outs->size()) return {Outcome::kFail, "output count differs"};
    for (size_t i = 0; i < out_files.size(); ++i) {
      auto want = onnx_import::read_value_file(out_files[i].string(), g.outputs[i]->type);
      if (!want.ok()) return {Outcome::kFail, want.status().message()};
      std::string e = compare_value((*outs)[i], *want, "output '" + g.outputs[i]->name() + "'");
      if (!e.empty()) return {Outcome::kFail, e};
    }
  }
  return {Outcome::kPass, ""};
}

// Runs a case in a child process; a crash, a signal or a time-out is a failure.
Result run_isolated(const fs::path& dir) {
  int fds[2];
  if (pipe(fds) != 0) return run_case(dir);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(kCaseTimeoutSeconds);
    Result r = run_case(dir);
    std::string msg = std::to_string(static_cast<int>(r.outcome)) + " " + r.reason;
    for (char& c : msg)
      if (c == '\n') c = ' ';
    if (write(fds[1], msg.data(), msg.size()) < 0) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  std::string buf;
  char tmp[4096];
  ssize_t n;
  while ((n = read(fds[0], tmp, sizeof tmp)) > 0) buf.append(tmp, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return {Outcome::kFail, sig == SIGALRM ? "timed out after " + std::to_string(kCaseTimeoutSeconds) + " s"
                                           : "crashed with signal " + std::to_string(sig)};
  }
  if (buf.empty()) return {Outcome::kFail, "no result"};
  Result r{static_cast<Outcome>(buf[0] - '0'), buf.size() > 2 ? buf.substr(2) : ""};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, filter, results_path, baseline_path;
  std::vector<std::string> categories = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "ingot_conformance: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") data = next();
    else if (a == "--filter") filter = next();
    else if (a == "--results") results_path = next();
    else if (a == "--baseline") baseline_path = next();
    else if (a == "--category") {
      categories.clear();
      std::stringstream ss(next());
      for (std::string c; std::getline(ss, c, ',');) categories.push_back(c);
    } else {
      std::cerr << "usage: ingot_conformance --data DIR [--category LIST] [--filter S] [--results F] [--baseline F]\n";
      return 2;
    }
  }
  if (data.empty() || !fs::is_directory(data)) {
    std::cerr << "ingot_conformance: --data must name the onnx/backend/test/data folder\n";
    return 2;
  }
  std::ofstream results;
  if (!results_path.empty()) results.open(results_path);
  std::map<std::string, std::array<int, 3>> counts;
  int total_pass = 0, total_fail = 0;
  for (const std::string& cat : categories) {
    fs::path root = fs::path(data) / cat;
    if (!fs::is_directory(root)) continue;
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    auto& c = counts[cat];
    c = {0, 0, 0};
    for (const fs::path& dir : cases) {
      const std::string name = dir.filename().string();
      if (!filter.empty() && name.find(filter) == std::string::npos) continue;
      Result r = run_isolated(dir);
      c[static_cast<int>(r.outcome)]++;
      static const char* kNames[] = {"PASS", "FAIL", "UNSUPPORTED"};
      if (results) results << cat << "/" << name << "\t" << kNames[static_cast<int>(r.outcome)] << "\t" << r.reason << "\n";
    }
    total_pass += c[0];
    total_fail += c[1] + c[2];
    std::cout << cat << ": pass " << c[0] << ", fail " << c[1] << ", unsupported " << c[2] << " (of "
              << c[0] + c[1] + c[2] << ")\n";
  }
  int rc = 0;
  if (!baseline_path.empty()) {
    std::ifstream b(baseline_path);
    if (!b) {
      std::cerr << "ingot_conformance: cannot read baseline " << baseline_path << "\n";
      return 2;
    }
    for (std::string line; std::getline(b, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      std::string cat;
      int want = 0;
      if (!(ls >> cat >> want)) {
        std::cerr << "ingot_conformance: bad baseline line '" << line << "'\n";
        return 2;
      }
      int got = counts.count(cat) ? counts[cat][0] : 0;
      if (got < want) {
        std::cout << "REGRESSION: " << cat << " passes " << got << " cases, the recorded figure is " << want << "\n";
        rc = 1;
      } else if (got > want) {
        std::cout << cat << ": " << got - want << " more than the recorded " << want << "; raise the figure in "
                  << baseline_path << "\n";
      }
    }
  }
  std::cout << "conformance total: " << total_pass << " of " << total_pass + total_fail << " cases pass\n";
  return rc;
}
