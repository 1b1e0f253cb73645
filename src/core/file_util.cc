#include "core/file_util.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>

namespace ingot {

std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const size_t tid = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(tid % 1000000) + "." +
         std::to_string(counter.fetch_add(1));
}

Status write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  const std::string tmp = temp_path_for(path);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    const int err = errno;
    return invalid_argument(path + ": cannot write (" + std::strerror(err) + ")");
  }
  bool ok = true;
  for (std::string_view p : pieces) ok = ok && std::fwrite(p.data(), 1, p.size(), f) == p.size();
  ok = ok && std::fflush(f) == 0;
  int err = errno;
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
    return invalid_argument(path + ": write failed (" + std::strerror(err) + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    return invalid_argument(path + ": cannot rename the temporary file into place (" + std::strerror(err) +
                            ")");
  }
  return Status::Ok();
}

}  // namespace ingot
