"""Convert a CTranslate2 Whisper model into a transformers-format Whisper directory.

The transcription benchmark compares faster-whisper with the Hugging Face ``transformers``
pipeline; to compare them on identical weights, this rebuilds a transformers checkout from the
CTranslate2 model the benchmark already uses (no model hub needed):

    python bench/ct2_to_hf.py ~/.local/share/vocable/models/base /tmp/whisper-base-hf

``model.bin`` is read directly (the format of ctranslate2's ``ModelSpec._serialize``, binary
version 6): a uint32 version, the spec name, a uint32 revision, then each variable as name, rank,
dims, dtype id, byte count and raw data, then the aliases. The names are those
``ctranslate2.converters.transformers.WhisperLoader`` writes, mapped back here: the fused q/k/v
projections are split again (CTranslate2 stores zeros for the absent k bias), int8 weights are
multiplied back by their ``weight_scale``, and everything is stored as float32. float16 weights
widen exactly, so the transformers model computes with the same numbers as the CTranslate2 one.

The tokenizer, processor and generation config come from the CTranslate2 directory's
``tokenizer.json`` and ``config.json`` (suppressed tokens, language ids, alignment heads).

Checked on jfk.wav with the same log-mel input: the logits of both models agree to ~1e-4 (float32
kernels) and beam search gives the same tokens. The frameworks' inputs are not identical, though:
transformers computes the log-mel of the audio zero-padded to 30 s, faster-whisper zero-pads the
log-mel itself, so the padded frames of a short window differ.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

# Type ids of ctranslate2.specs.model_spec._dtype_to_type_id.
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
SPEC_NAME = "WhisperSpec"
SPECIAL_NOT_LANGUAGE = {  # special tokens of the multilingual tokenizer that are not languages
    "<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
    "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>",
}


# -- model.bin ------------------------------------------------------------------------------------
def read_ct2(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The variables of a CTranslate2 model.bin by name, and its aliases (alias -> variable)."""
    data = path.read_bytes()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string() -> str:
        nonlocal pos
        length = take("H")  # includes the trailing NUL
        text = data[pos:pos + length - 1].decode("utf-8")
        pos += length
        return text

    version = take("I")
    if version != 6:
        raise ValueError(f"{path}: binary version {version}, this reader knows version 6")
    name, revision = string(), take("I")
    if name != SPEC_NAME:
        raise ValueError(f"{path}: spec {name!r} (revision {revision}), expected {SPEC_NAME}")
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        var = string()
        rank = take("B")
        shape = tuple(take("I") for _ in range(rank))
        dtype, size = DTYPES[take("B")], take("I")
        raw = data[pos:pos + size]
        pos += size
        if dtype == "bfloat16":  # numpy has none: the upper half of a float32
            array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            array = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<"))
        variables[var] = array.reshape(shape)
    aliases = {}
    for _ in range(take("I")):
        alias = string()
        aliases[alias] = string()
    return variables, aliases


