"""Trains the tiny CLIP on the rendered shapes world and exports it in the Hugging Face / Xenova ONNX layout.

Run through `npm run model:train` (which renders the data first) with Debian's Python:
    /usr/bin/python3 tools/tiny-clip/train.py --data DIR --out models/tiny-clip --minutes 19

Needs: apt-get install python3-torch python3-onnx python3-numpy libopenblas0-pthread
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import TextExport, TinyClip, VisionExport  # noqa: E402

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
# A caption true of the colour and shape but wrong about count or background still earns some credit: the
# embedding should be organised by colour and shape first.
PARTIAL_CREDIT = 0.25
# Embedding parts: colour, shape, the rest (see model.FactorisedProjection).
PARTS = (48, 48, 32)


def check_normalisation(preprocessor):
    """normalise() must be the served model's: the pixels arrive resized and cropped, Python only normalises them."""
    for name, ours in (("image_mean", MEAN), ("image_std", STD)):
        if not torch.allclose(torch.tensor(preprocessor[name]), ours.flatten()):
            raise SystemExit(f"meta.json's preprocessor {name} {preprocessor[name]} is not train.py's {ours.flatten().tolist()}")


def load_split(data, meta, name):
    k, length, pooled = meta["captionsPerImage"], meta["contextLength"], meta["pooled"]
    pixels = np.fromfile(os.path.join(data, f"{name}.pixels.u8"), dtype=np.uint8).reshape(-1, pooled, pooled, 3)
    n = pixels.shape[0]
    return {
        "pixels": torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous(),  # uint8 NCHW
        "labels": torch.from_numpy(np.fromfile(os.path.join(data, f"{name}.labels.i32"), dtype=np.int32).reshape(n, 4)).long(),
        "tokens": torch.from_numpy(np.fromfile(os.path.join(data, f"{name}.tokens.i32"), dtype=np.int32).reshape(n, k, length)).long(),
        "claims": torch.from_numpy(np.fromfile(os.path.join(data, f"{name}.claims.i32"), dtype=np.int32).reshape(n, k, 2)).long(),
    }


def normalise(pixels_u8):
    return (pixels_u8.float() / 255.0 - MEAN) / STD


def soft_targets(labels, claims):
    """M[i, j]: how true caption j (claims of its own image j) is of image i."""
    colour, shape, count, background = labels.unbind(1)
    count_claim, background_claim = claims.unbind(1)
    same_pair = (colour[:, None] == colour[None, :]) & (shape[:, None] == shape[None, :])
    count_ok = (count_claim[None, :] == count[:, None]) | ((count_claim[None, :] == 0) & (count[:, None] > 1))
    background_ok = (background_claim[None, :] < 0) | (background_claim[None, :] == background[:, None])
    full = same_pair & count_ok & background_ok
    return full.float() + PARTIAL_CREDIT * (same_pair & ~full).float()


def clip_loss(image_embeds, text_embeds, logit_scale, targets):
    image = F.normalize(image_embeds, dim=-1)
    text = F.normalize(text_embeds, dim=-1)
    logits = logit_scale.exp().clamp(max=100) * image @ text.t()
    image_loss = -(F.log_softmax(logits, dim=1) * (targets / targets.sum(1, keepdim=True))).sum(1).mean()
    text_loss = -(F.log_softmax(logits, dim=0) * (targets / targets.sum(0, keepdim=True))).sum(0).mean()
    return (image_loss + text_loss) / 2


def attribute_losses(model, image_embeds, text_embeds, labels):
    """Per-part alignment: the colour parts of images and captions match when the colours match, whatever the
    shapes (and likewise for shapes), plus colour and shape classification of those parts through heads shared by
    both towers. Captions always name their image's colour and shape, so the labels hold for the texts too."""
    c, s = model.parts[0], model.parts[1]
    colour = labels[:, 0]
    shape = labels[:, 1]
    same_colour = (colour[:, None] == colour[None, :]).float()
    same_shape = (shape[:, None] == shape[None, :]).float()
    contrastive = (clip_loss(image_embeds[:, :c], text_embeds[:, :c], model.logit_scale, same_colour)
                   + clip_loss(image_embeds[:, c:c + s], text_embeds[:, c:c + s], model.logit_scale, same_shape))
    classify = 0
    for embeds in (image_embeds, text_embeds):
        classify = classify + F.cross_entropy(model.colour_head(embeds[:, :c] * 10), colour) \
            + F.cross_entropy(model.shape_head(embeds[:, c:c + s] * 10), shape)
    return contrastive / 2 + classify / 4


