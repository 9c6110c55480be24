"""The one pass over a prompt behind ``gateway.cache.guards.facts``: tokens, literals, language.

Separate from the guards' definitions (``gateway.cache.guards``) only to keep modules short;
nothing else reads it.
"""

from __future__ import annotations

import hashlib
import re

from gateway.cache.guard_names import NAMES
from gateway.cache.guard_words import (
    ENDINGS,
    FOREIGN_OPENERS,
    FUNCTION_WORDS,
    LANGUAGES,
    LETTERS,
    NEGATIONS,
    NUMBER_WORDS,
    ORDINALS,
    PHRASE_POLES,
    POLES,
    QUANTIFIERS,
    SHORT_UNITS,
    UNIT_FILLERS,
    UNITS,
)

DIGEST = 8
NOT_NAMES = FUNCTION_WORDS | FOREIGN_OPENERS | frozenset().union(*LANGUAGES.values())
NOT_NAMES |= frozenset(UNITS) | frozenset(NUMBER_WORDS) | frozenset(ORDINALS) | NEGATIONS | frozenset(POLES)
_PREFIX_UNITS = frozenset("$€£¥")
_SUFFIXES = ("ing", "ed", "es", "s")

_FENCE = re.compile(r"```(.*?)(?:```|$)", re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
_DOUBLE = re.compile(r"[\"“”„«»]([^\"“”„«»\n]{1,500})[\"“”„«»]")
_SINGLE = re.compile(r"(?<![\w])['‘]([^'‘’\n]{1,200}?)['’](?![\w])")
_NAMED = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|(?=[\w./\\:-]*[^\W\d_])\w+(?:[./\\:]\w+)+")
_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)(?:(?P<ord>st|nd|rd|th)(?![^\W\d_]))?"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<sym>°[cCfF](?![^\W\d_])|[$€£¥%])"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SCRIPTS = (
    ("latin", re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")),
    ("cyrillic", re.compile(r"[\u0400-\u052F]")),
    ("greek", re.compile(r"[\u0370-\u03FF]")),
    ("arabic", re.compile(r"[\u0600-\u06FF\u0750-\u077F]")),
    ("hebrew", re.compile(r"[\u0590-\u05FF]")),
    ("devanagari", re.compile(r"[\u0900-\u097F]")),
    ("thai", re.compile(r"[\u0E00-\u0E7F]")),
    ("ko", re.compile(r"[\uAC00-\uD7AF\u1100-\u11FF]")),
    ("ja", re.compile(r"[\u3040-\u30FF]")),
    ("zh", re.compile(r"[\u4E00-\u9FFF]")),
)


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=DIGEST).digest()


def chunks(blob: bytes) -> list[bytes]:
    return [blob[i : i + DIGEST] for i in range(0, len(blob), DIGEST)]


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _number(text: str) -> str:
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return (whole.lstrip("0") or "0") + ("." + fraction if fraction else "")


def literals(text: str) -> tuple[tuple[str, ...], str]:
    """Digests of the literals in order, and the text with code removed."""
    found: list[tuple[int, str]] = []
    for match in _FENCE.finditer(text):
        code = "\n".join(line.rstrip() for line in match.group(1).strip("\n").splitlines())
        found.append((match.start(), "code:" + code))
    text = _FENCE.sub(" ", text)
    for match in _INLINE.finditer(text):
        found.append((match.start(), "code:" + match.group(1).strip()))
    text = _INLINE.sub(" ", text)
    for pattern in (_DOUBLE, _SINGLE, _NAMED):
        for match in pattern.finditer(text):
            quoted = match.group(1) if pattern.groups else match.group(0)
            found.append((match.start(), "text:" + " ".join(quoted.split())))
    digests = tuple(digest(literal).hex() for _, literal in sorted(found))
    return digests, text


def language(text: str, words: list[str]) -> str:
    """The script, and for Latin script the language: English unless another one has more evidence."""
    counts = [(len(pattern.findall(text)), name) for name, pattern in _SCRIPTS]
    top, script = max(counts)
    if top == 0:
        return "none"
    if script == "zh" and counts[8][0]:  # kana besides the han characters: Japanese
        return "ja"
    if script != "latin":
        return script
    hits = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in LANGUAGES.items()}
    for lang, letters in LETTERS.items():
        hits[lang] += sum(any(c in letters for c in w) for w in words)
    for lang, endings in ENDINGS.items():
        hits[lang] += sum(w.endswith(endings) for w in words)
    best = max(hits.values())
    leaders = [lang for lang, n in hits.items() if n == best]
    if best == 0 or ("en" not in leaders and len(leaders) > 1):
        return "und"
    return "en" if "en" in leaders else leaders[0]


