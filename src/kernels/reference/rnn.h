// Recurrent layers (RNN, GRU, LSTM) as ONNX defines them: pure functions over row-major buffers.
#pragma once

#include <cstdint>
#include <string>

namespace ingot::ref {

enum class RnnCell { kRnn, kGru, kLstm };

// The activation functions ONNX's recurrent ops accept, with their alpha / beta.
enum class RnnActivation {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,           // alpha * x + beta
  kLeakyRelu,        // x < 0 ? alpha * x : x
  kThresholdedRelu,  // x > alpha ? x : 0
  kScaledTanh,       // alpha * tanh(beta * x)
  kHardSigmoid,      // clamp(alpha * x + beta, 0, 1)
  kElu,              // x < 0 ? alpha * (exp(x) - 1) : x
  kSoftsign,         // x / (1 + |x|)
  kSoftplus,         // log(1 + exp(x))
};

struct RnnActivationFn {
  RnnActivation kind = RnnActivation::kTanh;
  float alpha = 0;
  float beta = 0;
};

// Parses an ONNX activation name (case-insensitive); false when unknown. `uses_alpha` / `uses_beta`
// tell whether it consumes an entry of activation_alpha / activation_beta, and *fn gets the defaults.
bool parse_rnn_activation(const std::string& name, RnnActivationFn* fn, bool* uses_alpha, bool* uses_beta);

// Gates per cell: 1 (RNN), 3 (GRU: z r h), 4 (LSTM: i o f c).
int64_t rnn_gate_count(RnnCell cell);

struct RnnParams {
  RnnCell cell = RnnCell::kRnn;
  int64_t seq_length = 0, batch = 0, input_size = 0, hidden = 0;
  int64_t num_directions = 1;
  bool reverse = false;              // with one direction: run it backwards in time
  float clip = 0;                    // > 0: gate pre-activations are clamped to [-clip, clip]
  bool input_forget = false;         // LSTM: f = 1 - i
  bool linear_before_reset = false;  // GRU: apply r after the recurrent product
  // Per direction: RNN uses f; GRU f, g; LSTM f, g, h.
  RnnActivationFn act[2][3];
};

// Runs the layer in layout 0 (time-major). Shapes, with D = num_directions and G = gates:
//   X [S, B, I], W [D, G*H, I], R [D, G*H, H], bias [D, 2*G*H] or null, seq_lens [B] or null,
//   h0 / c0 [D, B, H] or null, peep [D, 3*H] (LSTM, order i o f) or null.
//   Outputs (each may be null): Y [S, D, B, H], Y_h [D, B, H], Y_c [D, B, H].
// A batch entry of length L only runs steps t < L (the reverse direction starts at L - 1); its
// outputs past L are zero and Y_h / Y_c hold its state after step L (the initial state when L = 0).
// A is float or double: the caller converts the half types in and out.
template <typename A>
void rnn(const RnnParams& p, const A* X, const A* W, const A* R, const A* bias, const int32_t* seq_lens,
         const A* h0, const A* c0, const A* peep, A* Y, A* Y_h, A* Y_c);

}  // namespace ingot::ref
