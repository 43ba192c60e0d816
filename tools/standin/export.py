"""Writes random-weight ONNX encoders with exactly openai/clip-vit-base-patch32's architecture.

Called by tools/standin/build.ts (npm run model:standin), which writes the tokenizer files, config and model card.
Weights are seeded and drawn as Hugging Face's CLIPPreTrainedModel._init_weights draws them (its standard deviations,
re-derived here), so activations keep a sane scale through 12 layers and embeddings are not degenerate. The module
is written out (no nn.MultiheadAttention) so the ONNX graph is plain, as tools/tiny-clip/model.py does.

Usage: python3 tools/standin/export.py OUT_DIR SEED
"""
import math
import os
import sys

import onnx
import torch
from torch import nn

# openai/clip-vit-base-patch32
VISION = dict(width=768, layers=12, heads=12, mlp=3072, patch=32, image=224)
TEXT = dict(width=512, layers=12, heads=8, mlp=2048, context=77, vocab=49408)
PROJECTION = 512


class QuickGELU(nn.Module):
    """CLIP's activation (config hidden_act "quick_gelu")."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, width, heads, layers):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.out = (nn.Linear(width, width) for _ in range(4))
        in_std = width ** -0.5 * (2 * layers) ** -0.5
        for lin in (self.q, self.k, self.v):
            nn.init.normal_(lin.weight, std=in_std)
        nn.init.normal_(self.out.weight, std=width ** -0.5)

    def forward(self, x, mask=None):
        b, n, w = x.shape
        d = w // self.heads

        def split(t):
            return t.reshape(b, n, self.heads, d).transpose(1, 2)

        scores = (split(self.q(x)) * d ** -0.5) @ split(self.k(x)).transpose(-2, -1)
        if mask is not None:
            scores = scores + mask
        y = scores.softmax(dim=-1) @ split(self.v(x))
        return self.out(y.transpose(1, 2).reshape(b, n, w))


class Block(nn.Module):
    """Pre-LayerNorm block, as CLIP's."""

    def __init__(self, width, heads, mlp, layers):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads, layers)
        self.ln_2 = nn.LayerNorm(width)
        self.fc1, self.fc2 = nn.Linear(width, mlp), nn.Linear(mlp, width)
        nn.init.normal_(self.fc1.weight, std=(2 * width) ** -0.5)
        nn.init.normal_(self.fc2.weight, std=width ** -0.5 * (2 * layers) ** -0.5)
        self.act = QuickGELU()

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.fc2(self.act(self.fc1(self.ln_2(x))))


def zero_biases(module):
    for m in module.modules():
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)


class Vision(nn.Module):
    """[B,3,224,224] -> image_embeds [B,512] (not normalised, as CLIPVisionModelWithProjection)."""

    def __init__(self):
        super().__init__()
        w, p = VISION["width"], VISION["patch"]
        n = (VISION["image"] // p) ** 2 + 1
        self.patch = nn.Conv2d(3, w, p, stride=p, bias=False)
        nn.init.normal_(self.patch.weight, std=0.02)
        self.cls = nn.Parameter(torch.randn(w) * w ** -0.5)
        self.pos = nn.Parameter(torch.randn(n, w) * 0.02)
        self.pre = nn.LayerNorm(w)
        self.blocks = nn.ModuleList(Block(w, VISION["heads"], VISION["mlp"], VISION["layers"]) for _ in range(VISION["layers"]))
        self.post = nn.LayerNorm(w)
        self.proj = nn.Linear(w, PROJECTION, bias=False)
        nn.init.normal_(self.proj.weight, std=w ** -0.5)
        zero_biases(self)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], dim=1) + self.pos
        x = self.pre(x)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.post(x[:, 0]))


class Text(nn.Module):
    """input_ids [B,T] -> text_embeds [B,512], pooled at the highest id (<|endoftext|> is 49407), as CLIP's."""

    def __init__(self):
        super().__init__()
        w = TEXT["width"]
        self.tok = nn.Embedding(TEXT["vocab"], w)
        nn.init.normal_(self.tok.weight, std=0.02)
        self.pos = nn.Parameter(torch.randn(TEXT["context"], w) * 0.02)
        self.blocks = nn.ModuleList(Block(w, TEXT["heads"], TEXT["mlp"], TEXT["layers"]) for _ in range(TEXT["layers"]))
        self.final = nn.LayerNorm(w)
        self.proj = nn.Linear(w, PROJECTION, bias=False)
        nn.init.normal_(self.proj.weight, std=w ** -0.5)
        zero_biases(self)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:n]
        mask = torch.full((n, n), float("-inf")).triu(1)
        for block in self.blocks:
            x = block(x, mask)
        x = self.final(x)
        pooled = x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]
        return self.proj(pooled)


def name_output_size(path, size):
    """State the embedding size in the graph's output, as CLIP exports do."""
    graph = onnx.load(path)
    graph.graph.output[0].type.tensor_type.shape.dim[1].dim_value = size
    onnx.checker.check_model(path)
    onnx.save(graph, path)


def main(out, seed):
    torch.manual_seed(seed)
    vision, text = Vision().eval(), Text().eval()
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(vision, torch.randn(2, 3, 224, 224), os.path.join(out, "onnx", "vision_model.onnx"),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}},
                          opset_version=17, do_constant_folding=True)
        ids = torch.full((2, 9), TEXT["vocab"] - 1, dtype=torch.long)
        ids[:, 0] = TEXT["vocab"] - 2
        ids[:, 1:5] = torch.randint(0, TEXT["vocab"] - 2, (2, 4))
        torch.onnx.export(text, ids, os.path.join(out, "onnx", "text_model.onnx"),
                          input_names=["input_ids"], output_names=["text_embeds"],
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                        "text_embeds": {0: "batch_size"}},
                          opset_version=17, do_constant_folding=True)
    for name in ("vision_model", "text_model"):
        name_output_size(os.path.join(out, "onnx", f"{name}.onnx"), PROJECTION)
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in (("vision", vision), ("text", text))}
    print(f"standin: vision {params['vision']:,} text {params['text']:,} parameters", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
