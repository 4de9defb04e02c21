"""Build tiny, random-weight, fully offline checkpoints for the test-suite.

Every builder trains a *real* tokenizer (WordPiece, byte-level BPE or
SentencePiece) on the small English corpus below, creates a tiny model whose
``vocab_size`` equals ``len(tokenizer)``, seeds the weights with
``torch.manual_seed`` and writes model + tokenizer with ``save_pretrained``.
The resulting folders load with ``AutoTokenizer.from_pretrained(folder)`` and
the matching ``AutoModel*`` class with ``attn_implementation="eager"``
without any network access.

Usage::

    python -m tests.tiny_models OUTDIR
"""

from __future__ import annotations

import io
import json
import logging
import string
import sys
import tempfile
import warnings
from pathlib import Path

import sentencepiece as spm
import torch
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import (
    BartConfig,
    BartForSequenceClassification,
    BartTokenizer,
    BertConfig,
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
    MarianTokenizer,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging

__all__ = [
    "CORPUS",
    "COURSE_SENTENCES",
    "TARGET_CORPUS",
    "build_all",
    "build_attention",
    "build_generation",
    "build_sentiment",
    "build_translation",
    "build_zero_shot",
]

logger = logging.getLogger(__name__)

COURSE_SENTENCES: list[str] = [
    "I'm so hungry man.",
    "I love food so much.",
    "History isn't really a fun class",
    "So today, I just feel like",
    "You like this house",
    "I am a student",
    "The animal didn't cross the street because it was too tired",
    "She is eating a green apple",
    "She bought the apple from the local market.",
]

EVERYDAY_SENTENCES: list[str] = [
    "The weather is nice today, so we are going to the park.",
    "I need to buy some milk and bread at the store.",
    "My brother plays football every Saturday morning.",
    "Can you help me with my homework tonight?",
    "We had a great dinner with our friends last night.",
    "The train was late again this morning.",
    "She reads a book before going to sleep.",
    "This movie is boring and far too long.",
    "I really enjoyed the concert, the music was amazing!",
    "The coffee at this cafe is terrible.",
    "He forgot his keys at home and could not open the door.",
    "Our teacher gave us a difficult test in math class.",
    "The children are playing in the garden with the dog.",
    "I hate waiting in long lines at the bank.",
    "What time does the shop close on Sunday?",
    "They are planning a trip to the mountains next summer.",
    "My phone battery died in the middle of the call.",
    "The soup was cold and the service was slow.",
    "It is raining, so don't forget your umbrella.",
    "We watched the sunset from the top of the hill.",
    "The cat is sleeping on the warm chair by the window.",
    "This restaurant has the best pizza in town.",
    "I am happy because I passed my driving test.",
    "The new computer works very fast and never crashes.",
    "Please close the window, it's cold in here.",
    "My mother makes delicious cakes for every birthday.",
    "He was angry that the bus never came.",
    "The students listen to the teacher in the classroom.",
    "I would like a cup of tea with some sugar, please.",
    "The city is beautiful at night with all the lights.",
    "This is the worst day of my life.",
    "Thank you so much for your kind help!",
    "The doctor told him to drink more water.",
    "We walked to school together when we were young.",
    "Is this seat free, or is someone sitting here?",
    "The quick brown fox jumps over the lazy dog.",
]

CORPUS: list[str] = COURSE_SENTENCES + EVERYDAY_SENTENCES

# Small target-side corpus for Marian (French and German; the content does not
# need to align with the source: the weights are random anyway).
TARGET_CORPUS: list[str] = [
    "J'ai tellement faim.",
    "J'aime tellement la nourriture.",
    "L'histoire n'est pas vraiment un cours amusant.",
    "Alors aujourd'hui, j'ai juste envie de",
    "Tu aimes cette maison.",
    "Je suis un étudiant.",
    "L'animal n'a pas traversé la rue parce qu'il était trop fatigué.",
    "Elle mange une pomme verte.",
    "Elle a acheté la pomme au marché local.",
    "Il fait beau aujourd'hui, alors nous allons au parc.",
    "Je dois acheter du lait et du pain au magasin.",
    "Le train était encore en retard ce matin.",
    "Le chat dort sur la chaise près de la fenêtre.",
    "Merci beaucoup pour votre aide!",
    "Ce restaurant a la meilleure pizza de la ville.",
    "Les enfants jouent dans le jardin avec le chien.",
    "Ich habe so einen Hunger.",
    "Ich liebe Essen so sehr.",
    "Geschichte ist nicht wirklich ein lustiges Fach.",
    "Also heute fühle ich mich einfach wie",
    "Du magst dieses Haus.",
    "Ich bin ein Student.",
    "Das Tier überquerte die Straße nicht, weil es zu müde war.",
    "Sie isst einen grünen Apfel.",
    "Sie hat den Apfel auf dem lokalen Markt gekauft.",
    "Das Wetter ist heute schön, also gehen wir in den Park.",
    "Ich muss Milch und Brot im Laden kaufen.",
    "Der Zug war heute Morgen wieder zu spät.",
    "Die Katze schläft auf dem warmen Stuhl am Fenster.",
    "Vielen Dank für deine Hilfe!",
    "Dieses Restaurant hat die beste Pizza der Stadt.",
    "Die Kinder spielen mit dem Hund im Garten.",
]

_BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Characters every tokenizer must know, so unseen English words split into pieces
# instead of becoming unknown tokens.
_ASCII_CHARS = string.ascii_letters + string.digits + string.punctuation


# --------------------------------------------------------------------------
# tokenizer helpers
# --------------------------------------------------------------------------
def _train_wordpiece_vocab(vocab_size: int = 400) -> dict[str, int]:
    """Train an uncased WordPiece vocab on CORPUS ([PAD]=0 ... [MASK]=4).

    The WordPieceTrainer numbers the "##x" continuation characters in hash-map
    order, which changes from process to process, and merge ties are then broken
    differently: the learned vocab is not reproducible. Registering the sorted
    alphabet and its "##" forms up front makes training deterministic (only the
    vocab is kept; these entries are ordinary WordPiece pieces, not special tokens).
    """
    chars = sorted({c for line in CORPUS for c in line.lower() if not c.isspace()} | set(_ASCII_CHARS.lower()))
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=_BERT_SPECIALS + [f"##{c}" for c in chars],
        initial_alphabet=chars,
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok.get_vocab()


def _train_byte_bpe(special_tokens: list[str], vocab_size: int = 500) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE on CORPUS; returns GPT-2/RoBERTa style (vocab, merges)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    model_json = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_json["merges"]]
    return dict(model_json["vocab"]), merges


