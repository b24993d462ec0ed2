/*
 * import_csl: CSL-JSON (what Zotero, Mendeley and JabRef export), read with
 * jansson.  The file is an array of items (a lone item object is taken as
 * an array of one); the position of an item is its 1-based index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "import.h"
#include "banned.h"

/* CSL types, then the "genre" a think tank's report often carries. */
static const struct {
	const char	*csl, *type;
} types[] = {
	{ "report", "report" }, { "article-journal", "article" },
	{ "article-magazine", "article" }, { "article-newspaper", "article" },
	{ "article", "article" }, { "paper-conference", "article" },
	{ "chapter", "chapter" }, { "entry-encyclopedia", "chapter" },
	{ "entry-dictionary", "chapter" }, { "book", "book" },
	{ "dataset", "dataset" }, { "speech", "presentation" },
	{ "presentation", "presentation" }, { "event", "event" },
	{ "post", "news" }, { "post-weblog", "news" }, { "webpage", "news" },
	{ "manuscript", "working-paper" }, { "thesis", "working-paper" },
};

static const struct {
	const char	*genre, *type;
} genres[] = {
	{ "policy brief", "policy-brief" }, { "policy-brief", "policy-brief" },
	{ "working paper", "working-paper" },
	{ "working-paper", "working-paper" },
};

static const char *
str(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string, or a number written as one ("id": 17). */
static int
set_str(char **dst, json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);
	char	 n[32];

	if (json_is_string(v))
		return import_set(dst, json_string_value(v),
		    json_string_length(v));
	if (json_is_integer(v)) {
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(v));
		return import_set(dst, n, (size_t)-1);
	}
	return 0;
}

static int
add_names(struct import_agents *a, json_t *list)
{
	json_t	*p;
	size_t	 i;

	json_array_foreach(list, i, p) {
		if (!json_is_object(p))
			continue;
		if (str(p, "family") != NULL || str(p, "given") != NULL) {
			if (import_agents_add(a, str(p, "family"),
			    str(p, "given"), NULL) == -1)
				return -1;
		} else if (import_agents_add(a, NULL, NULL,
		    str(p, "literal")) == -1)
			return -1;
	}
	return 0;
}

/* One date-parts entry ([2019, 5, 14], numbers or strings) as ISO. */
static char *
date_parts(json_t *parts)
{
	char	 s[32];
	size_t	 n = 0, i;
	long long v;
	json_t	*p;

	if (!json_is_array(parts) || json_array_size(parts) == 0 ||
	    json_array_size(parts) > 3)
		return NULL;
	json_array_foreach(parts, i, p) {
		if (json_is_integer(p))
			v = json_integer_value(p);
		else if (json_is_string(p))
			v = strtoll(json_string_value(p), NULL, 10);
		else
			return NULL;
		if (v < 0 || v > 9999)
			return NULL;
		n += (size_t)snprintf(s + n, sizeof(s) - n, i == 0 ? "%lld" :
		    "-%lld", v);
	}
	return import_date_iso(s, n);
}

/*
 * A CSL date object: date-parts (a range gives end too), else raw or
 * literal.  -1 when present but not a date.
 */
static int
csl_date(json_t *d, char **start, char **end)
{
	json_t		*parts;
	const char	*raw;

	*start = *end = NULL;
	if (d == NULL)
		return 0;
	if (json_is_string(d))
		raw = json_string_value(d);
	else if ((parts = json_object_get(d, "date-parts")) != NULL) {
		if ((*start = date_parts(json_array_get(parts, 0))) == NULL)
			return -1;
		if (json_array_size(parts) > 1 &&
		    (*end = date_parts(json_array_get(parts, 1))) == NULL) {
			free(*start);
			*start = NULL;
			return -1;
		}
		return 0;
	} else if ((raw = str(d, "raw")) == NULL &&
	    (raw = str(d, "literal")) == NULL)
		return -1;
	if (raw == NULL || (*start = import_date_iso(raw, (size_t)-1)) == NULL)
		return -1;
	return 0;
}

