"""PyTorch's scaled_dot_product_attention on the shapes flash_attention_bench.cu times (ViT-B/16's attention:
12 heads, 197 tokens, head dim 64, Q / K / V as views of a packed [B, S, 3, H, D] projection), per backend,
FP16, median of CUDA-event timings of 10 back-to-back calls rotating over 4 input sets. The peer figure
for ingot's kernel."""
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_ms(fn, sets, samples=30, reps=10):
    for i in range(20):
        fn(*sets[i % len(sets)])
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ms = []
    for i in range(samples):
        a.record()
        for r in range(reps):
            fn(*sets[(i * reps + r) % len(sets)])
        b.record()
        b.synchronize()
        ms.append(a.elapsed_time(b) / reps)
    return sorted(ms)[len(ms) // 2]


def main():
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    for batch in (32, 1):
        sets = []
        for _ in range(4):
            qkv = torch.rand(batch, 197, 3, 12, 64, device="cuda", dtype=torch.half) * 2 - 1
            sets.append(tuple(qkv[:, :, i].transpose(1, 2) for i in range(3)))  # [B, H, S, D] views
        for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION),
                              ("cudnn", SDPBackend.CUDNN_ATTENTION), ("math", SDPBackend.MATH)):
            try:
                with sdpa_kernel(backend):
                    ms = time_ms(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), sets)
                print(f"sdpa {name:9s} vit_b_16 b{batch:<2d}: {ms:.4f} ms/layer, {12 * ms:.3f} ms x12")
            except RuntimeError as e:
                print(f"sdpa {name:9s} vit_b_16 b{batch:<2d}: not available ({str(e).splitlines()[0][:80]})")


if __name__ == "__main__":
    main()
