"""The semantic cache's exactness guards: what two prompts must share before one's answer serves the other.

Embeddings place "capital of France" next to "capital of Spain" and "why is the sky blue"
next to "why is the sky not blue". So before a semantic hit is served, cheap checks on the
two prompts must all pass (``mismatch`` names the first that fails):

==============  ====================================================================
``language``    the same script, and for Latin script the same language by its function
                words and letters (English wins ties; ``und`` when there is no evidence or a tie
                between other languages; ``und`` matches only ``und``)
``literals``    the same code blocks, inline code, quoted strings, URLs, paths and
                dotted names, in order, character for character
``numbers``     the same numbers in order: digits, number words ("five"), ordinals
                ("3rd", "third"), signs; ``1,000`` = ``1000``, ``2.50`` = ``2.5``
``units``       each number with the same unit, and the same other units in order ("km" =
                "kilometres", "$" = "dollars"; "5 km to miles" = "miles in 5 km" ≠ "5 miles to km")
``negations``   the same count of negations (not, no, never, without, n't, ...; fr/de/es/it/pt/nl)
``opposites``   the same polar words (largest/smallest, before/after, disable, sell, ...)
``entities``    the same names in the same order: every capitalised word that is not a
                function, number, unit or polar word, every mixed-case word (iPhone), and every
                common name (``guard_names``) in either prompt must occur in the other, in the
                same order (words compared after a crude suffix strip: migrating = migrate);
                and when both say "from X to Y", the same X and Y
==============  ====================================================================

``Facts`` is what a prompt contributes. It stores no prompt text: words, names and literals
are kept as 8-byte BLAKE2b digests (numbers, units and poles as they are).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import orjson

from gateway.cache.guard_scan import chunks, digest, language, literals, scan_text, stem

GUARDS = ("language", "literals", "numbers", "units", "negations", "opposites", "entities")
FACTS_VERSION = 1


@dataclass(frozen=True, slots=True)
class Facts:
    """What the guards compare, for one prompt."""

    language: str
    negations: int
    numbers: tuple[str, ...]
    measures: tuple[str, ...]  # the unit each number is given in ("" for none), same order
    units: tuple[str, ...]  # the units not given to a number, in order
    poles: tuple[str, ...]  # sorted
    literals: tuple[str, ...]  # hex digests, in order
    entities: bytes  # DIGEST-byte digests of name candidates, first appearance first
    words: bytes  # DIGEST-byte digests of every word, first appearance first
    route: str = ""  # "from X to Y": the digests of X and Y (hex), else empty

    def encode(self) -> bytes:
        parts = (self.numbers, self.measures, self.units, self.poles, self.literals)
        head = orjson.dumps([FACTS_VERSION, self.language, self.negations, *parts, self.route])
        return struct.pack("<II", len(head), len(self.entities)) + head + self.entities + self.words

    @classmethod
    def decode(cls, raw: bytes) -> Facts | None:
        """The facts, or ``None`` for bytes of another version (or not facts at all)."""
        try:
            head_len, entities_len = struct.unpack_from("<II", raw)
            head = orjson.loads(raw[8 : 8 + head_len])
            if head[0] != FACTS_VERSION:
                return None
            numbers, measures, units, poles, quoted = (tuple(str(x) for x in part) for part in head[3:8])
            entities = raw[8 + head_len : 8 + head_len + entities_len]
            words = raw[8 + head_len + entities_len :]
            language, negations, route = str(head[1]), int(head[2]), str(head[8])
            return cls(language, negations, numbers, measures, units, poles, quoted, entities, words, route)
        except (struct.error, orjson.JSONDecodeError, IndexError, TypeError, ValueError):
            return None


def facts(text: str) -> Facts:
    """The facts of one prompt (its last user message)."""
    quoted, text = literals(text)
    scan = scan_text(text)
    return Facts(
        language=language(text, scan.lowers),
        negations=scan.negations,
        numbers=tuple(scan.numbers),
        measures=tuple(scan.measures),
        units=tuple(scan.units),
        poles=tuple(sorted(scan.poles)),
        literals=quoted,
        entities=b"".join(scan.names),
        words=b"".join(dict.fromkeys(digest(stem(w)) for w in scan.lowers)),
        route=scan.route(),
    )


def mismatch(a: Facts, b: Facts) -> str | None:
    """The first guard the two prompts fail (see ``GUARDS``), or ``None`` when they pass all."""
    if a.language != b.language:
        return "language"
    if a.literals != b.literals:
        return "literals"
    if a.numbers != b.numbers:
        return "numbers"
    if a.units != b.units or a.measures != b.measures:
        return "units"
    if a.negations != b.negations:
        return "negations"
    if a.poles != b.poles:
        return "opposites"
    if a.route and b.route and a.route != b.route:
        return "entities"
    if a.entities or b.entities:
        names = set(chunks(a.entities)) | set(chunks(b.entities))
        if [w for w in chunks(a.words) if w in names] != [w for w in chunks(b.words) if w in names]:
            return "entities"
    return None