/* 0, -1 out of memory, or 1 with *why set (the item is not importable). */
static int
convert(json_t *o, struct import_item *it, const char **why)
{
	const char	*t, *g, *kw;
	char		*a, *b;
	size_t		 i;

	if (!json_is_object(o)) {
		*why = "item is not a JSON object";
		return 1;
	}
	if (set_str(&it->key, o, "citation-key") == -1 ||
	    set_str(&it->key, o, "citationKey") == -1)
		return -1;
	if (it->key == NULL && (t = str(o, "id")) != NULL &&
	    strstr(t, "://") == NULL && import_set(&it->key, t, (size_t)-1)
	    == -1)
		return -1;
	if (it->key == NULL && json_is_integer(json_object_get(o, "id")) &&
	    set_str(&it->key, o, "id") == -1)
		return -1;
	if ((t = str(o, "type")) == NULL) {
		*why = "item has no \"type\"";
		return 1;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i].csl) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		*why = "\"type\" is not one pubfeed can map to a record type";
		return 1;
	}
	t = types[i].type;
	if ((g = str(o, "genre")) != NULL)
		for (i = 0; i < sizeof(genres) / sizeof(genres[0]); i++)
			if (strcasecmp(g, genres[i].genre) == 0)
				t = genres[i].type;
	if (import_set(&it->type, t, (size_t)-1) == -1 ||
	    set_str(&it->lang, o, "language") == -1 ||
	    import_texts_add(&it->titles, NULL, str(o, "title"),
	    (size_t)-1) == -1 ||
	    add_names(&it->authors, json_object_get(o, "author")) == -1 ||
	    add_names(&it->editors, json_object_get(o, "editor")) == -1 ||
	    set_str(&it->publisher, o, "publisher") == -1 ||
	    import_texts_add(&it->abstracts, NULL, str(o, "abstract"),
	    (size_t)-1) == -1 ||
	    set_str(&it->place, o, "publisher-place") == -1 ||
	    set_str(&it->series, o, "collection-title") == -1 ||
	    set_str(&it->series, o, "container-title") == -1 ||
	    set_str(&it->doi, o, "DOI") == -1 ||
	    set_str(&it->url, o, "URL") == -1 ||
	    set_str(&it->event_place, o, "event-place") == -1)
		return -1;
	if (it->lang != NULL &&
	    import_strs_add(&it->languages, it->lang, (size_t)-1) == -1)
		return -1;
	if ((t = str(o, "ISBN")) != NULL &&
	    import_strs_split(&it->isbns, t, (size_t)-1, ',') == -1)
		return -1;
	if ((t = str(o, "ISSN")) != NULL &&
	    import_strs_split(&it->issns, t, (size_t)-1, ',') == -1)
		return -1;
	if ((kw = str(o, "keyword")) != NULL &&
	    import_texts_split(&it->subjects, NULL, kw, (size_t)-1,
	    strchr(kw, ';') != NULL ? ';' : ',') == -1)
		return -1;
	if (csl_date(json_object_get(o, "issued"), &a, &b) == -1) {
		*why = "\"issued\" is not a date";
		return 1;
	}
	it->issued = a;
	free(b);
	if (csl_date(json_object_get(o, "event-date"), &a, &b) == -1) {
		*why = "\"event-date\" is not a date";
		return 1;
	}
	it->event_start = a;
	it->event_end = b;
	return 0;
}

int
import_csl_parse(const char *buf, size_t len, import_item_fn *fn, void *arg,
    struct err *e)
{
	struct import_item	 it;
	json_error_t		 je;
	json_t			*root, *list, *o;
	const char		*why;
	size_t			 i;
	int			 rc = -1, c;

	if ((root = json_loadb(buf, len, 0, &je)) ==
	    NULL)
		return err_set(e, "%d:%d: not CSL-JSON: %s", je.line, je.column,
		    je.text);
	if (json_is_object(root) && json_object_get(root, "items") != NULL)
		list = json_object_get(root, "items");
	else
		list = root;
	if (!json_is_array(list) && !json_is_object(list)) {
		err_set(e, "1: not CSL-JSON: expected an array of items");
		goto out;
	}
	for (i = 0; i < (json_is_array(list) ? json_array_size(list) : 1);
	    i++) {
		o = json_is_array(list) ? json_array_get(list, i) : list;
		import_item_init(&it);
		why = NULL;
		if ((c = convert(o, &it, &why)) == -1) {
			import_item_release(&it);
			err_set(e, "%zu: out of memory", i + 1);
			goto out;
		}
		c = fn(arg, c == 1 ? NULL : &it, (long)(i + 1), why);
		import_item_release(&it);
		if (c == -1) {
			err_set(e, "%zu: out of memory", i + 1);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