def _float(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A weight as float32, dequantized when CTranslate2 stored it as int8/int16 with a scale."""
    value = variables[name]
    scale = variables.get(name + "_scale")
    if scale is not None:  # quantized rows: value = round(weight * scale), one scale per row
        rows = value.reshape(value.shape[0], -1).astype(np.float32) / scale.reshape(-1, 1)
        return rows.reshape(value.shape)
    return value.astype(np.float32)


# -- name mapping (the inverse of WhisperLoader) --------------------------------------------------
def state_dict(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """transformers WhisperForConditionalGeneration tensors from CTranslate2 WhisperSpec ones."""
    out: dict[str, np.ndarray] = {}

    def linear(hf: str, ct2: str) -> None:
        out[f"{hf}.weight"] = _float(variables, f"{ct2}/weight")
        out[f"{hf}.bias"] = _float(variables, f"{ct2}/bias")

    def norm(hf: str, ct2: str) -> None:
        out[f"{hf}.weight"] = _float(variables, f"{ct2}/gamma")
        out[f"{hf}.bias"] = _float(variables, f"{ct2}/beta")

    def split(hf: str, ct2: str, parts: list[str]) -> None:
        """A fused projection -> its q/k/v parts; k_proj has no bias in Whisper."""
        weights = np.split(_float(variables, f"{ct2}/weight"), len(parts))
        biases = np.split(_float(variables, f"{ct2}/bias"), len(parts))
        for part, weight, bias in zip(parts, weights, biases, strict=True):
            out[f"{hf}.{part}.weight"] = weight
            if part == "k_proj":
                if np.any(bias):
                    raise ValueError(f"{ct2}: non-zero k bias, which transformers' Whisper lacks")
            else:
                out[f"{hf}.{part}.bias"] = bias

    def attention(hf: str, ct2: str, cross: bool) -> None:
        if cross:  # linear_0 = q, linear_1 = k|v (from the encoder output), linear_2 = out
            split(hf, f"{ct2}/linear_0", ["q_proj"])
            split(hf, f"{ct2}/linear_1", ["k_proj", "v_proj"])
            linear(f"{hf}.out_proj", f"{ct2}/linear_2")
        else:  # linear_0 = q|k|v, linear_1 = out
            split(hf, f"{ct2}/linear_0", ["q_proj", "k_proj", "v_proj"])
            linear(f"{hf}.out_proj", f"{ct2}/linear_1")
        norm(hf + "_layer_norm", f"{ct2}/layer_norm")  # self_attn_layer_norm, encoder_attn_layer_norm

    def layer(hf: str, ct2: str, cross: bool) -> None:
        attention(f"{hf}.self_attn", f"{ct2}/self_attention", cross=False)
        if cross:
            attention(f"{hf}.encoder_attn", f"{ct2}/attention", cross=True)
        linear(f"{hf}.fc1", f"{ct2}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{ct2}/ffn/linear_1")
        norm(f"{hf}.final_layer_norm", f"{ct2}/ffn/layer_norm")

    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    out["model.encoder.embed_positions.weight"] = _float(variables, "encoder/position_encodings/encodings")
    for i in range(num_layers(variables, "encoder")):
        layer(f"model.encoder.layers.{i}", f"encoder/layer_{i}", cross=False)
    norm("model.encoder.layer_norm", "encoder/layer_norm")

    out["model.decoder.embed_tokens.weight"] = _float(variables, "decoder/embeddings/weight")
    out["model.decoder.embed_positions.weight"] = _float(variables, "decoder/position_encodings/encodings")
    for i in range(num_layers(variables, "decoder")):
        layer(f"model.decoder.layers.{i}", f"decoder/layer_{i}", cross=True)
    norm("model.decoder.layer_norm", "decoder/layer_norm")
    # proj_out is tied to embed_tokens (CTranslate2 aliases decoder/projection/weight likewise).
    return out


def num_layers(variables: dict[str, np.ndarray], side: str) -> int:
    """Number of layer_<i> scopes ("layer_norm" is not one)."""
    return len({m[1] for name in variables if (m := re.match(rf"{side}/layer_(\d+)/", name))})


def whisper_config(variables: dict[str, np.ndarray], ct2_config: dict, special: dict[str, int]):
    from transformers import WhisperConfig

    vocab_size, d_model = variables["decoder/embeddings/weight"].shape
    if variables.get("decoder/scale_embeddings", 0) or not variables.get("decoder/pre_norm", 1):
        raise ValueError("not a Whisper decoder: scaled embeddings or post-norm")
    eot = special["<|endoftext|>"]
    return WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=num_layers(variables, "encoder"),
        decoder_layers=num_layers(variables, "decoder"),
        encoder_attention_heads=int(variables["encoder/num_heads"]),
        decoder_attention_heads=int(variables["decoder/num_heads"]),
        encoder_ffn_dim=variables["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=variables["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=variables["decoder/position_encodings/encodings"].shape[0],
        activation_function="gelu",
        scale_embedding=False,
        tie_word_embeddings=True,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=special["<|startoftranscript|>"],
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
    )


# -- tokenizer, processor, generation config ------------------------------------------------------
def special_tokens(tokenizer_json: dict) -> dict[str, int]:
    """The special tokens of tokenizer.json, in id order (<|endoftext|> ... <|notimestamps|>)."""
    tokens = sorted((t["id"], t["content"]) for t in tokenizer_json["added_tokens"] if t["special"])
    return {content: i for i, content in tokens}


def tokenizer(src: Path, special: dict[str, int], vocab_size: int):
    from tokenizers import AddedToken
    from transformers import WhisperTokenizerFast

    eot = "<|endoftext|>"
    tok = WhisperTokenizerFast(
        tokenizer_file=str(src / "tokenizer.json"),
        unk_token=eot, bos_token=eot, eos_token=eot, pad_token=eot,
        additional_special_tokens=[t for t in special if t != eot],
    )
    # Timestamp tokens <|0.00|> ... <|30.00|> fill the rest of the vocabulary, after
    # <|notimestamps|>. As in the hub's tokenizers they are added but not special: transformers
    # finds them as ids above the last special token.
    first = special["<|notimestamps|>"] + 1
    if len(tok) == first:
        tok.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", special=False, normalized=False)
                        for i in range(vocab_size - first)])
    if len(tok) != vocab_size or tok.convert_ids_to_tokens(vocab_size - 1) != "<|30.00|>":
        raise ValueError(f"tokenizer has {len(tok)} tokens, the model {vocab_size}")
    return tok


def generation_config(config, ct2_config: dict, special: dict[str, int]):
    from transformers import GenerationConfig

    by_id = {i: token for token, i in special.items()}
    lang_to_id = {by_id[i]: i for i in ct2_config.get("lang_ids", [])}
    if set(lang_to_id) & SPECIAL_NOT_LANGUAGE:
        raise ValueError("config.json lang_ids include non-language tokens")
    eot = special["<|endoftext|>"]
    return GenerationConfig(
        decoder_start_token_id=special["<|startoftranscript|>"],
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=config.max_target_positions,
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        alignment_heads=[list(h) for h in ct2_config.get("alignment_heads", [])],
        is_multilingual=bool(lang_to_id),
        lang_to_id=lang_to_id,
        task_to_id={"transcribe": special["<|transcribe|>"], "translate": special["<|translate|>"]},
        no_timestamps_token_id=special["<|notimestamps|>"],
        prev_sot_token_id=special["<|startofprev|>"],
        max_initial_timestamp_index=50,  # 1.0 s, as faster-whisper and openai-whisper
        return_timestamps=False,
    )


# -- the conversion -------------------------------------------------------------------------------
def convert(src: Path, out: Path) -> Path:
    """Write a transformers Whisper model (weights, tokenizer, processor, generation config) of
    the CTranslate2 Whisper model in ``src`` to ``out``; return ``out``."""
    import torch
    from transformers import (
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    src, out = Path(src), Path(out)
    variables, aliases = read_ct2(src / "model.bin")
    if aliases.get("decoder/projection/weight", "decoder/embeddings/weight") != "decoder/embeddings/weight" \
            or "decoder/projection/weight" in variables:
        raise ValueError("the output projection is not tied to the token embeddings")
    ct2_config = json.loads((src / "config.json").read_text())
    special = special_tokens(json.loads((src / "tokenizer.json").read_text()))

    config = whisper_config(variables, ct2_config, special)
    with torch.device("meta"):  # no random init: every tensor comes from the file
        model = WhisperForConditionalGeneration(config)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict(variables).items()}
    result = model.load_state_dict(tensors, strict=False, assign=True)
    missing = [k for k in result.missing_keys if k != "proj_out.weight"]
    if missing or result.unexpected_keys:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {result.unexpected_keys}")
    model.tie_weights()
    if model.proj_out.weight.data_ptr() != model.model.decoder.embed_tokens.weight.data_ptr():
        raise ValueError("proj_out is not tied to model.decoder.embed_tokens")
    model.generation_config = generation_config(config, ct2_config, special)
    model.eval()

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor = WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=config.num_mel_bins),
        tokenizer=tokenizer(src, special, config.vocab_size),
    )
    processor.save_pretrained(out)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src", type=Path, help="CTranslate2 Whisper directory (model.bin, config.json, tokenizer.json)")
    p.add_argument("out", type=Path, help="output directory, created if missing")
    args = p.parse_args()
    print(convert(args.src, args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