@torch.no_grad()
def zero_shot(model, split, prompts, meta):
    """Top-1 over the 32 'a photo of a {colour} {shape}.' prompts, split into seen and held-out pairs."""
    model.eval()
    text = F.normalize(model.text(prompts), dim=-1)
    image = torch.cat([F.normalize(model.visual(normalise(split["pixels"][i:i + 256])), dim=-1)
                       for i in range(0, len(split["pixels"]), 256)])
    predicted = (image @ text.t()).argmax(1)
    truth = split["labels"][:, 0] * len(meta["shapes"]) + split["labels"][:, 1]
    held = {(p["colour"], p["shape"]) for p in HELD_OUT}
    is_held = torch.tensor([(meta["colours"][c], meta["shapes"][s]) in held for c, s in split["labels"][:, :2].tolist()])
    correct = predicted == truth
    model.train()
    return correct[~is_held].float().mean().item(), correct[is_held].float().mean().item() if is_held.any() else float("nan")


HELD_OUT = [{"colour": "green", "shape": "triangle"}, {"colour": "purple", "shape": "star"},
            {"colour": "orange", "shape": "square"}, {"colour": "white", "shape": "circle"}]


class ThreadChooser:
    """Re-measures every few hundred steps whether one or two threads train faster. On a machine shared with other
    jobs, OpenMP's two threads keep waiting for each other at every operator and can be twice as slow as one."""

    PROBE = 8
    EVERY = 300

    def __init__(self, most):
        self.most = most
        self.timings = {}
        self.started = None

    def after_step(self, step):
        phase = step % self.EVERY
        if self.most < 2 or phase > 2 * self.PROBE + 2:
            return
        now = time.time()
        if phase in (2, 2 + self.PROBE):
            self.started = now
            torch.set_num_threads(2 if phase == 2 else 1)
        elif phase in (2 + self.PROBE - 1, 2 + 2 * self.PROBE - 1) and self.started is not None:
            self.timings[torch.get_num_threads()] = (now - self.started) / (self.PROBE - 1)
        elif phase == 2 + 2 * self.PROBE:
            best = min(self.timings, key=self.timings.get)
            torch.set_num_threads(best)
            print(f"threads: {best} ({', '.join(f'{k}: {v:.2f}s/step' for k, v in sorted(self.timings.items()))})", flush=True)


