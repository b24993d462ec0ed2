#!/usr/bin/python3
"""Write N synthetic pubfeed records for benchmarks and load tests.

usage: gen_records.py DIR N [--seed S]

Records follow schemas/record.xsd and the semantic rules of src/record.c
(real dates, absolute https URLs, event end after start, fulltext links with
a type and a length, one abstract per language, valid ORCID/ISBN/ISSN check
digits).  The output depends only on N and the seed, so two runs with the
same arguments write byte-identical files.  Files are spread over 50
subdirectories, issued dates over 20 years (2007-2026), languages en, bg
(Cyrillic) and nb (æøå), and about 20 leaf sets under topic:, region: and
type:.  Files of the same name are overwritten; nothing is deleted, so use
an empty DIR.  Standard library only; 100,000 records take about 15 seconds.
"""

import argparse
import datetime
import os
import random
import sys
from xml.sax.saxutils import escape

NS = "https://pubfeed.org/ns/record/1"
BASE = "https://research.example.org"
NDIRS = 50
FIRST_DAY = datetime.date(2007, 1, 1).toordinal()
LAST_DAY = datetime.date(2026, 10, 31).toordinal()
ORCID = "0000-0002-1825-0097"     # ORCID's own fictional test researcher

# (type, set, share of records in percent)
TYPES = [
    ("report", "type:reports", 22),
    ("policy-brief", "type:briefs", 15),
    ("working-paper", "type:papers", 12),
    ("book", "type:books", 4),
    ("chapter", "type:books", 5),
    ("article", "type:articles", 14),
    ("dataset", "type:data", 3),
    ("presentation", "type:presentations", 5),
    ("event", "type:events", 10),
    ("news", "type:news", 10),
]

# (set, English, Bulgarian, Norwegian): the topic drives title and subjects
TOPICS = [
    ("topic:smuggling", "Human Smuggling", "Контрабандата на мигранти",
     "Menneskesmugling"),
    ("topic:smuggling:migrants", "Migrant Smuggling", "Каналджийството",
     "Migrantsmugling"),
    ("topic:smuggling:goods", "Cigarette & Fuel Smuggling",
     "Контрабандата на цигари и горива", "Smugling av sigaretter og drivstoff"),
    ("topic:trafficking", "Trafficking in Human Beings", "Трафикът на хора",
     "Menneskehandel"),
    ("topic:trafficking:labour", "Labour Exploitation",
     "Трудовата експлоатация", "Arbeidsutnytting"),
    ("topic:trafficking:sexual", "Sexual Exploitation",
     "Сексуалната експлоатация", "Seksuell utnytting"),
    ("topic:organised-crime", "Organised Crime", "Организираната престъпност",
     "Organisert kriminalitet"),
    ("topic:corruption", "Corruption", "Корупцията", "Korrupsjon"),
    ("topic:money-laundering", "Money Laundering", "Изпирането на пари",
     "Hvitvasking"),
]

# (set, English, Bulgarian, Norwegian, ISO 3166 country, cities)
REGIONS = [
    ("region:bulgaria", "Bulgaria", "България", "Bulgaria", "BG",
     ["Sofia", "Plovdiv", "Varna", "Burgas", "Svilengrad"]),
    ("region:norway", "Norway", "Норвегия", "Norge", "NO",
     ["Oslo", "Bergen", "Trondheim", "Tromsø", "Stavanger"]),
    ("region:balkans", "the Western Balkans", "Западните Балкани",
     "Vest-Balkan", "RS", ["Belgrade", "Skopje", "Sarajevo"]),
    ("region:nordic", "the Nordic Countries", "Северните страни", "Norden",
     "SE", ["Stockholm", "Copenhagen", "Malmö"]),
    ("region:eu", "the European Union", "Европейския съюз", "EU", "BE",
     ["Brussels", "The Hague", "Vienna"]),
]

