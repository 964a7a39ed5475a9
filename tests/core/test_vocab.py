"""Closed vocabularies: each member is its string everywhere a string went before (JSON, formats, dict keys)."""

from __future__ import annotations

import json

import pytest

from studio.core.vocab import EndReason, Interval, MessageKind, Precision, Severity, Task, TrainingState


@pytest.mark.parametrize("vocab", [Task, EndReason, Interval, Severity, MessageKind, TrainingState, Precision])
def test_members_read_write_and_compare_as_their_strings(vocab) -> None:
    for member in vocab:
        text = member.value
        assert member == text and hash(member) == hash(text) and {text: 1}[member] == 1
        assert str(member) == f"{member}" == text and type(str(member)) is str
        assert json.dumps({"k": member}) == json.dumps({"k": text})
        assert vocab(text) is member


def test_the_values_are_those_of_the_files() -> None:
    assert [r.value for r in EndReason] == ["completed", "stopped", "target_loss", "early_stopping", "non_finite"]
    assert [p.value for p in Precision] == ["fp32", "bf16", "fp16"]
    with pytest.raises(ValueError):
        Task("clustering")