class Scan:
    """One pass over a prompt's tokens, collecting what ``Facts`` holds."""

    def __init__(self) -> None:
        self.numbers: list[str] = []
        self.measures: list[str] = []
        self.units: list[str] = []
        self.poles: list[str] = []
        self.lowers: list[str] = []
        self.names: dict[bytes, None] = {}
        self.negations = 0
        self.after_number = False  # the previous token was a number (or a filler after one)
        self.prefix: str | None = None  # a currency symbol right before a number
        self.quantified = False  # the previous word was "a", "per", "each", ... ("per year")

    def number(self, text: str, raw: str, start: int, ordinal: bool) -> None:
        value = raw.replace(",", "") if _THOUSANDS.fullmatch(raw) else raw
        values = [_number(v) for v in value.split(",")]
        if start and text[start - 1] in "-−" and (start == 1 or text[start - 2] in " \t\n(=[,:"):
            values[0] = "-" + values[0]
        if ordinal:
            values[-1] = "#" + values[-1]
        self.numbers.extend(values)
        self.measures.extend([""] * len(values))
        if self.prefix is not None:
            self.measures[-len(values)] = self.prefix
        self.prefix, self.after_number, self.quantified = None, True, False

    def unit(self, unit: str) -> None:
        if self.after_number and not self.measures[-1]:
            self.measures[-1] = unit
        else:
            self.units.append(unit)

    def _drop_prefix(self) -> None:
        if self.prefix is not None:  # a currency symbol no number followed
            self.units.append(self.prefix)
            self.prefix = None

    def symbol(self, symbol: str) -> None:
        unit = UNITS.get(symbol.lower(), symbol)
        self._drop_prefix()
        if symbol in _PREFIX_UNITS:
            self.prefix = unit
        else:
            self.unit(unit)
        self.after_number = self.quantified = False

    def word(self, word: str) -> None:
        self._drop_prefix()
        lower = word.lower().replace("’", "'")
        lower = lower[:-2] if lower.endswith("'s") else lower
        self.lowers.append(lower)
        if lower in NUMBER_WORDS or lower in ORDINALS:
            self.numbers.append(NUMBER_WORDS.get(lower) or ORDINALS[lower])
            self.measures.append("")
        if (self.after_number or self.quantified) and lower in SHORT_UNITS:
            self.unit(SHORT_UNITS[lower])
        elif lower in UNITS:
            self.unit(UNITS[lower])
        self.negations += lower in NEGATIONS or lower.endswith("n't")
        if lower in POLES:
            self.poles.append(POLES[lower])
        elif (self.lowers[-2:-1] or [""])[0] + " " + lower in PHRASE_POLES:
            self.poles.append(PHRASE_POLES[self.lowers[-2] + " " + lower])
        if lower not in NOT_NAMES and (word[0].isupper() or not word[1:].islower() or lower in NAMES):
            self.names[digest(stem(lower))] = None
        self.after_number = (self.after_number or lower in NUMBER_WORDS) and lower in UNIT_FILLERS | NUMBER_WORDS.keys()
        self.quantified = lower in QUANTIFIERS

    def route(self) -> str:
        """``from X to Y`` (or ``to Y from X``): the digests of X and Y, hex; else empty."""
        words = self.lowers
        if "from" not in words:
            return ""
        at = words.index("from")
        targets = [i for i, w in enumerate(words) if w in ("to", "into")]
        after = [i for i in targets if i > at]
        target = after[0] if after else (targets[-1] if targets else None)
        source, destination = _content_after(words, at), _content_after(words, target)
        if source is None or destination is None:
            return ""
        return (digest(stem(source)) + digest(stem(destination))).hex()


def _content_after(words: list[str], at: int | None) -> str | None:
    if at is None:
        return None
    return next((w for w in words[at + 1 :] if w not in FUNCTION_WORDS), None)


def scan_text(text: str) -> Scan:
    """One pass over ``text`` (code already removed by ``literals``)."""
    scan = Scan()
    for match in _TOKEN.finditer(text):
        if match.group("num") is not None:
            scan.number(text, match.group("num"), match.start(), match.group("ord") is not None)
        elif match.group("sym") is not None:
            scan.symbol(match.group("sym"))
        else:
            scan.word(match.group("word"))
    return scan
