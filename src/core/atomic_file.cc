#include "core/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ingot {
namespace {

std::string errno_text(int err) { return err ? std::strerror(err) : "unknown error"; }

}  // namespace

std::string unique_temp_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(static_cast<long>(getpid())) + "." + std::to_string(counter++);
}

Status write_file_atomically(const std::string& path,
                             const std::function<bool(const WriteSink& sink)>& emit) {
  const std::string tmp = unique_temp_path(path);
  errno = 0;
  FILE* f = std::fopen(tmp.c_str(), "wbx");  // x: never follow or reuse a file someone put there
  if (!f) {
    const int err = errno;
    std::string msg = path + ": cannot create " + tmp + ": " + errno_text(err);
    return err == ENOENT ? not_found(std::move(msg)) : invalid_argument(std::move(msg));
  }
  int err = 0;
  const WriteSink sink = [&](const char* p, size_t n) {
    if (n == 0 || std::fwrite(p, 1, n, f) == n) return true;
    err = errno;
    return false;
  };
  errno = 0;
  bool ok = emit(sink) && std::fflush(f) == 0;
  if (!ok && err == 0) err = errno;
  if (ok && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) {
    ok = false;
    err = errno;
  }
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    return invalid_argument(path + ": write failed: " + errno_text(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    return invalid_argument(path + ": cannot rename " + tmp + " to it: " + errno_text(err));
  }
  return Status::Ok();
}

Status write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces) {
  return write_file_atomically(path, [&](const WriteSink& sink) {
    for (std::string_view p : pieces)
      if (!sink(p.data(), p.size())) return false;
    return true;
  });
}

}  // namespace ingot