def _train_spm(sentences: list[str], vocab_size: int) -> bytes:
    """Train a tiny unigram SentencePiece model in memory; returns the model proto."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        required_chars=_ASCII_CHARS,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return buf.getvalue()


def _spm_pieces(proto: bytes) -> list[str]:
    sp = spm.SentencePieceProcessor(model_proto=proto)
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


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
    tokenizer = DistilBertTokenizer(vocab=_train_wordpiece_vocab(), do_lower_case=True, model_max_length=64)
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
    vocab, merges = _train_byte_bpe(specials)
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
    vocab, merges = _train_byte_bpe(specials)
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
    src_proto = _train_spm(CORPUS, vocab_size=200)
    tgt_proto = _train_spm(TARGET_CORPUS, vocab_size=200)

    # Shared vocab like opus-mt: "</s>"=0, "<unk>"=1, pieces..., "<pad>" last.
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in _spm_pieces(src_proto) + _spm_pieces(tgt_proto):
        if piece in ("<unk>", "<s>", "</s>", "<pad>"):
            continue
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        (tmp_dir / "source.spm").write_bytes(src_proto)
        (tmp_dir / "target.spm").write_bytes(tgt_proto)
        (tmp_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses.*")
            tokenizer = MarianTokenizer(
                source_spm=str(tmp_dir / "source.spm"),
                target_spm=str(tmp_dir / "target.spm"),
                vocab=str(tmp_dir / "vocab.json"),
                source_lang="en",
                model_max_length=128,
            )
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


def build_attention(folder: str | Path) -> Path:
    """Tiny BertModel + uncased WordPiece tokenizer (pairs -> token_type_ids)."""
    tokenizer = BertTokenizer(vocab=_train_wordpiece_vocab(), do_lower_case=True, model_max_length=64)
    torch.manual_seed(3)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertModel(config, add_pooling_layer=True)
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
