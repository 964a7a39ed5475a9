"""Parameters: coercion, ranges, optional values and unknown names."""

import pytest

from studio.core.errors import ConfigError
from studio.core.params import Param, array_shape, defaults, resolve
from studio.core.registry import Registry

PARAMS = (
    Param("units", "int", 32, "how many", min=1, max=4096),
    Param("lr", "float", 1e-3, "step size", min=0.0, log=True),
    Param("nesterov", "bool", False, "look ahead"),
    Param("mode", "choice", "fan_in", "which fan", choices=("fan_in", "fan_out")),
    Param("target", "float", None, "stop below", optional=True),
)


def test_resolve_fills_defaults_and_coerces():
    values = resolve(PARAMS, {"units": 64.0, "nesterov": "true"}, "Linear")
    assert values == {"units": 64, "lr": 1e-3, "nesterov": True, "mode": "fan_in", "target": None}
    assert defaults(PARAMS)["units"] == 32


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"units": 0}, "units", "at least 1"),
        ({"units": 5000}, "units", "at most 4096"),
        ({"units": 2.5}, "units", "whole number"),
        ({"units": True}, "units", "whole number"),
        ({"lr": "fast"}, "lr", "a number"),
        ({"lr": float("nan")}, "lr", "finite"),
        ({"mode": "fan_out_x"}, "mode", "fan_in, fan_out"),
        ({"nesterov": "maybe"}, "nesterov", "true or false"),
        ({"unitz": 3}, "unitz", "unknown setting 'unitz'"),
        ({"units": None}, "units", "needs a value"),
    ],
)
def test_bad_values_name_the_field(values, field, words):
    with pytest.raises(ConfigError) as info:
        resolve(PARAMS, values, "Linear")
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith("Linear: ")


def test_param_definition_errors_are_programming_errors():
    with pytest.raises(ValueError):
        Param("x", "tuple", 1, "no such kind")
    with pytest.raises(ValueError):
        Param("x", "choice", "a", "choices missing")


def test_registry_rejects_duplicates_and_lists_names():
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1)
    reg.register("b", 2)
    with pytest.raises(ValueError):
        reg.register("a", 3)
    assert reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2
    with pytest.raises(ConfigError, match="unknown widget 'c'; choose one of: a, b"):
        reg.get("c")


def test_array_params_take_rectangular_lists_of_numbers():
    weight = Param("weight", "array", None, "typed weights")
    assert weight.coerce([[1, 2], [3, 4.5]]) == [[1.0, 2.0], [3.0, 4.5]]
    assert weight.coerce([]) == []
    assert array_shape(weight.coerce([[[1], [2]]])) == (1, 2, 1)
    for bad in ([[1, 2], [3]], [[1], 2], [1, "2"], [True], [float("nan")], 3, "1, 2", None):
        with pytest.raises(ConfigError, match="weight"):
            weight.coerce(bad)
