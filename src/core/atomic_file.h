// Files written whole or not at all: through a temporary file beside the target and a rename, so
// readers never see a partial file and a failed write never destroys an existing one.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "ingot/status.h"

namespace ingot {

// "<path>.tmp.<pid>.<n>", with n counting calls in this process: no two writers of `path` at the same
// time, in this process's threads or in other processes, share a temporary file.
std::string unique_temp_path(const std::string& path);

// Appends bytes to the file being written; returns false when the write fails.
using WriteSink = std::function<bool(const char* data, size_t size)>;

// Creates a unique temporary file beside `path`, lets `emit` stream the contents into `sink` (it
// returns false when it or the sink failed), flushes it to disk and renames it onto `path`. On any
// failure the temporary file is removed, `path` is left as it was, and the error starts with `path`.
Status write_file_atomically(const std::string& path, const std::function<bool(const WriteSink& sink)>& emit);
// The same for bytes already in memory, in order.
Status write_file_atomically(const std::string& path, std::initializer_list<std::string_view> pieces);

}  // namespace ingot