TITLE_FRAMES = {
    "en": ["{t} in {r}: {s}", "Understanding {t}: Evidence from {r}",
           "Countering {t} in {r}", "{t} and the State in {r}",
           "{t} after {y}: {s}", "The Economics of {t} in {r}"],
    "bg": ["{t} в {r}: {s}", "{t} след {y} г.: {s}",
           "Противодействие: {t} в {r}", "{t} и държавата в {r}"],
    "nb": ["{t} i {r}: {s}", "{t} etter {y}: {s}",
           "Tiltak mot {tl} i {r}", "{t} og staten i {r}"],
}
SUBS = {
    "en": ["Trends and Policy Options", "Networks, Prices and Routes",
           "A Risk Assessment", "Lessons for Law Enforcement",
           "Victims, Offenders and Institutions", "New Challenges"],
    "bg": ["тенденции и политики", "мрежи, цени и маршрути",
           "оценка на риска", "поуки за правоприлагането",
           "нови предизвикателства"],
    "nb": ["utfordringer og tiltak", "en kunnskapsoversikt",
           "erfaringer fra politiet", "nettverk, priser og ruter",
           "sårbarhet og ansvar"],
}
SENTENCES = {
    "en": ["This {k} examines {tl} in {r} between {y0} and {y}.",
           "It draws on {n} interviews with police officers, prosecutors, "
           "victims and experts.",
           "The analysis shows how criminal networks adapt to border "
           "controls & changing markets.",
           "Corruption among officials remains the main enabler of "
           "cross-border crime.",
           "It ends with recommendations for national authorities and "
           "for cooperation across the EU."],
    "bg": ["Изследването разглежда {tl} в {r} в периода {y0}–{y} г.",
           "То се основава на {n} интервюта с полицаи, прокурори и експерти.",
           "Анализът показва как престъпните мрежи се приспособяват към "
           "граничния контрол.",
           "Корупцията сред служителите остава основен фактор.",
           "Предложени са препоръки към институциите."],
    "nb": ["Denne studien undersøker {tl} i {r} i perioden {y0}–{y}.",
           "Den bygger på {n} intervjuer med politi, påtalemyndighet og "
           "fagfolk.",
           "Analysen viser hvordan kriminelle nettverk tilpasser seg "
           "grensekontroll og nye markeder.",
           "Korrupsjon blant offentlig ansatte gjør kriminaliteten mulig.",
           "Studien gir anbefalinger til myndighetene i Norge og Bulgaria."],
}

PERSONS = {
    "en": [("Kolev", "Stefan"), ("Georgieva", "Mila"), ("Petrov", "Boyan"),
           ("Ivanova", "Nadezhda"), ("Marinov", "Kalin"),
           ("Stoyanova", "Elena"), ("Smith", "Laura"), ("Novak", "Jan")],
    "bg": [("Колев", "Стефан"), ("Георгиева", "Мила"), ("Петров", "Боян"),
           ("Иванова", "Надежда"), ("Маринов", "Калин"),
           ("Стоянова", "Елена"), ("Димитров", "Георги")],
    "nb": [("Nordmann", "Kari"), ("Haugen", "Sigrid"), ("Bjørnstad", "Eirik"),
           ("Lie", "Håkon"), ("Ødegård", "Astrid"), ("Sæther", "Ola"),
           ("Aasen", "Ingrid")],
}
ORGS = {
    "en": ["Center for the Study of Democracy",
           "Nordic Institute for Crime Prevention"],
    "bg": ["Център за изследване на демокрацията"],
    "nb": ["Nordisk institutt for kriminalitetsforebygging"],
}
PLACES = {"en": "Sofia", "bg": "София", "nb": "Oslo"}
SERIES = {
    "report": {"en": "CSD Reports", "bg": "Анализи и доклади",
               "nb": "NIKF-rapport"},
    "policy-brief": {"en": "CSD Policy Briefs", "bg": "Аналитични доклади",
                     "nb": "NIKF-notat"},
    "working-paper": {"en": "CSD Working Papers",
                      "bg": "Работни материали", "nb": "Arbeidsnotater"},
}
LICENSES = ["https://creativecommons.org/licenses/by/4.0/",
            "https://creativecommons.org/licenses/by-nc/4.0/",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            "https://creativecommons.org/licenses/by-sa/4.0/"]
PDF_TITLE = {"en": "Full text (PDF)", "bg": "Пълен текст (PDF)",
             "nb": "Fulltekst (PDF)"}
ISBN_GROUP = {"en": "978-954-477", "bg": "978-954-477", "nb": "978-82-93871"}


def _esc(tree):
    """Escape every string of a nested vocabulary once, up front."""
    if isinstance(tree, str):
        return escape(tree)
    if isinstance(tree, dict):
        return {k: _esc(v) for k, v in tree.items()}
    if isinstance(tree, tuple):
        return tuple(_esc(v) for v in tree)
    return [_esc(v) for v in tree]


TOPICS, REGIONS, TITLE_FRAMES, SUBS, SENTENCES = _esc(
    (TOPICS, REGIONS, TITLE_FRAMES, SUBS, SENTENCES))
PERSONS, ORGS, PLACES, SERIES = _esc((PERSONS, ORGS, PLACES, SERIES))

