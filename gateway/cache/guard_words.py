"""The word lists the semantic cache's exactness guards read (``gateway.cache.guards``).

All immutable. Words are lowercase; each list says what a word in it does to a comparison.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _table(groups: dict[str, str]) -> dict[str, str]:
    """``{canonical: "form form ..."}`` → ``{form: canonical}``."""
    return {form: canonical for canonical, forms in groups.items() for form in forms.split()}


# Capitalised words that are not names: question words, pronouns, auxiliaries, articles,
# prepositions and the imperative verbs prompts start with. A capitalised word outside
# this list is a name candidate (``guards.Facts.entities``).
FUNCTION_WORDS = _words(
    """
    a an the this that these those it its it's i i'm i've i'd me my mine we our us you your yours
    he she they them their his her hers what what's whats which who whom whose why when where how
    how's is are was were be been being am do does did done doing have has had having can could
    would should will shall may might must need ought let let's please kindly pls plz thanks thank
    hi hello hey dear ok okay yes no so and but or nor if then than else also just now here there
    in on at for to of from by with without about into onto over under after before between
    through during as any some all each every both either neither none most more much many few
    several such very really quite too quick quickly question questions help tell give show
    explain describe list write define summarize summarise compare name find make create
    generate translate convert calculate compute suggest recommend provide teach say solve fix
    check tips tip best way ways steps step is there are there can't cannot don't doesn't
    isn't aren't won't wouldn't shouldn't couldn't didn't wasn't weren't hasn't haven't
    anyone someone something anything everything nothing one ones other another same own
    step-by-step briefly simply exactly actually basically generally usually
    """
)

# Words after which an abbreviation or "year" is a unit too ("per year", "a year"; not "time of year").
QUANTIFIERS = frozenset({"a", "an", "per", "each", "every"})

# Words between a number and its unit ("100 degrees Fahrenheit").
UNIT_FILLERS = frozenset({"degree", "degrees", "square", "cubic"})

# Sentence openers of the other languages the language guard knows (never name candidates).
FOREIGN_OPENERS = _words(
    "quelles quels quel quelle j'ai qu'est puis-je est-ce wo wann welche welcher cuál cuáles dónde"
)

# Words (after lowercasing) that negate; contractions ending in n't count too.
NEGATIONS = _words(
    """
    not no never none nobody nothing nowhere neither nor cannot without non nope
    ne pas jamais aucun aucune sans nicht kein keine keinen keinem keiner nie niemals ohne
    nunca nada ningún ninguna ninguno sin tampoco non mai senza nessun nessuna não nem nunca
    niet geen nooit zonder
    """
)

# Words that flip or select an answer: each word maps to its pole; prompts must name the same poles.
POLES = _table(
    {
        "large": "largest biggest greatest maximum max",
        "small": "smallest tiniest minimum min",
        "high": "highest tallest",
        "low": "lowest shortest",
        "long": "longest",
        "least": "least fewest",
        "less": "less fewer",
        "bad": "worst worse",
        "hot": "hottest hotter warmest",
        "cold": "coldest colder coolest",
        "fast": "fastest faster quickest",
        "slow": "slowest slower",
        "cheap": "cheapest cheaper",
        "dear": "expensive priciest",
        "early": "earliest",
        "late": "latest last final",
        "old": "oldest older eldest",
        "new": "newest newer youngest younger",
        "after": "after afterwards",
        "down": "down downward downwards",
        "increase": "increase raise enlarge increasing",
        "remove": "remove delete erase",
        "disable": "disable deactivate",
        "stop": "stop end halt terminate",
        "close": "close lock shut",
        "sell": "sell",
        "export": "export",
        "upload": "upload",
        "decrypt": "decrypt decode",
        "out": "logout signout",
        "win": "win won",
        "lose": "lose",
        "con": "cons disadvantages disadvantage drawbacks drawback risks downsides",
        "false": "false",
        "positive": "positive",
        "negative": "negative",
        "ascending": "ascending",
        "descending": "descending",
        "upper": "uppercase upper",
        "lower": "lowercase",
        "north": "north northern",
        "south": "south southern",
        "east": "east eastern",
        "west": "west western",
        "left": "left",
        "right": "right",
        "above": "above",
        "below": "below",
        "inside": "inside",
        "outside": "outside",
        "input": "input",
        "output": "output",
        "reject": "reject decline deny",
        "block": "block forbid ban",
        "exclude": "exclude",
        "plus": "plus sum addition",
        "minus": "minus subtract subtracted",
        "times": "times multiply multiplied",
        "divide": "divide divided quotient",
        "push": "push",
        "pull": "pull",
        "male": "male men man boys",
        "female": "female women woman girls",
        "past": "past",
        "future": "future",
    }
)

# Two-word polar phrases (the second word alone is too common: "get it out").
PHRASE_POLES = {"sign out": "out", "log out": "out", "check out": "out", "turn off": "off", "switch off": "off"}

# Number words (cardinals; "one" is left out: "which one", "one of").
_CARDINALS = "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
_CARDINALS += " sixteen seventeen eighteen nineteen twenty"
_TENS = {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"}
_LARGE = {"hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000"}
_FRACTIONS = {"dozen": "12", "half": "0.5", "quarter": "0.25"}
NUMBER_WORDS = {w: str(i) for i, w in enumerate(_CARDINALS.split()) if w != "_"} | _TENS | _LARGE | _FRACTIONS
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
ORDINALS = {w: f"#{i + 1}" for i, w in enumerate(_ORDINALS.split())}

# Units, canonicalised. Long forms count anywhere; SHORT forms only right after a number ("5 m").
UNITS = _table(
    {
        "km": "km kilometer kilometers kilometre kilometres",
        "mile": "mile miles",
        "m": "meter meters metre metres",
        "cm": "cm centimeter centimeters centimetre centimetres",
        "mm": "mm millimeter millimeters millimetre millimetres",
        "inch": "inch inches",
        "foot": "foot feet ft",
        "yard": "yard yards yd yds",
        "kg": "kg kgs kilogram kilograms kilo kilos",
        "g": "gram grams",
        "mg": "mg milligram milligrams",
        "pound": "pound pounds lb lbs",
        "ounce": "ounce ounces oz",
        "stone": "stone stones",
        "ton": "ton tons tonne tonnes",
        "l": "liter liters litre litres",
        "ml": "ml milliliter milliliters millilitre millilitres",
        "gallon": "gallon gallons gal",
        "cup": "cup cups",
        "tbsp": "tablespoon tablespoons tbsp",
        "tsp": "teaspoon teaspoons tsp",
        "pint": "pint pints",
        "quart": "quart quarts",
        "celsius": "celsius centigrade °c",
        "fahrenheit": "fahrenheit °f",
        "kelvin": "kelvin",
        "second": "seconds sec secs",
        "minute": "minute minutes mins",
        "hour": "hour hours hr hrs",
        "day": "day days",
        "week": "week weeks",
        "month": "month months",
        "decade": "decade decades",
        "century": "century centuries",
        "byte": "byte bytes",
        "kb": "kb kilobyte kilobytes",
        "mb": "mb megabyte megabytes",
        "gb": "gb gigabyte gigabytes",
        "tb": "tb terabyte terabytes",
        "bit": "bit bits",
        "mph": "mph",
        "kph": "kph kmh",
        "knot": "knot knots",
        "watt": "watt watts",
        "kw": "kw kilowatt kilowatts",
        "kwh": "kwh",
        "hp": "hp horsepower",
        "calorie": "calorie calories kcal",
        "joule": "joule joules",
        "volt": "volt volts",
        "amp": "amp amps ampere amperes",
        "percent": "percent per cent percentage %",
        "usd": "usd dollar dollars $",
        "eur": "eur euro euros €",
        "gbp": "gbp £ quid sterling",
        "jpy": "jpy yen ¥",
        "cny": "cny yuan renminbi",
        "inr": "inr rupee rupees",
        "chf": "chf franc francs",
        "btc": "btc bitcoin bitcoins",
        "acre": "acre acres",
        "hectare": "hectare hectares",
        "sqft": "sqft",
    }
)
# Abbreviations that are ordinary words elsewhere ("in", "m", "s"): units only right after a number.
SHORT_UNITS = {
    "year": "year",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "m": "m",
    "g": "g",
    "l": "l",
    "s": "second",
    "h": "hour",
    "in": "inch",
    "t": "ton",
    "c": "celsius",
}
SHORT_UNITS |= {"f": "fahrenheit", "k": "k", "min": "minute", "mi": "mile", "am": "am", "pm": "pm", "b": "byte"}

# Distinctive function words of the Latin-script languages the language guard tells apart.
LANGUAGES = {
    "en": _words(
        "the is are what how why do does did of and you my i can with to it this that for was your an be "
        "should get from on at which who when where have has will would there they or not much many long "
        "explain tell me give list describe calculate convert name please about between than whether if any "
        "some into way best time who whose just could were been being our their these those in"
    ),
    "fr": _words(
        "le la les est des une un et quel quelle quels quelles comment pourquoi je mon ma mes vous pour dans du "
        "au ce qui que pas ne se sont être avoir ai il elle nous leur ces cette qu'est quoi où quand combien "
        "très aussi plus sans sous chez entre par votre vos de"
    ),
    "de": _words(
        "der die das ist und wie was warum ich mein meine ein eine mit für zu von auf den dem sind kann nicht "
        "auch noch nur schon sehr wird werden hat haben mir mich dich sich sie es im zum zur vom beim über "
        "oder aber wenn dass gibt ihre ihr welche muss in"
    ),
    "es": _words(
        "el los las es qué cómo por para una y mi con del se está son cuál puedo cuánto la lo al le les su sus "
        "muy también pero porque cuando dónde hay ser estar tiene hace cuáles de"
    ),
    "it": _words(
        "il gli è che come perché una per con del della sono mio posso qual la le lo di da non ma quando dove "
        "quanto cosa siamo hanno ho ha anche molto questo questa in"
    ),
    "pt": _words(
        "o os é que como por para uma um meu com do da são posso qual não minha mas porque quando onde quanto "
        "você vocês seu sua também muito tem fazer isso de"
    ),
    "nl": _words(
        "de het een is wat hoe waarom ik mijn en van voor met zijn kan niet ook maar omdat wanneer waar "
        "hoeveel je jij u hebben heeft wordt worden deze dit in"
    ),
}
# Letters that only some of those languages write: each word holding one counts for them.
LETTERS = {"de": "äöüß", "es": "ñ¿¡", "pt": "ãõ", "fr": "èêëçœ", "it": "ìò"}
# Word endings typical of one of them.
ENDINGS = {"de": ("cht", "keit", "heit"), "es": ("ción", "ciones"), "pt": ("ção", "ções"), "nl": ("heid", "lijk")}
