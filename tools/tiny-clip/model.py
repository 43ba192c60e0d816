"""The tiny CLIP: a ViT-style image encoder and a causal text transformer, as small as the shapes world allows.

The image side works on 56x56 pixels: CLIP's 224x224 input is average-pooled 4x4 first (training data is stored
already pooled; the ONNX export prepends the pool). A small convolutional stem before an 8-px patch embedding learned
far faster than a plain 32-px patch embedding on 224 px.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Multi-head self-attention written out (no nn.MultiheadAttention) so the ONNX graph stays plain."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x, mask=None):
        b, n, w = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(w // self.heads))
        if mask is not None:
            scores = scores + mask
        y = scores.softmax(dim=-1) @ v
        return self.out(y.transpose(1, 2).reshape(b, n, w))


class Block(nn.Module):
    """Pre-LayerNorm transformer block, as CLIP's."""

    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


PART_WEIGHTS = (1.0, 1.0, 0.5)


def factorised(chunks):
    """Joins the colour, shape and rest parts, each normalised on its own, the rest at half weight. Training aligns
    each part on its own attribute, so the cosine of two embeddings is a sum of a colour match and a shape match:
    a green triangle, never seen, still scores highest against "a green triangle". The output is not unit-length
    as a whole (CLIP users normalise it themselves)."""
    return torch.cat([F.normalize(c, dim=-1) * w for c, w in zip(chunks, PART_WEIGHTS)], dim=-1)


class FactorisedProjection(nn.Module):
    def __init__(self, width, parts):
        super().__init__()
        self.parts = list(parts)
        self.proj = nn.Linear(width, sum(self.parts), bias=False)

    def forward(self, x):
        return factorised(torch.split(self.proj(x), self.parts, dim=-1))


def border_ring(x, width=2):
    """The pixels of the outer `width`-pixel frame, [B,C,R]: objects sit inside, so this is background."""
    return torch.cat([x[:, :, :width, :].flatten(2), x[:, :, -width:, :].flatten(2),
                      x[:, :, width:-width, :width].flatten(2), x[:, :, width:-width, -width:].flatten(2)], dim=2)


class VisionEncoder(nn.Module):
    """[B,3,56,56] normalised pixels -> [B,embed] as colour | shape | rest parts.

    Shape comes from a ViT that sees only a colour-blind figure map: each pixel's distance from the background colour
    (the mean of the border frame), scaled to [0,1]. Trained on full colour, a ViT learned shapes per colour and called
    an unseen white circle a square; on the figure map every shape looks the same in every colour. Its stem is a
    strided 3x3 conv (56 -> 28) and a 3x3 conv, then 4x4 patches of the 28 map (8-px patches of the 56 image): 49
    tokens plus a class token. Colour comes from a shape-blind branch: per-pixel features averaged over the figure
    and over the ground. The rest (count, size, background) sees both."""

    def __init__(self, width, layers, heads, parts, stem=32, colour_width=64):
        super().__init__()
        self.parts = list(parts)
        self.stem = nn.Sequential(
            nn.Conv2d(1, stem, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(stem, stem, 3, padding=1), nn.GELU(),
        )
        self.patch = nn.Conv2d(stem, width, 4, stride=4)
        self.class_embedding = nn.Parameter(torch.randn(width) * width ** -0.5)
        self.position = nn.Parameter(torch.randn(50, width) * 0.02)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.pixel = nn.Sequential(nn.Conv2d(3, colour_width, 1), nn.GELU(), nn.Conv2d(colour_width, colour_width, 1), nn.GELU())
        self.figure_gain = nn.Parameter(torch.tensor(12.0))
        self.figure_threshold = nn.Parameter(torch.tensor(0.4))
        self.colour = nn.Sequential(nn.Linear(2 * colour_width, 2 * colour_width), nn.GELU(), nn.LayerNorm(2 * colour_width))
        self.colour_proj = nn.Linear(2 * colour_width, parts[0], bias=False)
        self.shape_proj = nn.Linear(width, parts[1], bias=False)
        self.rest_proj = nn.Linear(width + 2 * colour_width, parts[2], bias=False)

    def forward(self, pooled):
        background = border_ring(pooled).mean(2)[:, :, None, None]
        distance = ((pooled - background) ** 2).sum(1, keepdim=True).add(1e-6).sqrt()
        figure_map = distance / (distance.flatten(1).amax(1)[:, None, None, None] + 1e-3)

        x = self.patch(self.stem(figure_map)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.position)
        for block in self.blocks:
            x = block(x)
        shape_features = self.ln_post(x[:, 0])

        small = F.avg_pool2d(pooled, 2)
        figure = torch.sigmoid(self.figure_gain * (F.avg_pool2d(figure_map, 2) - self.figure_threshold))
        ground = 1 - figure
        features = self.pixel(small)
        on_figure = (features * figure).sum((2, 3)) / (figure.sum((2, 3)) + 1e-3)
        on_ground = (features * ground).sum((2, 3)) / (ground.sum((2, 3)) + 1e-3)
        colour_features = self.colour(torch.cat([on_figure, on_ground], dim=1))

        return factorised([self.colour_proj(colour_features), self.shape_proj(shape_features),
                           self.rest_proj(torch.cat([shape_features, colour_features], dim=1))])


class TextEncoder(nn.Module):
    """[B,L] token ids -> [B,embed], pooled at the end token = argmax of the ids (<|endoftext|> is the highest id
    and padding uses it too; argmax returns the first)."""

    def __init__(self, vocab, width, layers, heads, parts, context=77):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.proj = FactorisedProjection(width, parts)
        self.register_buffer("causal", torch.full((context, context), float("-inf")).triu(1), persistent=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def forward(self, ids):
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.position[:n]
        mask = self.causal[:n, :n]
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), ids.argmax(dim=-1)]
        return self.proj(pooled)


class TinyClip(nn.Module):
    def __init__(self, vocab, parts=(48, 48, 32), vision_width=128, vision_layers=4, text_width=128, text_layers=3,
                 heads=4, stem=48, colours=8, shapes=4):
        super().__init__()
        self.parts = list(parts)
        self.hyper = dict(vocab=vocab, embed=sum(parts), parts=list(parts), vision_width=vision_width,
                          vision_layers=vision_layers, text_width=text_width, text_layers=text_layers, heads=heads, stem=stem)
        self.visual = VisionEncoder(vision_width, vision_layers, heads, parts, stem)
        self.text = TextEncoder(vocab, text_width, text_layers, heads, parts)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        # Training aids, not exported: one colour classifier on both towers' colour parts and one shape classifier
        # on their shape parts. Sharing them pushes images and texts into the same layout.
        self.colour_head = nn.Linear(parts[0], colours)
        self.shape_head = nn.Linear(parts[1], shapes)


class VisionExport(nn.Module):
    """The exported vision graph: pixel_values [B,3,224,224] (CLIP-normalised) -> image_embeds (not normalised)."""

    def __init__(self, visual):
        super().__init__()
        self.visual = visual

    def forward(self, pixel_values):
        return self.visual(F.avg_pool2d(pixel_values, 4))


class TextExport(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids):
        return self.text(input_ids)