TYPE_TABLE = [t for t, _, w in TYPES for _ in range(w)]
TYPE_SET = {t: s for t, s, _ in TYPES}
LANG_TABLE = ["en"] * 6 + ["bg"] * 2 + ["nb"] * 2
LANG_INDEX = {"en": 1, "bg": 2, "nb": 3}


def isbn13(rng, group):
    free = 12 - sum(c.isdigit() for c in group)
    digits = "%s-%0*d" % (group, free, rng.randrange(10 ** free))
    d = [int(c) for c in digits if c.isdigit()]
    s = sum(x * (3 if i % 2 else 1) for i, x in enumerate(d))
    return "%s-%d" % (digits, (10 - s % 10) % 10)


def issn(rng):
    d = [rng.randrange(10) for _ in range(7)]
    c = (11 - sum(x * (8 - i) for i, x in enumerate(d)) % 11) % 11
    s = "".join(map(str, d)) + ("X" if c == 10 else str(c))
    return s[:4] + "-" + s[4:]


def day(o):
    return datetime.date.fromordinal(o).isoformat()


def stamp(o, hour, minute=0):
    return "%sT%02d:%02d:00Z" % (day(o), hour, minute)


def title(rng, lang, topic, region, year):
    t = topic[LANG_INDEX[lang]]
    tl = t if lang == "en" else t[0].lower() + t[1:]
    return rng.choice(TITLE_FRAMES[lang]).format(
        t=t, tl=tl, r=region[LANG_INDEX[lang]], s=rng.choice(SUBS[lang]),
        y=year)


def abstract(rng, lang, topic, region, year, kind):
    t = topic[LANG_INDEX[lang]]
    tl = t.lower() if lang == "en" else t[0].lower() + t[1:]
    sents = SENTENCES[lang]
    picked = [sents[0]] + rng.sample(sents[1:], rng.randint(1, 3))
    return " ".join(picked).format(
        k=kind.replace("-", " "), tl=tl, r=region[LANG_INDEX[lang]],
        y0=year - rng.randint(2, 10), y=year, n=rng.randint(12, 240))


def person(rng, name, lang, with_orcid):
    fam, giv = name
    s = "<person><family>%s</family>" % fam
    if rng.random() < 0.9:
        s += "<given>%s</given>" % giv
    if rng.random() < 0.5:
        s += "<affiliation>%s</affiliation>" % rng.choice(ORGS[lang])
    if with_orcid:
        s += "<orcid>%s</orcid>" % ORCID
    return s + "</person>"


def agents(rng, o, lang, rtype):
    if rtype in ("news", "event") or rng.random() < 0.1:
        o.append("  <creator><organisation>%s</organisation></creator>"
                 % rng.choice(ORGS[lang]))
    else:
        pool = PERSONS[lang]
        for p in rng.sample(pool, rng.choice((1, 1, 2, 2, 3, 4))):
            o.append("  <creator>%s</creator>"
                     % person(rng, p, lang, rng.random() < 0.05))
    if rtype == "event":
        for role in ("moderator", "speaker", "speaker"):
            o.append('  <contributor role="%s">%s</contributor>'
                     % (role, person(rng, rng.choice(PERSONS[lang]), lang,
                                     False)))
    elif rtype == "book" or rng.random() < 0.05:
        o.append('  <contributor role="editor">%s</contributor>'
                 % person(rng, rng.choice(PERSONS[lang]), lang, False))


def dates(rng, o, rtype, region):
    issued = rng.randint(FIRST_DAY, LAST_DAY)
    if rtype == "news" or rng.random() < 0.1:
        o.append("  <issued>%s</issued>"
                 % stamp(issued, rng.randint(6, 17), rng.choice((0, 30))))
    else:
        o.append("  <issued>%s</issued>" % day(issued))
    if rng.random() < 0.2:
        o.append("  <modified>%s</modified>"
                 % day(min(issued + rng.randint(1, 400), LAST_DAY)))
    if rtype == "event":
        start = issued + rng.randint(7, 90)
        h = rng.randint(7, 13)
        end = start + rng.choice((0, 0, 0, 1, 2))
        o.append("  <event>")
        o.append("    <start>%s</start>" % stamp(start, h))
        o.append("    <end>%s</end>" % stamp(end, h + rng.randint(1, 6)))
        if rng.random() < 0.15:
            o.append("    <place>Online (video conference)</place>")
        else:
            o.append('    <place country="%s">%s, conference hall</place>'
                     % (region[4], rng.choice(region[5])))
        o.append("  </event>")
    return datetime.date.fromordinal(issued).year


