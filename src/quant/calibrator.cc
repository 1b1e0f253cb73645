// The public Calibrator helpers: method names and the .npy folder calibrator.
#include <algorithm>
#include <filesystem>

#include "core/npy.h"
#include "ingot/calibrator.h"

namespace ingot {

const char* calibration_method_name(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::kEntropy:
      return "entropy";
    case CalibrationMethod::kMinMax:
      return "minmax";
    case CalibrationMethod::kPercentile:
      return "percentile";
    case CalibrationMethod::kMse:
      return "mse";
  }
  return "?";
}

Expected<CalibrationMethod> parse_calibration_method(const std::string& name) {
  for (CalibrationMethod m : {CalibrationMethod::kEntropy, CalibrationMethod::kMinMax,
                              CalibrationMethod::kPercentile, CalibrationMethod::kMse})
    if (name == calibration_method_name(m)) return m;
  return Status(StatusCode::kUsage,
                "unknown calibration method '" + name.substr(0, 64) + "' (entropy, minmax, percentile, mse)");
}

namespace {

namespace fs = std::filesystem;

std::vector<std::string> npy_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().extension() == ".npy") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

class NpyDirCalibrator : public Calibrator {
 public:
  explicit NpyDirCalibrator(std::string dir) : dir_(std::move(dir)) {}

  Status scan() {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) return not_found(dir_ + ": no such folder (--calib)");
    top_ = npy_files(dir_);
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      if (!e.is_directory(ec)) continue;
      auto files = npy_files(e.path());
      if (!files.empty()) per_input_[e.path().filename().string()] = std::move(files);
    }
    if (top_.empty() && per_input_.empty())
      return not_found(dir_ + ": no .npy files (one batch per file: DIR/*.npy or DIR/<input>/*.npy)");
    size_t n = top_.size();
    for (const auto& [input, files] : per_input_) {
      if (n == 0) n = files.size();
      if (files.size() != n) {
        return invalid_argument(dir_ + ": input '" + input + "' has " + std::to_string(files.size()) +
                                " batches, others have " + std::to_string(n));
      }
    }
    n_ = n;
    return Status::Ok();
  }

  size_t num_batches() const override { return n_; }

  Expected<std::map<std::string, Tensor>> batch(size_t i, const std::vector<std::string>& inputs) override {
    if (i >= n_) return out_of_range(dir_ + ": batch " + std::to_string(i) + " of " + std::to_string(n_));
    std::map<std::string, Tensor> out;
    for (const std::string& name : inputs) {
      auto it = per_input_.find(name);
      std::string path;
      if (it != per_input_.end()) {
        path = it->second[i];
      } else if (inputs.size() == 1 && !top_.empty()) {
        path = top_[i];
      } else {
        return not_found(dir_ + ": no batches for input '" + name + "' (expected " + dir_ + "/" + name +
                         "/*.npy)");
      }
      INGOT_ASSIGN_OR_RETURN(Tensor t, read_npy(path));
      out[name] = std::move(t);
    }
    return out;
  }

 private:
  std::string dir_;
  std::vector<std::string> top_;
  std::map<std::string, std::vector<std::string>> per_input_;
  size_t n_ = 0;
};

}  // namespace

Expected<std::shared_ptr<Calibrator>> npy_dir_calibrator(const std::string& dir) {
  auto c = std::make_shared<NpyDirCalibrator>(dir);
  INGOT_RETURN_IF_ERROR(c->scan());
  return std::shared_ptr<Calibrator>(std::move(c));
}

}  // namespace ingot
