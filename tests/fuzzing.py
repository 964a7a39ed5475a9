"""Random projects for property-based fuzzing (issue 16, point 5), shared by the suite and ``benchmarks/fuzz.py``.

Projects are drawn from the registries (layer types, datasets, optimizers, losses, schedules,
initialisations and their ``Param``\\ s) with a per-example hostility: most values valid, some
hostile (0, negatives, 10⁹, wrong types, unicode, NaN, unknown keys), stacks up to 200 layers.
:func:`attempt` loads one through the file path (``Project.from_dict``) and trains one step: it
returns the outcome, and raises only for what the property forbids (another exception).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from studio.core.callbacks import Callback
from studio.core.data import DATASETS, PREPROCESSINGS, describe
from studio.core.engine import Trainer
from studio.core.errors import ConfigError, ShapeError, StudioError
from studio.core.init import BIAS_INITS, INITS
from studio.core.layers import LAYERS
from studio.core.optim import LOSSES, OPTIMIZERS, SCHEDULES
from studio.core.params import Param
from studio.core.project import SCHEMA_VERSION, DataSpec, Project

# In-memory datasets only: the torchvision sets would try to download, and files are fuzzed elsewhere.
DATASET_NAMES = ["digits", "moons", "circles", "spirals", "xor", "blobs", "quadratic", "sine", "table"]
HOSTILE = st.one_of(
    st.sampled_from([0, -1, -7, 10**9, -(10**9), 1e9, 3.5, -0.5, math.nan, math.inf, True, None, "", "ten", "no",
                     [], {}, [1, 2], {"a": 1}, "ünïcødé ✓", 10**30]),
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
UNKNOWN_KEY = st.sampled_from(["bogus", "Epochs", "lr ", "ünknown", ""])


class Chooser:
    """Draws a valid value most of the time and a hostile one at this example's rate."""

    def __init__(self, draw: Any, rate: float) -> None:
        self.draw, self.rate = draw, rate

    def hostile(self) -> bool:
        return self.rate > 0 and self.draw(st.floats(0, 1)) < self.rate

    def value(self, valid: st.SearchStrategy) -> Any:
        return self.draw(HOSTILE) if self.hostile() else self.draw(valid)

    def name(self, names: list[str]) -> Any:
        return self.value(st.sampled_from(names))

    def params(self, params: tuple[Param, ...]) -> dict[str, Any]:
        out = {p.name: self.value(_valid(p)) for p in params if self.draw(st.booleans())}
        if self.hostile():
            out[self.draw(UNKNOWN_KEY)] = self.draw(HOSTILE)
        return out

    def section(self, values: dict[str, Any]) -> dict[str, Any]:
        """A dict of settings, sometimes with an unknown key."""
        if self.hostile():
            values[self.draw(UNKNOWN_KEY)] = self.draw(HOSTILE)
        return values


def _valid(param: Param) -> st.SearchStrategy:
    """In-range values, kept small where size costs time (units, samples)."""
    if param.kind == "int":
        low = int(param.min) if param.min is not None else 0
        high = int(param.max) if param.max is not None else low + 1000
        small = st.integers(low, min(high, low + 24))
        strategy = st.one_of(small, st.sampled_from([low, min(high, 64)]))
    elif param.kind == "float":
        low = param.min if param.min is not None else -10.0
        high = param.max if param.max is not None else 10.0
        strategy = st.floats(low, high, allow_nan=False, allow_infinity=False)
    elif param.kind == "bool":
        strategy = st.booleans()
    elif param.kind == "choice":
        strategy = st.sampled_from(param.choices)
    else:
        strategy = st.just(param.default) if param.default is not None else st.text(max_size=8)
    return st.one_of(st.none(), strategy) if param.optional else strategy


def _known(name: Any, registry: Any) -> bool:
    return isinstance(name, str) and name in registry


def _registry(choose: Chooser, registry: Any) -> dict[str, Any]:
    name = choose.name(registry.names())
    params = choose.params(registry.get(name).params) if _known(name, registry) else choose.value(st.just({}))
    return choose.section({"name": name, "params": params})


# Layer types that take the flat samples of the in-memory datasets: sensible stacks use only these
# (block types hold rows, which the fuzzer does not draw: in random stacks they are refused as empty).
FLAT_TYPES = [name for name, kind in LAYERS.items() if kind.expects != "image" and kind.block is None]


