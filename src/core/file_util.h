// Files ingot writes appear whole or not at all: data goes to a temporary file in the same folder,
// is flushed and synced, then renamed over the target. A failure removes the temporary file and
// leaves an existing target untouched.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingot/status.h"

namespace ingot {

// A temporary name next to `path`, unique per process, thread and call.
std::string temp_path_for(const std::string& path);

Status write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);

}  // namespace ingot
