#include "backends/device.h"

#include <vector>

#include "core/platform.h"

namespace ingot::backends {
namespace {
std::vector<DeviceBackend>& registry() {
  static std::vector<DeviceBackend> r;
  return r;
}
}  // namespace

DeviceBackendRegistrar::DeviceBackendRegistrar(const DeviceBackend& b) {
  registry().push_back(b);
  register_device_fingerprint(b.name, b.fingerprint);
}

Expected<const DeviceBackend*> find_device_backend(const std::string& device) {
  const std::string why = load_device_plugin(device);
  for (const DeviceBackend& b : registry())
    if (device == b.name) return &b;
  return unsupported("device '" + device + "': this ingot was built without that backend" +
                     (device == "cuda" ? " (configure with a CUDA toolkit and -DINGOT_CUDA=ON)" : "") +
                     (why.empty() ? "" : " (" + why + ")"));
}

}  // namespace ingot::backends
