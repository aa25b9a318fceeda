"""The stop-word heuristic gpu_job used before py3langid (gpu_job/language.py at commit fb25812), kept
verbatim as the baseline benchmarks/language_id.py measures the library against. Not used at run time.
"""

from __future__ import annotations

import re
from collections import Counter

STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "bg": "и в на е не за да се че от с по това са като но те ще съм беше има към",
        "cs": "a je v se na že to s z do jsem jako ale by o pro tak jsou které není byl",
        "da": "og i at det er en til på som de med af for ikke der var jeg har den han",
        "de": "und der die das ist nicht ein eine zu den mit sich auf für von es ich auch dem",
        "el": "και το να η του της τα σε με για που δεν είναι θα από ο οι στο στη",
        "en": "the and of to a in is that it for you was with on are this be have not but",
        "es": "el la de que y en los las un una es por con para no se del lo como pero",
        "et": "ja on ei et see oli ka kui mis aga ta oma siis nii seda ning kes veel",
        "fi": "ja on ei että se oli hän mutta kun niin ovat myös tämä jos tai olen kuin",
        "fr": "le la les de et est un une des que pas pour dans ce qui sur avec je il au",
        "hr": "i je u na se da su za od to ne sa ali kao što bi koji biti sam",
        "hu": "a az és hogy nem is egy van meg de csak már volt mint ez azt még",
        "it": "il di che e la per un una non sono della con le gli ma come anche del nel",
        "lt": "ir yra kad į su ne tai iš bet kaip buvo jis ji jo ar taip dar apie",
        "lv": "un ir ar uz no par ka kas tas bet arī vai nav es viņš bija lai tā",
        "mt": "il u li ta fil ma għal minn huwa hija dan din kien jew iżda biex mal",
        "nl": "de het een en van is dat niet op te zijn met voor die ik je er maar",
        "pl": "i w nie na się że z do to jest jak o co ale tak po od jestem był",
        "pt": "o a de que e do da em um uma para com não os as se no na mais",
        "ro": "și de la în nu o un că este pe cu se din ce mai sunt care pentru",
        "ru": "и в не на что я с он как это по но она они мы был так из",
        "sk": "a je v sa na že to s z do som ako ale by o pre tak sú nie bol",
        "sl": "in je v se na da so za ne pa tudi ki z bi sem kot to od",
        "sv": "och i att det är en som på för med inte av den till har jag var de",
        "uk": "і в не на що я з він як це але та від так ми був вона вони до",
    }.items()
}
MIN_HITS = 3
MARGIN = 1.2
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the most likely language, or None when the evidence is too thin."""
    words = Counter(w.lower() for w in _WORD.findall(text))
    if not words:
        return None
    scores = {lang: sum(words[w] for w in stops) for lang, stops in STOP_WORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score < MIN_HITS or best_score < MARGIN * second_score:
        return None
    return best
