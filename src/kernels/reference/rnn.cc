#include "kernels/reference/rnn.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

namespace ingot::ref {

bool parse_rnn_activation(const std::string& name, RnnActivationFn* fn, bool* uses_alpha, bool* uses_beta) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  struct Entry {
    const char* name;
    RnnActivation kind;
    bool alpha, beta;
    float default_alpha, default_beta;
  };
  static const Entry kTable[] = {
      {"relu", RnnActivation::kRelu, false, false, 0, 0},
      {"tanh", RnnActivation::kTanh, false, false, 0, 0},
      {"sigmoid", RnnActivation::kSigmoid, false, false, 0, 0},
      {"affine", RnnActivation::kAffine, true, true, 1, 0},
      {"leakyrelu", RnnActivation::kLeakyRelu, true, false, 0.01f, 0},
      {"thresholdedrelu", RnnActivation::kThresholdedRelu, true, false, 1, 0},
      {"scaledtanh", RnnActivation::kScaledTanh, true, true, 1, 1},
      {"hardsigmoid", RnnActivation::kHardSigmoid, true, true, 0.2f, 0.5f},
      {"elu", RnnActivation::kElu, true, false, 1, 0},
      {"softsign", RnnActivation::kSoftsign, false, false, 0, 0},
      {"softplus", RnnActivation::kSoftplus, false, false, 0, 0},
  };
  for (const Entry& e : kTable) {
    if (n == e.name) {
      fn->kind = e.kind;
      fn->alpha = e.default_alpha;
      fn->beta = e.default_beta;
      *uses_alpha = e.alpha;
      *uses_beta = e.beta;
      return true;
    }
  }
  return false;
}

int64_t rnn_gate_count(RnnCell cell) {
  switch (cell) {
    case RnnCell::kRnn:
      return 1;
    case RnnCell::kGru:
      return 3;
    case RnnCell::kLstm:
      return 4;
  }
  return 1;
}

namespace {

template <typename A>
A activate(const RnnActivationFn& f, A x) {
  const A alpha = static_cast<A>(f.alpha), beta = static_cast<A>(f.beta);
  switch (f.kind) {
    case RnnActivation::kRelu:
      return x > A(0) ? x : A(0);
    case RnnActivation::kTanh:
      return std::tanh(x);
    case RnnActivation::kSigmoid:
      return A(1) / (A(1) + std::exp(-x));
    case RnnActivation::kAffine:
      return alpha * x + beta;
    case RnnActivation::kLeakyRelu:
      return x < A(0) ? alpha * x : x;
    case RnnActivation::kThresholdedRelu:
      return x > alpha ? x : A(0);
    case RnnActivation::kScaledTanh:
      return alpha * std::tanh(beta * x);
    case RnnActivation::kHardSigmoid:
      return std::clamp(alpha * x + beta, A(0), A(1));
    case RnnActivation::kElu:
      return x < A(0) ? alpha * (std::exp(x) - A(1)) : x;
    case RnnActivation::kSoftsign:
      return x / (A(1) + std::abs(x));
    case RnnActivation::kSoftplus:
      return x > A(20) ? x : std::log1p(std::exp(x));
  }
  return x;
}

// y[j] += sum_k x[k] * m[j, k] for j < rows: m is [rows, cols] row-major (one gate block of W or R).
template <typename A>
void add_matvec(const A* m, const A* x, int64_t rows, int64_t cols, A* y) {
  for (int64_t j = 0; j < rows; ++j) {
    const A* row = m + j * cols;
    A s = 0;
    for (int64_t k = 0; k < cols; ++k) s += row[k] * x[k];
    y[j] += s;
  }
}

}  // namespace

