#!/usr/bin/python3
"""Reference FNO training loop in Python (Debian's python3-torch 1.13), for the throughput
comparison with pins' C++ trainer (bench/bench_train_throughput.sh).

The network is the same as surrogates/fno.cpp: 1x1 lifting of [inputs, x, y] to `width`
channels, zero padding, `layers` Fourier layers (spectral convolution keeping `modes` x
`modes` frequencies for ky >= 0 and ky < 0, plus a 1x1 convolution, GELU except after the
last), crop, 1x1 projection to `hidden` channels, GELU, 1x1 to the output. Training is
Adam on the relative L2 data loss over shuffled mini-batches, as `pins train` with
`-train_physics_weight 0`. The data are a pins dataset read with h5py (inputs κ and f,
target u, each normalised by its mean and standard deviation).

    /usr/bin/python3 bench/fno_reference.py -data darcy.h5 -epochs 3 -threads 2
prints one line per epoch and finally `samples/s <number>` (epochs after the first).
"""
import argparse
import time

import h5py
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpectralConv2d(nn.Module):
    def __init__(self, cin, cout, modes):
        super().__init__()
        scale = 1.0 / (cin * cout)
        self.modes = modes
        self.weight_pos = nn.Parameter(torch.rand(cin, cout, modes, modes, 2) * scale)
        self.weight_neg = nn.Parameter(torch.rand(cin, cout, modes, modes, 2) * scale)
        self.cout = cout

    def forward(self, x):
        B, _, H, W = x.shape
        my, mx = min(self.modes, H // 2), min(self.modes, W // 2 + 1)
        xf = torch.fft.rfft2(x)
        out = torch.zeros(B, self.cout, H, W // 2 + 1, dtype=xf.dtype)
        wp = torch.view_as_complex(self.weight_pos)[:, :, :my, :mx]
        wn = torch.view_as_complex(self.weight_neg)[:, :, self.modes - my:, :mx]
        out[:, :, :my, :mx] = torch.einsum("bixy,ioxy->boxy", xf[:, :, :my, :mx], wp)
        out[:, :, H - my:, :mx] = torch.einsum("bixy,ioxy->boxy", xf[:, :, H - my:, :mx], wn)
        return torch.fft.irfft2(out, s=(H, W))


class FNO(nn.Module):
    def __init__(self, cin, cout, modes=12, width=32, layers=4, padding=9, hidden=128):
        super().__init__()
        self.padding = padding
        self.lift = nn.Conv2d(cin + 2, width, 1)
        self.spectral = nn.ModuleList([SpectralConv2d(width, width, modes) for _ in range(layers)])
        self.pointwise = nn.ModuleList([nn.Conv2d(width, width, 1) for _ in range(layers)])
        self.project_hidden = nn.Conv2d(width, hidden, 1)
        self.project_out = nn.Conv2d(hidden, cout, 1)

    def forward(self, x):
        B, _, ny, nx = x.shape
        y = (torch.arange(ny, dtype=x.dtype) + 0.5) / ny
        xc = (torch.arange(nx, dtype=x.dtype) + 0.5) / nx
        coords = torch.stack(torch.meshgrid(xc, y, indexing="xy"))  # [2, ny, nx]: (x, y)
        h = self.lift(torch.cat([x, coords.expand(B, 2, ny, nx)], 1))
        p = self.padding
        if p > 0:
            h = F.pad(h, (0, p, 0, p))
        for l, (s, w) in enumerate(zip(self.spectral, self.pointwise)):
            h = s(h) + w(h)
            if l + 1 < len(self.spectral):
                h = F.gelu(h)
        if p > 0:
            h = h[:, :, :ny, :nx]
        return self.project_out(F.gelu(self.project_hidden(h)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-data", required=True)
    ap.add_argument("-epochs", type=int, default=3)
    ap.add_argument("-samples", type=int, default=0, help="use the first N samples (0: all)")
    ap.add_argument("-batch", type=int, default=20)
    ap.add_argument("-threads", type=int, default=torch.get_num_threads())
    ap.add_argument("-modes", type=int, default=12)
    ap.add_argument("-width", type=int, default=32)
    ap.add_argument("-layers", type=int, default=4)
    ap.add_argument("-padding", type=int, default=9)
    ap.add_argument("-hidden", type=int, default=128)
    ap.add_argument("-lr", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    with h5py.File(a.data, "r") as h:
        n = a.samples if a.samples > 0 else h["kappa"].shape[0]
        kappa = torch.from_numpy(h["kappa"][:n]).float()
        f = torch.from_numpy(h["f"][:n]).float()
        u = torch.from_numpy(h["u"][:n]).float()
    norm = lambda t: (t - t.mean()) / (t.std() + 1e-12)
    x = torch.stack([norm(kappa), norm(f)], 1)  # [N, 2, ny, nx]
    y = norm(u).unsqueeze(1)
    n = x.shape[0]

    model = FNO(2, 1, a.modes, a.width, a.layers, a.padding, a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    rates = []
    for epoch in range(a.epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        total = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            pred = model(x[idx])
            diff = (pred - y[idx]).flatten(1).norm(dim=1)
            loss = (diff / y[idx].flatten(1).norm(dim=1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        dt = time.perf_counter() - t0
        rates.append(n / dt)
        print(f"epoch {epoch + 1}: loss {total / n:.4f}  {n / dt:.1f} samples/s", flush=True)
    steady = rates[1:] if len(rates) > 1 else rates
    print(f"samples/s {sum(steady) / len(steady):.2f}")


if __name__ == "__main__":
    main()
