"""Fixed English inputs: the same sentences in every run, so runs compare.

`SENTENCES` (100 short reviews and everyday lines) is the agreement set of the fast modes and
the text the stand-in tokenizers are trained on; `text_of_tokens` builds inputs of a given length.
"""

from __future__ import annotations

from typing import Any

SENTENCES: tuple[str, ...] = (
    "I love food so much.",
    "I'm so hungry man.",
    "History isn't really a fun class.",
    "The animal didn't cross the street because it was too tired.",
    "This movie was a delight from start to finish.",
    "The service was slow and the waiter was rude.",
    "What a wonderful surprise to see you here!",
    "The battery dies after two hours, which is useless.",
    "Our hotel room had a beautiful view of the sea.",
    "I waited forty minutes and nobody answered the phone.",
    "The new update made the app faster and easier to use.",
    "The soup was cold and far too salty.",
    "She sings like an angel and the crowd loved her.",
    "This is the worst pizza I have ever eaten.",
    "The kids had a great time at the science museum.",
    "My package arrived broken and the box was soaked.",
    "The garden looks lovely now that the roses are in bloom.",
    "I regret buying these shoes; they hurt my feet.",
    "The lecture was clear, funny and full of good examples.",
    "The train was cancelled again without any warning.",
    "We finally finished the puzzle after three long evenings.",
    "The instructions were confusing and half of the parts were missing.",
    "His speech at the wedding made everyone laugh.",
    "The printer jams every time I try to use it.",
    "This little cafe makes the best croissants in town.",
    "The movie dragged on for three hours with no real plot.",
    "Thank you so much for your kind help yesterday.",
    "The noise from the street kept me awake all night.",
    "Our team won the match in the last minute!",
    "The customer support agent hung up on me.",
    "The mountain trail was steep but the view was worth it.",
    "I can't believe how expensive this tiny apartment is.",
    "The chocolate cake was rich, moist and perfect.",
    "The software crashed and I lost an hour of work.",
    "My grandmother tells the best stories about her childhood.",
    "The flight was delayed and we missed our connection.",
    "This book changed the way I think about cities.",
    "The paint started peeling after only one week.",
    "The concert was loud, bright and absolutely brilliant.",
    "The meeting could have been an email.",
    "Fresh bread from the bakery is a small daily joy.",
    "The hotel bathroom was dirty and smelled of smoke.",
    "I finally understand how attention works in transformers.",
    "The laptop overheats whenever I open more than two tabs.",
    "The puppy learned to sit in just two days.",
    "Nobody told us the museum was closed on Mondays.",
    "The sunset over the lake was breathtaking.",
    "The sequel is a lazy copy of the first film.",
    "Her new novel is gripping and beautifully written.",
    "The traffic this morning was a nightmare.",
    "The teacher explained fractions with slices of pizza.",
    "My phone screen cracked the first time I dropped it.",
    "We shared a picnic under the old oak tree.",
    "The refund never arrived, even after five emails.",
    "The new library is bright, quiet and full of plants.",
    "The bus driver ignored us and drove past the stop.",
    "This recipe is simple and the result is delicious.",
    "The headphones broke after a month of light use.",
    "I am proud of how much my students have learned.",
    "The restaurant forgot our order and charged us twice.",
    "The festival brought the whole town together.",
    "The jacket looked nothing like the photos online.",
    "Learning to swim as an adult was the best decision I made.",
    "The heating has been broken since November.",
    "The comedian was hilarious and the tickets were cheap.",
    "The game is full of bugs and the story makes no sense.",
    "We planted tomatoes and they grew faster than expected.",
    "The landlord refuses to fix the leaking roof.",
    "The museum guide knew every detail of the paintings.",
    "My coffee was lukewarm and tasted burnt.",
    "The children built a huge castle out of sand.",
    "The website keeps logging me out for no reason.",
    "The orchestra played with great energy and precision.",
    "I lost my keys and had to wait outside in the rain.",
    "This tea tastes of honey and fresh mint.",
    "The class was cancelled and nobody told the students.",
    "Our neighbours brought us soup when we were ill.",
    "The mattress is so hard that my back aches every morning.",
    "The documentary was moving and beautifully filmed.",
    "The parking fees at the hospital are outrageous.",
    "The kitten fell asleep on my keyboard again.",
    "The exam questions had nothing to do with the course.",
    "I enjoyed every minute of the cooking workshop.",
    "The shop assistant was impatient and unhelpful.",
    "The bike ride along the river was calm and pleasant.",
    "The air conditioning in the office never works.",
    "She gave me a thoughtful gift for my birthday.",
    "The play was boring and the actors forgot their lines.",
    "The new bridge cut my commute in half.",
    "The medicine made me feel even worse.",
    "The market sells fresh fish every Friday morning.",
    "I was disappointed by the small portions.",
    "The volunteers cleaned the whole beach in one afternoon.",
    "The sound quality of this speaker is terrible.",
    "My brother finally passed his driving test.",
    "The conference was badly organised and far too crowded.",
    "The quick brown fox jumps over the lazy dog.",
    "You like this house.",
    "So today, I just feel like",
    "She is eating a green apple.",
)

FRENCH_SENTENCES: tuple[str, ...] = (
    "J'aime tellement la nourriture.",
    "L'histoire n'est pas vraiment un cours amusant.",
    "L'animal n'a pas traversé la rue parce qu'il était trop fatigué.",
    "Tu aimes cette maison.",
    "Elle mange une pomme verte.",
    "Le train était encore en retard ce matin.",
    "Merci beaucoup pour votre aide.",
    "Ce restaurant a la meilleure pizza de la ville.",
)

SHORT_TEXT = "The animal didn't cross the street because it was too tired"
LABELS = ("education", "politics", "business")
TEN_LABELS = (*LABELS, "sports", "food", "travel", "technology", "health", "music", "weather")


def text_of_tokens(tokenizer: Any, tokens: int) -> str:
    """English text that `tokenizer` cuts into about `tokens` tokens, its special tokens included.

    The corpus is repeated and cut; decoding and re-encoding may move the count by a token or two.
    """
    specials = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    wanted = max(1, tokens - specials)
    ids: list[int] = []
    while len(ids) < wanted:
        ids += tokenizer(" ".join(SENTENCES), add_special_tokens=False, verbose=False)["input_ids"]
    return tokenizer.decode(ids[:wanted], skip_special_tokens=True).strip()


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens of `text` as the app would feed them, special tokens included."""
    return len(tokenizer(text, verbose=False)["input_ids"])