def _layer(choose: Chooser, types: list[str], sensible: bool) -> dict[str, Any]:
    name = choose.name(types)
    row: dict[str, Any] = {"type": name}
    if _known(name, LAYERS):
        row["params"] = choose.params(LAYERS.get(name).params)
    if choose.draw(st.integers(0, 9)) == 0:
        row["init"] = choose.name([*INITS.names(), None])
    if not sensible and choose.draw(st.integers(0, 9)) == 0:
        row["frozen"] = choose.value(st.booleans())
    if choose.draw(st.integers(0, 9)) == 0:
        row["lr_mult"] = choose.value(st.floats(0, 10))
    return choose.section(row)


def _outputs(data: dict[str, Any], loss: dict[str, Any]) -> int | None:
    """How many outputs this dataset and loss need, when both are valid."""
    try:
        info = describe(DataSpec(**{k: v for k, v in data.items() if k in ("dataset", "params")}))
        kind = LOSSES.get(loss["name"])
        return kind.outputs(info.task, info.num_classes or None, info.target_dim or None)
    except (StudioError, TypeError, ValueError, KeyError):
        return None


@st.composite
def projects(draw: Any) -> dict[str, Any]:
    """One project dict as a file would hold it.

    Half are "sensible" (layer types that take flat data, a last Linear as wide as the data and loss
    need, nothing frozen), so that many train; the rest stack any types. Either kind gets hostile values
    at its own rate.
    """
    choose = Chooser(draw, draw(st.sampled_from([0.0, 0.0, 0.0, 0.02, 0.1, 0.4])))
    sensible = draw(st.booleans())
    depth = draw(st.sampled_from([draw(st.integers(0, 6)), draw(st.integers(0, 6)), 200]))
    layers = [_layer(choose, FLAT_TYPES if sensible else LAYERS.names(), sensible) for _ in range(depth)]
    init = choose.name(INITS.names())
    dataset = choose.name(DATASET_NAMES)
    data_params = choose.params(DATASETS.get(dataset).params) if _known(dataset, DATASETS) else {}
    if isinstance(data_params.get("n_samples"), int) and data_params["n_samples"] > 400:
        data_params["n_samples"] = 400
    data = choose.section({
        "dataset": dataset,
        "params": data_params,
        "preprocessing": choose.name(PREPROCESSINGS.names()),
        "val_fraction": choose.value(st.floats(0, 0.9)),
        "subset_per_class": choose.value(st.one_of(st.none(), st.integers(1, 20))),
        "seed": choose.value(st.integers(0, 2**32 - 1)),
    })
    loss = _registry(choose, LOSSES)
    width = _outputs(data, loss) if sensible else None
    if width is not None or draw(st.booleans()):
        layers.append({"type": "Linear", "params": {"out_features": width or draw(st.sampled_from([1, 2, 3, 10]))}})
    return choose.section({
        "schema_version": SCHEMA_VERSION,
        "name": choose.value(st.text(max_size=10)),
        "model": choose.section({
            "layers": choose.value(st.just(layers)),
            "init": init,
            "init_params": choose.params(INITS.get(init).params) if _known(init, INITS) else {},
            "bias_init": choose.name(BIAS_INITS.names()),
        }),
        "data": data,
        "optimizer": _registry(choose, OPTIMIZERS),
        "loss": loss,
        "schedule": _registry(choose, SCHEDULES),
        "training": choose.section({
            "epochs": choose.value(st.integers(1, 3)),
            "batch_size": choose.value(st.integers(1, 64)),
            "seed": choose.value(st.integers(0, 2**32 - 1)),
            "device": choose.value(st.sampled_from(["auto", "cpu"])),
            "shuffle": choose.value(st.booleans()),
            "target_loss": choose.value(st.one_of(st.none(), st.floats(0, 5))),
            "early_stopping_patience": choose.value(st.one_of(st.none(), st.integers(1, 5))),
            "stats_every": choose.value(st.integers(0, 5)),
            "checkpoint_every": choose.value(st.integers(0, 3)),
            "keep_checkpoints": choose.value(st.integers(1, 5)),
        }),
    })


class _OneStep(Callback):
    """Stops the fit after its first optimizer step."""

    def on_train_batch_end(self, trainer: Any, event: Any) -> None:
        trainer.request_stop()


def attempt(data: dict[str, Any]) -> str:
    """Load ``data`` and train one step: ``"trained"`` or the refusal's error class.

    Raises AssertionError when a refusal does not name what to fix, and lets any other exception
    through: both break the property.
    """
    try:
        trainer = Trainer(Project.from_dict(data), callbacks=[_OneStep()], log_every=1)
        trainer.fit()
    except StudioError as exc:
        message = str(exc)
        assert message.strip() and "Traceback" not in message, repr(message)
        if isinstance(exc, ConfigError) and not isinstance(exc, ShapeError):
            assert exc.field, f"{type(exc).__name__} without a field: {message}"
        return type(exc).__name__
    assert trainer.position.step >= 1
    return "trained"
