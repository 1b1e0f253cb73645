// Devices other than the host CPU (the CUDA backend): a backend that compiles a whole plan for its
// device at build time (tactic choice, precision, tuning on the device) and runs it there with its own
// memory. The runtime and the builder reach it through this registry only, so neither includes a
// device's headers, and an ingot built without the backend says so instead of failing to link.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "engine/plan.h"
#include "ingot/engine.h"
#include "ingot/status.h"

namespace ingot::backends {

// One execution context's state on the device: its arena, stream, staging buffers.
class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
  // Copies the inputs to the device, runs every layer, copies the outputs back.
  virtual Expected<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs) = 0;
  // Runs the layers again on the inputs already on the device (bench --no-data-transfers).
  virtual Status run_compute_only() = 0;
  virtual DeviceTiming last_timing() const = 0;
};

// An engine's device half: the weights uploaded once, each layer's prepared kernel.
class DeviceEngine {
 public:
  virtual ~DeviceEngine() = default;
  virtual Expected<std::unique_ptr<DeviceContext>> create_context() const = 0;
};

struct DeviceBackend {
  const char* name = "";
  // Why the backend cannot run here ("no CUDA GPU"), or "" when it can.
  std::string (*available)() = nullptr;
  // This device's fingerprint, recorded in engines built for it ("cuda; NVIDIA H100 ...; sm_90; ...").
  std::string (*fingerprint)() = nullptr;
  // Chooses and tunes a tactic for every layer (sets layer.tactic / precision / attributes); refuses
  // the build, listing them, when layers have no tactic on this device.
  Status (*select)(engine::Plan& plan, const BuildConfig& config) = nullptr;
  Expected<std::shared_ptr<DeviceEngine>> (*load)(const engine::Plan& plan) = nullptr;
};

struct DeviceBackendRegistrar {
  explicit DeviceBackendRegistrar(const DeviceBackend& b);
};

// The backend for `device` ("cuda"), or an error saying this ingot was built without it.
Expected<const DeviceBackend*> find_device_backend(const std::string& device);

}  // namespace ingot::backends
