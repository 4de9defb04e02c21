"""Build tiny, random-weight, fully offline checkpoints for the test-suite.

Every builder trains a *real* tokenizer (WordPiece, byte-level BPE or
SentencePiece) on the small corpus of testkit/tokenizers.py, creates a tiny model whose
``vocab_size`` equals ``len(tokenizer)``, seeds the weights with
``torch.manual_seed`` and writes model + tokenizer with ``save_pretrained``.
The resulting folders load with ``AutoTokenizer.from_pretrained(folder)`` and
the matching ``AutoModel*`` class with ``attn_implementation="eager"``
without any network access.

Usage::

    python -m tests.tiny_models OUTDIR
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    pre_tokenizers,
    processors,
)
from transformers import (
    BartConfig,
    BartForSequenceClassification,
    BartTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertModel,
    BertTokenizer,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    DistilBertTokenizer,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    MarianConfig,
    MarianMTModel,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging

from testkit.tokenizers import (
    CORPUS,
    TARGET_CORPUS,
    marian_tokenizer,
    marian_vocab,
    train_byte_bpe,
    train_sentencepiece,
    train_wordpiece_vocab,
)

__all__ = [
    "build_all",
    "build_attention",
    "build_fill_mask",
    "build_generation",
    "build_sentiment",
    "build_translation",
    "build_zero_shot",
]

logger = logging.getLogger(__name__)


def _finish(folder: str | Path, model: torch.nn.Module, tokenizer) -> Path:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    # No "Writing model shards" progress bar for these one-file checkpoints.
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model.save_pretrained(out)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    tokenizer.save_pretrained(out)
    return out


# --------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------
def build_sentiment(folder: str | Path) -> Path:
    """DistilBertForSequenceClassification (NEGATIVE/POSITIVE) + uncased WordPiece."""
    tokenizer = DistilBertTokenizer(vocab=train_wordpiece_vocab(), do_lower_case=True, model_max_length=64)
    torch.manual_seed(0)
    config = DistilBertConfig(
        vocab_size=len(tokenizer),
        dim=32,
        hidden_dim=64,
        n_layers=2,
        n_heads=4,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    model = DistilBertForSequenceClassification(config)
    return _finish(folder, model, tokenizer)


def build_zero_shot(folder: str | Path) -> Path:
    """BartForSequenceClassification for NLI + byte-level BPE (BART/RoBERTa style)."""
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab, merges = train_byte_bpe(specials)
    tokenizer = BartTokenizer(vocab=vocab, merges=merges, model_max_length=128)
    torch.manual_seed(1)
    id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BartForSequenceClassification(config)
    return _finish(folder, model, tokenizer)


def build_generation(folder: str | Path) -> Path:
    """Tiny LlamaForCausalLM + byte-level BPE tokenizer (prepends <s>, eos is </s>)."""
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    vocab, merges = train_byte_bpe(specials)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A",
        pair="<s> $A <s> $B:1",
        special_tokens=[("<s>", vocab["<s>"])],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=256,
        clean_up_tokenization_spaces=False,
    )
    torch.manual_seed(2)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=20,
    )
    return _finish(folder, model, tokenizer)


def build_translation(folder: str | Path, seed: int = 0) -> Path:
    """Tiny MarianMTModel + real MarianTokenizer (source.spm/target.spm/vocab.json)."""
    src_proto = train_sentencepiece(CORPUS, vocab_size=200)
    tgt_proto = train_sentencepiece(TARGET_CORPUS, vocab_size=200)
    vocab = marian_vocab(src_proto, tgt_proto)
    tokenizer = marian_tokenizer(src_proto, tgt_proto, vocab, source_lang="en", model_max_length=128)
    pad_id = vocab["<pad>"]
    eos_id = vocab["</s>"]
    torch.manual_seed(100 + seed)
    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        # Sinusoidal positions (no weights to speak of); as long as opus-mt's so
        # generate(max_new_tokens=256) + a teacher-forced pass stay in range.
        max_position_embeddings=512,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        decoder_start_token_id=pad_id,
        forced_eos_token_id=eos_id,
        share_encoder_decoder_embeddings=True,
        scale_embedding=True,
    )
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=pad_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        forced_eos_token_id=eos_id,
        bad_words_ids=[[pad_id]],
        max_length=32,
        num_beams=2,
        do_sample=False,
    )
    return _finish(folder, model, tokenizer)


def _tiny_bert_config(tokenizer: BertTokenizer) -> BertConfig:
    """Two layers of four heads over `tokenizer`'s vocabulary (pairs -> token_type_ids)."""
    return BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_attention(folder: str | Path) -> Path:
    """Tiny BertModel + uncased WordPiece tokenizer (pairs -> token_type_ids)."""
    tokenizer = BertTokenizer(vocab=train_wordpiece_vocab(), do_lower_case=True, model_max_length=64)
    torch.manual_seed(3)
    config = _tiny_bert_config(tokenizer)
    model = BertModel(config, add_pooling_layer=True)
    return _finish(folder, model, tokenizer)


def build_fill_mask(folder: str | Path) -> Path:
    """Tiny BertForMaskedLM (its own MLM head, tied to the embeddings) + uncased WordPiece with [MASK]."""
    tokenizer = BertTokenizer(vocab=train_wordpiece_vocab(), do_lower_case=True, model_max_length=64)
    torch.manual_seed(4)
    config = _tiny_bert_config(tokenizer)
    model = BertForMaskedLM(config)
    # Random weights spread the mask's probability almost evenly; a sharper head gives the fills distinct
    # scores, so an order that differs from the pipeline's could not hide among near-ties.
    with torch.no_grad():
        model.cls.predictions.transform.LayerNorm.weight.mul_(10.0)
    return _finish(folder, model, tokenizer)


def build_all(root: str | Path) -> dict[str, Path]:
    """Build every tiny checkpoint under ``root``; returns {name: folder}."""
    root = Path(root)
    return {
        "sentiment": build_sentiment(root / "sentiment"),
        "zero_shot": build_zero_shot(root / "zero_shot"),
        "generation": build_generation(root / "generation"),
        "translation_fr": build_translation(root / "translation_fr", seed=0),
        "translation_de": build_translation(root / "translation_de", seed=1),
        "attention": build_attention(root / "attention"),
        "fill_mask": build_fill_mask(root / "fill_mask"),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.tiny_models OUTDIR\n")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name, path in build_all(argv[0]).items():
        logger.info("%s: %s", name, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
