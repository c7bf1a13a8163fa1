"""The public API is documented: every public function, class, method and property of the
pins package and its submodules has a docstring."""

import inspect

import pins
import pins.petsc
import pins.plot
import pins.progress


def public_members(module):
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        if getattr(obj, "__module__", "").startswith("pins") or inspect.isbuiltin(obj):
            yield "%s.%s" % (module.__name__, name), obj


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    seen = 0
    for module in (pins, pins.petsc, pins.plot, pins.progress):
        for name, obj in public_members(module):
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            seen += 1
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr not in ("__init__", "__call__", "__len__",
                                                             "__getitem__"):
                        continue
                    if callable(member) or isinstance(member, property):
                        if not (member.__doc__ or "").strip():
                            missing.append("%s.%s" % (name, attr))
    assert seen >= 25, "too few public names found (%d): the check itself is broken" % seen
    assert not missing, "no docstring: " + ", ".join(missing)


def test_package_docstring_names_every_export():
    doc = pins.__doc__
    for name in ("generate", "Dataset", "residual", "load_model", "train", "evaluate",
                 "pins.petsc", "pins.plot"):
        assert name in doc


def test_registry_listings():
    assert pins.surrogate_types() == ["fno", "unet", "deeponet", "mlp", "mgnet", "fno3d", "unet3d", "gnn", "entry_mlp"]
    text = pins.train_help()
    for name in ("-train_epochs", "-train_physics_weight", "-fno_modes", "-unet_"):
        assert name in text