template <typename A>
void rnn(const RnnParams& p, const A* X, const A* W, const A* R, const A* bias, const int32_t* seq_lens,
         const A* h0, const A* c0, const A* peep, A* Y, A* Y_h, A* Y_c) {
  const int64_t S = p.seq_length, B = p.batch, I = p.input_size, H = p.hidden, D = p.num_directions;
  const int64_t G = rnn_gate_count(p.cell), GH = G * H;
  const bool lstm = p.cell == RnnCell::kLstm, gru = p.cell == RnnCell::kGru;
  const A clip = static_cast<A>(p.clip);
  auto clamp = [&](A x) { return p.clip > 0 ? std::clamp(x, -clip, clip) : x; };

  std::vector<A> gates(static_cast<size_t>(GH)), h(static_cast<size_t>(H)), c(static_cast<size_t>(H)),
      rh(static_cast<size_t>(H));
  for (int64_t d = 0; d < D; ++d) {
    const A* w = W + d * GH * I;
    const A* r = R + d * GH * H;
    const A* wb = bias ? bias + d * 2 * GH : nullptr;
    const A* rb = bias ? wb + GH : nullptr;
    const A* pd = peep ? peep + d * 3 * H : nullptr;
    const bool reverse = D == 2 ? d == 1 : p.reverse;
    const RnnActivationFn* act = p.act[d];
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = seq_lens ? std::clamp<int64_t>(seq_lens[b], 0, S) : S;
      for (int64_t j = 0; j < H; ++j) {
        h[j] = h0 ? h0[(d * B + b) * H + j] : A(0);
        c[j] = c0 ? c0[(d * B + b) * H + j] : A(0);
      }
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        const A* x = X + (t * B + b) * I;
        for (int64_t j = 0; j < GH; ++j) gates[j] = wb ? wb[j] : A(0);
        add_matvec(w, x, GH, I, gates.data());
        if (gru) {
          // z and r see the plain recurrent product; h's depends on r (and on linear_before_reset).
          add_matvec(r, h.data(), 2 * H, H, gates.data());
          for (int64_t j = 0; j < 2 * H; ++j) {
            if (rb) gates[j] += rb[j];
            gates[j] = activate(act[0], clamp(gates[j]));
          }
          const A* z = gates.data();
          const A* rg = gates.data() + H;
          A* hh = gates.data() + 2 * H;
          const A* rh_w = r + 2 * H * H;
          const A* rh_b = rb ? rb + 2 * H : nullptr;
          if (p.linear_before_reset) {
            for (int64_t j = 0; j < H; ++j) rh[j] = rh_b ? rh_b[j] : A(0);
            add_matvec(rh_w, h.data(), H, H, rh.data());
            for (int64_t j = 0; j < H; ++j) hh[j] += rg[j] * rh[j];
          } else {
            for (int64_t j = 0; j < H; ++j) rh[j] = rg[j] * h[j];
            add_matvec(rh_w, rh.data(), H, H, hh);
            if (rh_b)
              for (int64_t j = 0; j < H; ++j) hh[j] += rh_b[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const A ht = activate(act[1], clamp(hh[j]));
            h[j] = (A(1) - z[j]) * ht + z[j] * h[j];
          }
        } else {
          add_matvec(r, h.data(), GH, H, gates.data());
          if (rb)
            for (int64_t j = 0; j < GH; ++j) gates[j] += rb[j];
          if (lstm) {
            A* gi = gates.data();
            A* go = gates.data() + H;
            A* gf = gates.data() + 2 * H;
            A* gc = gates.data() + 3 * H;
            for (int64_t j = 0; j < H; ++j) {
              const A i = activate(act[0], clamp(gi[j] + (pd ? pd[j] * c[j] : A(0))));
              const A f = p.input_forget
                              ? A(1) - i
                              : activate(act[0], clamp(gf[j] + (pd ? pd[2 * H + j] * c[j] : A(0))));
              const A cc = activate(act[1], clamp(gc[j]));
              c[j] = f * c[j] + i * cc;
              const A o = activate(act[0], clamp(go[j] + (pd ? pd[H + j] * c[j] : A(0))));
              h[j] = o * activate(act[2], c[j]);
            }
          } else {
            for (int64_t j = 0; j < H; ++j) h[j] = activate(act[0], clamp(gates[j]));
          }
        }
        if (Y)
          for (int64_t j = 0; j < H; ++j) Y[((t * D + d) * B + b) * H + j] = h[j];
      }
      if (Y) {
        for (int64_t t = len; t < S; ++t)
          for (int64_t j = 0; j < H; ++j) Y[((t * D + d) * B + b) * H + j] = A(0);
      }
      for (int64_t j = 0; j < H; ++j) {
        if (Y_h) Y_h[(d * B + b) * H + j] = h[j];
        if (Y_c) Y_c[(d * B + b) * H + j] = c[j];
      }
    }
  }
}

template void rnn<float>(const RnnParams&, const float*, const float*, const float*, const float*,
                         const int32_t*, const float*, const float*, const float*, float*, float*, float*);
template void rnn<double>(const RnnParams&, const double*, const double*, const double*, const double*,
                          const int32_t*, const double*, const double*, const double*, double*, double*,
                          double*);

}  // namespace ingot::ref
