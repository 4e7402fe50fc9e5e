"""Reference peer: train the same DeepSEA architecture in plain PyTorch on the same machine.

Optional (not a chromseq dependency): ``pip install torch==2.13.0`` (a CPU build here), then

    python scripts/bench_torch_deepsea.py --batches 6 --batch-size 256 [--bf16] [--json out.json]

It builds DeepSEA exactly as chromseq's ``deepsea`` (Conv 320/480/960 width 8, pools of 4,
Dense 925, K=919 sigmoid outputs; 52.8 M parameters at L=1000), trains with SGD + momentum on
random one-hot data in memory and reports samples/s after warm-up, so the README can state
chromseq's training speed as a ratio to it (``chromseq bench train --model deepsea``).
"""

from __future__ import annotations

import argparse
import json
import os
import time


def build(seq_len: int = 1000, n_features: int = 919):
    import torch
    from torch import nn

    def conv_out(length: int) -> int:
        length = (length - 7) // 4          # conv 8 valid + pool 4
        length = (length - 7) // 4
        return length - 7

    return nn.Sequential(
        nn.Conv1d(4, 320, 8), nn.ReLU(), nn.MaxPool1d(4), nn.Dropout(0.2),
        nn.Conv1d(320, 480, 8), nn.ReLU(), nn.MaxPool1d(4), nn.Dropout(0.2),
        nn.Conv1d(480, 960, 8), nn.ReLU(), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(960 * conv_out(seq_len), 925), nn.ReLU(),
        nn.Linear(925, n_features),
    ), torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seq-len", type=int, default=1000)
    parser.add_argument("--features", type=int, default=919)
    parser.add_argument("--bf16", action="store_true", help="autocast to bfloat16 on the CPU")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()

    model, torch = build(args.seq_len, args.features)
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 4, (args.batch_size, args.seq_len), generator=gen)
    x = torch.nn.functional.one_hot(idx, 4).float().permute(0, 2, 1).contiguous()  # (B, 4, L)
    y = (torch.rand(args.batch_size, args.features, generator=gen) < 0.05).float()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.batches):
        step()
    seconds = time.perf_counter() - start
    result = {
        "framework": f"pytorch {torch.__version__}",
        "model": "deepsea",
        "parameters": params,
        "precision": "bf16" if args.bf16 else "fp32",
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "train_samples_per_s": args.batches * args.batch_size / seconds,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
