"""Tokenizers trained offline, deterministically: the small corpus and the WordPiece, byte-level BPE
and SentencePiece training behind the tests' tiny checkpoints and the bench's stand-in Marian.

The same sentences and parameters give the same vocabulary in every process, so the tests'
expectations (token ids, splits) hold from build to build.
"""

from __future__ import annotations

import io
import json
import string
import tempfile
import warnings
from pathlib import Path

import sentencepiece as spm
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import MarianTokenizer

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

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SENTENCEPIECE_SPECIALS = ("<unk>", "<s>", "</s>", "<pad>")

# Characters every tokenizer must know, so unseen English words split into pieces
# instead of becoming unknown tokens.
ASCII_CHARS = string.ascii_letters + string.digits + string.punctuation


def train_wordpiece_vocab(vocab_size: int = 400) -> dict[str, int]:
    """Train an uncased WordPiece vocab on CORPUS ([PAD]=0 ... [MASK]=4).

    The WordPieceTrainer numbers the "##x" continuation characters in hash-map
    order, which changes from process to process, and merge ties are then broken
    differently: the learned vocab is not reproducible. Registering the sorted
    alphabet and its "##" forms up front makes training deterministic (only the
    vocab is kept; these entries are ordinary WordPiece pieces, not special tokens).
    """
    chars = sorted({c for line in CORPUS for c in line.lower() if not c.isspace()} | set(ASCII_CHARS.lower()))
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=BERT_SPECIALS + [f"##{c}" for c in chars],
        initial_alphabet=chars,
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok.get_vocab()


def bpe_parts(tok: Tokenizer) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The (vocab, merges) of a BPE `tokenizers.Tokenizer`, as the slow GPT-2/RoBERTa/BART classes take them."""
    model_json = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model_json["merges"]]
    return dict(model_json["vocab"]), merges


def train_byte_bpe(special_tokens: list[str], vocab_size: int = 500) -> tuple[dict[str, int], list[tuple[str, str]]]:
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
    return bpe_parts(tok)


def train_sentencepiece(
    sentences: list[str] | tuple[str, ...],
    vocab_size: int,
    *,
    model_type: str = "unigram",
    required_chars: str = ASCII_CHARS,
) -> bytes:
    """Train a SentencePiece model in memory (<unk>=0, <s>=1, </s>=2, no <pad>); returns the model proto.

    `vocab_size` is an upper bound (hard_vocab_limit off): a small corpus yields what it has.
    """
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        # Left out when empty: the proto records a set field, so the saved model's bytes would change.
        **({"required_chars": required_chars} if required_chars else {}),
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return buf.getvalue()


def sentencepiece_pieces(proto: bytes) -> list[str]:
    sp = spm.SentencePieceProcessor(model_proto=proto)
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def marian_vocab(source: bytes, target: bytes, *, size: int | None = None) -> dict[str, int]:
    """A shared vocab laid out like opus-mt's: "</s>"=0, "<unk>"=1, the pieces of both models, "<pad>" last.

    With `size`, unused fillers pad it to `size` ids, so a decoder of that vocab size writes only
    ids that decode.
    """
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in sentencepiece_pieces(source) + sentencepiece_pieces(target):
        if piece not in SENTENCEPIECE_SPECIALS:
            vocab.setdefault(piece, len(vocab))
    for filler in range(len(vocab), (size or 0) - 1):
        vocab[f"<unused{filler}>"] = filler
    vocab["<pad>"] = len(vocab)
    return vocab


def marian_tokenizer(source: bytes, target: bytes, vocab: dict[str, int], **options) -> MarianTokenizer:
    """A real MarianTokenizer over two SentencePiece protos and their shared vocab; `options` go to it."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "source.spm").write_bytes(source)
        (folder / "target.spm").write_bytes(target)
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses.*")
            return MarianTokenizer(
                source_spm=str(folder / "source.spm"),
                target_spm=str(folder / "target.spm"),
                vocab=str(folder / "vocab.json"),
                **options,
            )
