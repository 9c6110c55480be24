"""The prompt encoders the semantic cache reuses: the shipped artifacts, normalised rows, truncation."""

from __future__ import annotations

import numpy as np
import pytest

from routers.vectors import ENCODERS, load_prompt_encoder

pytestmark = pytest.mark.model


@pytest.mark.parametrize("name", ENCODERS)
def test_encoders_give_unit_rows_and_tell_when_they_would_truncate(name: str) -> None:
    encoder = load_prompt_encoder(name)
    assert encoder.name == name and encoder.inline is (name == "static")
    vectors = encoder.encode(["How do I reset my password?", "How can I reset my password?", "Capital of Peru?"])
    assert vectors.dtype == np.float32 and vectors.shape[0] == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2], "a paraphrase is closer than another question"
    assert encoder.fits("How do I reset my password?")
    assert not encoder.fits("word " * 600), "a prompt the encoder would cut is reported"


def test_an_unknown_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown prompt encoder"):
        load_prompt_encoder("bert")
