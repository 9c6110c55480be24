"""Names the semantic cache's entity guard knows even when a prompt writes them in lowercase.

A capitalised word is a name candidate wherever it appears (``gateway.cache.guards``);
search boxes and chat users often skip capitals, so these common names are candidates in
any case: countries, large cities, US states, languages and nationalities, planets,
months and days, programming languages, frameworks, databases, tools, and large
companies and products. One word each (``new york`` is caught by ``york``). Not a
gazetteer of the world: a lowercase name missing here is caught only by the similarity
threshold (see README, "The semantic cache": the risks it does not remove). Words that
are mostly ordinary words (visa, word, edge, teams, sun, moon, earth) are left out.
"""

from __future__ import annotations


def _split(text: str) -> frozenset[str]:
    return frozenset(text.split())


NAMES = _split(
    """
    afghanistan albania algeria argentina armenia australia austria azerbaijan bahamas bangladesh
    belarus belgium bolivia bosnia brazil bulgaria cambodia cameroon canada chile china colombia
    croatia cuba cyprus czechia denmark ecuador egypt estonia ethiopia finland france georgia
    germany ghana greece guatemala haiti honduras hungary iceland india indonesia iran iraq ireland
    israel italy jamaica japan jordan kazakhstan kenya korea kuwait laos latvia lebanon libya
    lithuania luxembourg madagascar malaysia mali malta mexico moldova monaco mongolia montenegro
    morocco mozambique myanmar nepal netherlands holland zealand nicaragua niger nigeria norway oman
    pakistan panama paraguay peru philippines poland portugal qatar romania russia rwanda scotland
    wales england britain senegal serbia singapore slovakia slovenia somalia spain sudan sweden
    switzerland syria taiwan tanzania thailand tunisia turkey uganda ukraine emirates uae usa uk
    america uruguay uzbekistan venezuela vietnam yemen zambia zimbabwe bali hawaii alaska europe asia
    africa antarctica arctic atlantic pacific caribbean mediterranean sahara himalayas alps
    paris london tokyo rome berlin madrid barcelona lisbon amsterdam brussels vienna prague budapest
    warsaw athens dublin edinburgh oslo stockholm copenhagen helsinki moscow istanbul ankara cairo
    nairobi lagos johannesburg dubai delhi mumbai bangalore beijing shanghai hong kong seoul osaka
    kyoto bangkok hanoi jakarta manila sydney melbourne auckland toronto vancouver montreal york
    chicago boston seattle denver dallas houston austin miami atlanta phoenix vegas angeles francisco
    diego philadelphia washington detroit portland nashville orleans lima bogota santiago buenos
    aires rio paulo havana jerusalem tehran baghdad riyadh karachi lahore dhaka kathmandu milan
    venice florence naples munich hamburg frankfurt zurich geneva lyon marseille seville valencia
    porto krakow kiev kyiv minsk riga tallinn vilnius sofia bucharest belgrade zagreb
    california texas florida ohio michigan oregon nevada arizona utah colorado virginia carolina
    massachusetts pennsylvania illinois indiana kentucky tennessee alabama louisiana oklahoma kansas
    nebraska iowa minnesota wisconsin missouri arkansas mississippi idaho montana wyoming dakota maine
    vermont hampshire connecticut jersey delaware maryland
    english french german spanish italian portuguese dutch russian chinese mandarin cantonese
    japanese korean arabic hindi urdu bengali turkish greek polish swedish norwegian danish finnish
    czech hungarian romanian ukrainian hebrew persian farsi thai vietnamese indonesian malay swahili
    latin american british canadian australian mexican brazilian indian african european asian
    mercury venus mars jupiter saturn uranus neptune pluto
    january february march april june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    python javascript typescript java kotlin scala swift rust golang ruby php perl haskell elixir
    erlang clojure lua julia matlab fortran cobol dart bash powershell sql html css cpp
    react angular vue svelte django flask fastapi rails laravel nextjs nuxt jquery
    node nodejs deno numpy pandas pytorch tensorflow keras sklearn scipy matplotlib spark hadoop
    kafka redis postgres postgresql mysql sqlite mongodb oracle cassandra elasticsearch dynamodb
    docker kubernetes terraform ansible jenkins git github gitlab bitbucket linux ubuntu debian
    fedora centos windows macos ios android chrome firefox safari excel powerpoint outlook
    gmail slack zoom notion jira trello figma photoshop wordpress shopify stripe paypal venmo
    aws azure gcp heroku vercel netflix spotify youtube instagram facebook twitter tiktok whatsapp
    telegram linkedin reddit amazon google apple microsoft tesla spacex nvidia intel amd ibm
    samsung sony nintendo xbox playstation iphone ipad macbook kindle alexa siri
    openai chatgpt gpt claude anthropic gemini llama mistral uber airbnb mastercard bitcoin
    ethereum toyota honda ford bmw mercedes audi volkswagen nike adidas ikea walmart costco
    """
)