def parameter_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embedding" not in name and "position" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def train(args, meta, data, val, prompts):
    torch.manual_seed(args.seed)
    model = TinyClip(meta["vocabSize"], parts=PARTS, vision_width=args.width, vision_layers=args.vision_layers,
                     text_width=args.text_width, text_layers=args.text_layers, heads=args.heads, stem=args.stem)
    print(f"parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M", flush=True)
    # Channels-last makes the stem's convolutions several times faster on CPU; export converts back.
    model.visual.to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(parameter_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    n, k = data["pixels"].shape[0], meta["captionsPerImage"]
    steps_per_epoch = n // args.batch
    total_steps = steps_per_epoch * args.epochs
    budget = args.minutes * 60
    started = time.time()
    step = 0
    generator = torch.Generator().manual_seed(args.seed)
    threads = ThreadChooser(args.threads)
    while True:
        order = torch.randperm(n, generator=generator)
        for b in range(steps_per_epoch):
            # Progress by steps or by wall-clock, whichever is further, so the cosine schedule always completes
            # within the time budget on a busy machine.
            progress = max(step / total_steps, (time.time() - started) / budget)
            if progress >= 1:
                return model, step, time.time() - started
            lr = args.lr * min(1.0, step / args.warmup) * 0.5 * (1 + math.cos(math.pi * progress))
            for group in optimiser.param_groups:
                group["lr"] = lr
            index = order[b * args.batch:(b + 1) * args.batch]
            pixels = data["pixels"][index]
            flip = torch.rand(len(index), generator=generator) < 0.5
            pixels = torch.where(flip[:, None, None, None], pixels.flip(3), pixels).contiguous(memory_format=torch.channels_last)
            pick = torch.randint(0, k, (len(index),), generator=generator)
            tokens = data["tokens"][index, pick]
            claims = data["claims"][index, pick]
            length = int(tokens.argmax(1).max()) + 1  # trim the padding all rows share: same result, less work
            tokens = tokens[:, :length]
            labels = data["labels"][index]
            image_embeds = model.visual(normalise(pixels))
            text_embeds = model.text(tokens)
            loss = clip_loss(image_embeds, text_embeds, model.logit_scale, soft_targets(labels, claims))
            if args.aux > 0:
                loss = loss + args.aux * attribute_losses(model, image_embeds, text_embeds, labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            threads.after_step(step)
            step += 1
            if step % args.log_every == 0:
                seen, held = zero_shot(model, val, prompts, meta)
                elapsed = time.time() - started
                print(f"step {step} {elapsed:.0f}s loss {loss.item():.3f} lr {lr:.2e} scale {model.logit_scale.exp().item():.1f}"
                      f" zero-shot seen {seen:.3f} held-out {held:.3f}", flush=True)


def name_output_size(path, size):
    """The exporter leaves the embedding size symbolic (it comes out of a Concat); state it, as CLIP exports do."""
    graph = onnx.load(path)
    graph.graph.output[0].type.tensor_type.shape.dim[1].dim_value = size
    onnx.checker.check_model(graph)
    onnx.save(graph, path)


def export(model, meta, args, out):
    model.eval()
    model.visual.to(memory_format=torch.contiguous_format)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    vision = VisionExport(model.visual).eval()
    text = TextExport(model.text).eval()
    torch.onnx.export(vision, torch.randn(2, 3, 224, 224), os.path.join(out, "onnx", "vision_model.onnx"),
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}},
                      opset_version=17, do_constant_folding=True)
    ids = torch.full((2, 9), meta["vocabSize"] - 1, dtype=torch.long)
    ids[:, 0] = meta["vocabSize"] - 2
    ids[:, 1:5] = torch.randint(0, meta["vocabSize"] - 2, (2, 4))
    torch.onnx.export(text, ids, os.path.join(out, "onnx", "text_model.onnx"),
                      input_names=["input_ids"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "text_embeds": {0: "batch_size"}},
                      opset_version=17, do_constant_folding=True)
    for name in ("vision_model", "text_model"):
        name_output_size(os.path.join(out, "onnx", f"{name}.onnx"), model.hyper["embed"])
    h = model.hyper
    vocab = meta["vocabSize"]
    logit_scale = float(model.logit_scale.detach())
    config = {
        "_name_or_path": "clip-edge/tiny-clip",
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": h["embed"],
        "logit_scale": logit_scale,
        "logit_scale_init_value": logit_scale,
        "initializer_factor": 1.0,
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
        "text_config": {
            "model_type": "clip_text_model",
            "vocab_size": vocab,
            "hidden_size": h["text_width"],
            "intermediate_size": 4 * h["text_width"],
            "num_hidden_layers": h["text_layers"],
            "num_attention_heads": h["heads"],
            "max_position_embeddings": 77,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": h["embed"],
            "bos_token_id": vocab - 2,
            "eos_token_id": vocab - 1,
            "pad_token_id": vocab - 1,
        },
        "vision_config": {
            "model_type": "clip_vision_model",
            "image_size": 224,
            "patch_size": 32,
            "num_channels": 3,
            "hidden_size": h["vision_width"],
            "intermediate_size": 4 * h["vision_width"],
            "num_hidden_layers": h["vision_layers"],
            "num_attention_heads": h["heads"],
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": h["embed"],
        },
        # Not a Transformers field: how this tiny model differs from a stock ViT-B/32-shaped CLIP.
        "tiny_clip": {
            "input_average_pool": 4,
            "figure_map": "per-pixel distance from the mean colour of the 2-px border frame, scaled to [0, 1]",
            "stem": "on the figure map: conv3x3 s2, conv3x3 (GELU), then 4x4 patches of the 28x28 map (8-px patches of the 56x56 image)",
            "colour_branch": "per-pixel 1x1-conv features at 28x28, averaged over figure and ground, MLP",
            "tokens": 50,
            "embedding_parts": {"colour": h["parts"][0], "shape": h["parts"][1], "rest": h["parts"][2], "rest_weight": 0.5},
            "text_pooling": "argmax of input_ids (<|endoftext|> is the highest id; pad with it)",
        },
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    # The config the dataset's pixels were made with, by the serving pipeline itself (tools/tiny-clip/dataset/
    # sample.ts): the exported folder is served exactly as it was trained.
    preprocessor = meta["preprocessor"]
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(preprocessor, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="models/tiny-clip")
    parser.add_argument("--minutes", type=float, default=19.0, help="wall-clock budget for the training loop")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--vision-layers", type=int, default=3)
    parser.add_argument("--text-width", type=int, default=128)
    parser.add_argument("--text-layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--stem", type=int, default=32)
    parser.add_argument("--aux", type=float, default=1.0, help="weight of the per-attribute losses")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    check_normalisation(meta["preprocessor"])
    data = load_split(args.data, meta, "train")
    val = load_split(args.data, meta, "val")
    prompts = torch.from_numpy(np.fromfile(os.path.join(args.data, "prompts.tokens.i32"), dtype=np.int32)
                               .reshape(-1, meta["contextLength"])).long()
    print(f"train {data['pixels'].shape[0]} images, val {val['pixels'].shape[0]}", flush=True)
    model, steps, seconds = train(args, meta, data, val, prompts)
    seen, held = zero_shot(model, val, prompts, meta)
    print(f"done: {steps} steps in {seconds:.0f}s; zero-shot on val: seen {seen:.3f}, held-out {held:.3f}", flush=True)
    export(model, meta, args, args.out)
    report = {"steps": steps, "train_seconds": round(seconds), "train_images": int(data["pixels"].shape[0]),
              "val_zero_shot_seen": seen, "val_zero_shot_held_out": held, "args": vars(args)}
    with open(os.path.join(args.data, "train-report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
