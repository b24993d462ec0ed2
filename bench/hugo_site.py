#!/usr/bin/python3
"""bench/hugo_site.py SITE RECORD.xml...: a minimal Hugo site of records.

For bench/export.sh: Hugo (Debian's hugo 0.111) on the same records as
pubfeed export.  Writes SITE/config.toml and two layouts (once), and one
content page per record, SITE/content/records/ID.md, with its title (the
first), date (issued) and abstract (the first) as the body.  The home page
and the records section are lists with RSS (50 items, as the benchmark's
feed-entries 50).  Records are read from the files named on the command
line, so a change can regenerate only its own page.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

NS = "{https://pubfeed.org/ns/record/1}"
CONFIG = """baseURL = "http://127.0.0.1/"
title = "Pubfeed Benchmark"
languageCode = "en"
rssLimit = 50
disableKinds = ["taxonomy", "term", "sitemap", "robotsTXT", "404"]
[outputs]
home = ["HTML", "RSS"]
section = ["HTML", "RSS"]
"""
SINGLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><h1>{{ .Title }}</h1><p><time>{{ .Date.Format "2006-01-02" }}</time></p>
{{ .Content }}</body></html>
"""
LIST = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" \
type="application/rss+xml" href="{{ .Permalink }}">{{ end }}
</head><body><h1>{{ .Title }}</h1><ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> \
{{ .Date.Format "2006-01-02" }}</li>
{{ end }}</ul></body></html>
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def date(issued):
    """Hugo wants a full date: a year or year-month gets its first day."""
    return (issued + "-01-01")[:10] if len(issued) < 10 else issued[:10]


def main(site, paths):
    if not os.path.exists(os.path.join(site, "config.toml")):
        write(os.path.join(site, "config.toml"), CONFIG)
        write(os.path.join(site, "layouts", "_default", "single.html"),
              SINGLE)
        write(os.path.join(site, "layouts", "_default", "list.html"), LIST)
    out = os.path.join(site, "content", "records")
    os.makedirs(out, exist_ok=True)
    for path in paths:
        r = ET.parse(path).getroot()
        title = r.find(NS + "title").text or ""
        ab = r.find(NS + "abstract")
        write(os.path.join(out, r.get("id") + ".md"),
              "---\ntitle: %s\ndate: %s\n---\n%s\n" % (
                  json.dumps(title), date(r.find(NS + "issued").text),
                  ab.text if ab is not None and ab.text else ""))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: hugo_site.py SITE RECORD.xml...")
    main(sys.argv[1], sys.argv[2:])