def trailer(rng, o, rid, lang, langs, rtype):
    o.append("  <publisher>%s</publisher>" % ORGS[lang][0])
    if rtype not in ("news", "event"):
        o.append("  <place>%s</place>" % PLACES[lang])
    if rtype in SERIES:
        o.append("  <series>%s</series>" % SERIES[rtype][lang])
    if rng.random() < 0.5:
        o.append('  <rights license="%s">© The authors</rights>'
                 % rng.choice(LICENSES))
    if rtype in ("book", "report") and rng.random() < 0.6:
        o.append('  <identifier type="isbn">%s</identifier>'
                 % isbn13(rng, ISBN_GROUP[lang]))
    if rtype == "article" and rng.random() < 0.5:
        o.append('  <identifier type="issn">%s</identifier>' % issn(rng))
    if rng.random() < 0.3:
        o.append('  <identifier type="doi">10.5555/syn.%s</identifier>' % rid)
    section = {"news": "news", "event": "events"}.get(rtype, "publications")
    o.append('  <link rel="landing" href="%s/%s/%s"/>' % (BASE, section, rid))
    if rtype not in ("news", "event") and rng.random() < 0.6:
        for l in langs:
            o.append('  <link rel="fulltext" href="%s/files/%s-%s.pdf" '
                     'type="application/pdf" length="%d" xml:lang="%s" '
                     'title="%s"/>' % (BASE, rid, l,
                                       rng.randint(80000, 12000000), l,
                                       PDF_TITLE[l]))
    if rng.random() < 0.1:
        o.append('  <link rel="related" href="%s/publications/syn-%07d"/>'
                 % (BASE, rng.randrange(1000000)))


def record(rng, i):
    rtype = rng.choice(TYPE_TABLE)
    lang = rng.choice(LANG_TABLE)
    other = rng.choice([l for l in ("en", "bg", "nb") if l != lang])
    bilingual = rng.random() < 0.3
    tlangs = [lang, other] if bilingual else [lang]
    topics = rng.sample(TOPICS, rng.choice((1, 1, 2, 3)))
    regions = rng.sample(REGIONS, rng.choice((1, 1, 2)))
    rid = "syn-%07d-%s" % (i, rtype)

    o = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<record xmlns="%s" id="%s" type="%s" xml:lang="%s">'
         % (NS, rid, rtype, lang)]
    # Dates decide the year used in titles, but the schema wants titles
    # first: build the middle part, then splice the titles in front.
    mid = []
    agents(rng, mid, lang, rtype)
    year = dates(rng, mid, rtype, regions[0])
    for l in tlangs:
        o.append('  <title xml:lang="%s">%s</title>'
                 % (l, title(rng, l, topics[0], regions[0], year)))
    if rng.random() < 0.1:
        o.append('  <subtitle xml:lang="%s">%s</subtitle>'
                 % (lang, rng.choice(SUBS[lang])))
    o.extend(mid)
    langs = tlangs if bilingual and rng.random() < 0.5 else [lang]
    for l in langs:
        o.append("  <language>%s</language>" % l)
    for t in topics:
        o.append('  <subject xml:lang="%s">%s</subject>'
                 % (lang, t[LANG_INDEX[lang]]))
    if rng.random() < 0.9:
        for l in tlangs:
            o.append('  <abstract xml:lang="%s">%s</abstract>'
                     % (l, abstract(rng, l, topics[0], regions[0], year,
                                    rtype)))
    trailer(rng, o, rid, lang, langs, rtype)
    for s in sorted({t[0] for t in topics} | {r[0] for r in regions}):
        o.append("  <set>%s</set>" % s)
    o.append("  <set>%s</set>" % TYPE_SET[rtype])
    o.append("</record>\n")
    return rid, "\n".join(o)


def main():
    ap = argparse.ArgumentParser(
        description="Write N synthetic pubfeed records under DIR.")
    ap.add_argument("dir", metavar="DIR")
    ap.add_argument("n", metavar="N", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.n < 0:
        ap.error("N must be >= 0")
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    dirs = [os.path.join(a.dir, "batch-%02d" % k) for k in range(NDIRS)]
    for d in dirs[:min(a.n, NDIRS)]:
        os.makedirs(d, exist_ok=True)
    for i in range(a.n):
        rid, text = record(rng, i)
        path = os.path.join(dirs[i % NDIRS], rid + ".xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print("%s: %d records in %d directories (seed %d)"
          % (a.dir, a.n, min(a.n, NDIRS), a.seed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
