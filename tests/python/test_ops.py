"""pins.residual and the loss terms: values against a plain torch stencil, gradients against
finite differences (torch.autograd.gradcheck), gradients into Python parameters, zero copies,
and exceptions for bad input."""

import pytest
import torch

import pins
from pins import _pins

torch.manual_seed(0)


def reference_apply(c, u):
    """A u of the 5-point stencil in plain torch (channels C, W, E, S, N; no outside points)."""
    out = c[:, 0] * u
    out[:, :, 1:] += c[:, 1, :, 1:] * u[:, :, :-1]    # west: (i, j-1)
    out[:, :, :-1] += c[:, 2, :, :-1] * u[:, :, 1:]   # east: (i, j+1)
    out[:, 1:, :] += c[:, 3, 1:, :] * u[:, :-1, :]    # south: (i-1, j)
    out[:, :-1, :] += c[:, 4, :-1, :] * u[:, 1:, :]   # north: (i+1, j)
    return out


def problem(b=2, ny=5, nx=6, dtype=torch.float64, grad=False):
    kappa = torch.rand(b, ny, nx, dtype=dtype) + 0.5
    c = pins.coefficients(kappa)
    u = torch.randn(b, ny, nx, dtype=dtype, requires_grad=grad)
    f = torch.randn(b, ny, nx, dtype=dtype, requires_grad=grad)
    return c.detach().requires_grad_(grad), u, f


def test_coefficients_shape_and_symmetry():
    kappa = torch.rand(3, 7, 5, dtype=torch.float64) + 0.1
    c = pins.coefficients(kappa)
    assert c.shape == (3, 5, 7, 5)
    # The Darcy operator is symmetric: east of (i,j) equals west of (i,j+1).
    assert torch.allclose(c[:, 2, :, :-1], c[:, 1, :, 1:])
    assert torch.allclose(c[:, 4, :-1, :], c[:, 3, 1:, :])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_residual_and_apply_match_reference(dtype):
    c, u, f = problem(dtype=dtype)
    eps = torch.finfo(dtype).eps
    ref = reference_apply(c, u)
    scale = ref.abs().max().item()
    assert torch.allclose(pins.apply(c, u), ref, rtol=0, atol=50 * eps * scale)
    assert torch.allclose(pins.residual(c, u, f), ref - f, rtol=0, atol=50 * eps * scale)


def test_losses_match_reference():
    c, u, f = problem()
    r = reference_apply(c, u) - f
    assert torch.allclose(pins.residual_loss(c, u, f), (r ** 2).mean())
    rd = r / c[:, 0]
    assert torch.allclose(pins.residual_loss(c, u, f, "diagonal"), (rd ** 2).mean())
    energy = (0.5 * (u * reference_apply(c, u)).sum((1, 2)) - (f * u).sum((1, 2))).mean()
    assert torch.allclose(pins.energy_loss(c, u, f), energy)
    rel = r.flatten(1).norm(dim=1) / f.flatten(1).norm(dim=1)
    assert torch.allclose(pins.relative_residual(c, u, f), rel)
    p = u + 0.1
    assert torch.allclose(pins.relative_l2(p, u),
                          (p - u).flatten(1).norm(dim=1) / u.flatten(1).norm(dim=1))


@pytest.mark.parametrize("name", ["residual", "apply", "residual_loss", "energy_loss",
                                  "physics_loss"])
def test_gradients_match_finite_differences(name):
    c, u, f = problem(b=2, ny=4, nx=5, grad=True)
    fn = {"residual": lambda c, u, f: pins.residual(c, u, f),
          "apply": lambda c, u, f: pins.apply(c, u),
          "residual_loss": lambda c, u, f: pins.residual_loss(c, u, f, "diagonal"),
          "energy_loss": lambda c, u, f: pins.energy_loss(c, u, f),
          "physics_loss": lambda c, u, f: pins.physics_loss(c, u, f)}[name]
    # Only differentiable inputs: apply ignores f; physics_loss differentiates u only.
    if name == "apply":
        assert torch.autograd.gradcheck(lambda c, u: fn(c, u, f), (c, u))
    elif name == "physics_loss":
        assert torch.autograd.gradcheck(lambda u: fn(c.detach(), u, f.detach()), (u,))
    else:
        assert torch.autograd.gradcheck(fn, (c, u, f))


def test_gradients_flow_to_python_parameters():
    """A Python model trained through pins.residual_loss: its parameters get gradients and
    the loss falls."""
    c, _, f = problem(b=1, ny=8, nx=8)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64)).double()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.ones(1, 64, dtype=torch.float64)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = pins.residual_loss(c, net(x).view(1, 8, 8), f, "diagonal")
        loss.backward()
        losses.append(loss.item())
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
        opt.step()
    assert losses[-1] < 0.1 * losses[0]


def test_tensors_cross_without_copies():
    u = torch.zeros(2, 3, 4, dtype=torch.float64)
    assert _pins._data_ptr(u) == u.data_ptr()
    _pins._add_in_place(u, 2.5)  # C++ writes through the pointer it was given
    assert torch.all(u == 2.5)
    view = u[1]  # a contiguous view into the middle of u's storage
    assert _pins._data_ptr(view) == view.data_ptr()
    _pins._add_in_place(view, 1.0)
    assert torch.all(u[1] == 3.5) and torch.all(u[0] == 2.5)


def test_non_contiguous_inputs_are_accepted():
    c, u, f = problem(ny=6, nx=6)
    ut = u.transpose(1, 2)
    assert not ut.is_contiguous()
    assert torch.allclose(pins.residual(c, ut, f), pins.residual(c, ut.contiguous(), f))


@pytest.mark.parametrize("bad, message", [
    (lambda c, u, f: pins.residual(c[:, :4], u, f), "coeffs"),
    (lambda c, u, f: pins.residual(c, u[:, :-1], f), "u"),
    (lambda c, u, f: pins.residual(c, u.float(), f), "dtype"),
    (lambda c, u, f: pins.residual(c.int(), u.int(), f.int()), "float"),
    (lambda c, u, f: pins.residual_loss(c, u, f, "log"), "scaling"),
    (lambda c, u, f: pins.physics_loss(c, u, f, "magic"), "kind"),
    (lambda c, u, f: pins.coefficients(u, pde="heat"), "heat"),
    (lambda c, u, f: pins.coefficients(u[0]), "kappa"),
    (lambda c, u, f: pins.relative_l2(u, f[:1]), "shape"),
])
def test_bad_input_raises_value_error(bad, message):
    c, u, f = problem()
    with pytest.raises(ValueError, match=message) as info:
        bad(c, u, f)
    assert "\n" not in str(info.value)


def test_wrong_argument_types_raise_type_error():
    with pytest.raises(TypeError):
        pins.residual("coeffs", None, 3)
