/*
 * notify_xmlrpc.c: weblogUpdates pings (the weblogs.com interface that
 * Ping-O-Matic and the blog search engines took over).  extendedPing(name,
 * site, check URL, feed) first; a server that answers with a fault or
 * flerror=true may only know the two-argument ping(name, site), which is
 * tried next.  Servers disagree on how flerror is typed (boolean, int,
 * string), so it is read leniently.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "notify_int.h"
#include "xw.h"
#include "banned.h"

#define XMLRPC_TYPE	"text/xml"

int
notify_xmlrpc_call(struct buf *out, const char *method,
    const char *const *params, size_t nparams)
{
	struct xw	 w;
	size_t		 i;

	if (xw_open(&w, out, 0, 1) == -1)
		return -1;
	xw_start(&w, "methodCall");
	xw_elem(&w, "methodName", method);
	xw_start(&w, "params");
	for (i = 0; i < nparams; i++) {
		xw_start(&w, "param");
		xw_start(&w, "value");
		xw_elem(&w, "string", params[i] != NULL ? params[i] : "");
		xw_end(&w);
		xw_end(&w);
	}
	xw_end(&w);
	xw_end(&w);
	return xw_close(&w);
}

int
notify_xmlrpc_build(const struct conf_target *t, const char *topic,
    const struct notify_site *s, int phase, struct notify_msg *m,
    struct err *e)
{
	const char	*ext[4] = { s->name, s->site, s->site, topic };
	struct buf	 b;
	int		 rc;

	buf_init(&b, NOTIFY_RESP_MAX);
	if (phase == 0)
		rc = notify_xmlrpc_call(&b, "weblogUpdates.extendedPing", ext,
		    4);
	else
		rc = notify_xmlrpc_call(&b, "weblogUpdates.ping", ext, 2);
	if (rc == -1) {
		buf_release(&b);
		return err_set(e, "xml-rpc: cannot build the request");
	}
	if ((m->url = strdup(t->url)) == NULL) {
		buf_release(&b);
		return err_set(e, "out of memory");
	}
	m->body = buf_detach(&b, &m->bodylen);
	m->content_type = XMLRPC_TYPE;
	return m->body != NULL ? 0 : err_set(e, "out of memory");
}

/* Element children only: text, comments and PIs between them are noise. */
static xmlNodePtr
elem_first(xmlNodePtr n)
{
	for (n = n != NULL ? n->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr
elem_next(xmlNodePtr n)
{
	for (n = n->next; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static int
elem_is(xmlNodePtr n, const char *name)
{
	return n != NULL && n->ns == NULL &&
	    strcmp((const char *)n->name, name) == 0;
}

/*
 * The scalar in a <value>: its type ("string" when untyped) and its text
 * with surrounding white space trimmed into out.  -1 for a struct/array.
 */
static int
value_scalar(xmlNodePtr v, const char **type, char *out, size_t outsz)
{
	xmlNodePtr	 c = elem_first(v);
	xmlChar		*txt;
	const char	*p;
	size_t		 n;

	*type = "string";
	if (c != NULL) {
		*type = (const char *)c->name;
		if (strcmp(*type, "struct") == 0 ||
		    strcmp(*type, "array") == 0)
			return -1;
	}
	txt = xmlNodeGetContent(c != NULL ? c : v);
	p = txt != NULL ? (const char *)txt : "";
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	xmlFree(txt);
	return 0;
}

/* flerror as boolean, int or string; anything unreadable counts as true. */
static int
flerror_value(xmlNodePtr v)
{
	const char	*type;
	char		 s[64], *end;
	long		 l;

	if (value_scalar(v, &type, s, sizeof(s)) == -1)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 ||
	    (s[0] == '\0' && strcmp(type, "string") == 0))
		return 0;
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	l = strtol(s, &end, 10);
	if (end != s && *end == '\0')
		return l != 0;
	return 1;
}

/* Walk <struct><member><name/><value/></member>...: flerror and text. */
static void
read_struct(xmlNodePtr st, struct notify_xmlrpc_reply *r)
{
	xmlNodePtr	 m, n, v;
	xmlChar		*name;
	const char	*type;

	for (m = elem_first(st); m != NULL; m = elem_next(m)) {
		if (!elem_is(m, "member"))
			continue;
		n = elem_first(m);
		v = n != NULL ? elem_next(n) : NULL;
		if (!elem_is(n, "name") || !elem_is(v, "value"))
			continue;
		name = xmlNodeGetContent(n);
		if (name == NULL)
			continue;
		if (strcmp((const char *)name, "flerror") == 0)
			r->flerror = flerror_value(v);
		else if (strcmp((const char *)name, "message") == 0 ||
		    strcmp((const char *)name, "faultString") == 0)
			value_scalar(v, &type, r->message, sizeof(r->message));
		xmlFree(name);
	}
}

struct xmlrpc_parse {
	int	 doctype;
	char	 first[NOTIFY_REASON_MAX];
};

static void
xmlrpc_doctype(void *ctx, const xmlChar *name, const xmlChar *ext,
    const xmlChar *sys)
{
	xmlParserCtxtPtr	 ctxt = ctx;
	struct xmlrpc_parse	*p = ctxt->_private;

	p->doctype = 1;
	xmlStopParser(ctxt);
}

static void
xmlrpc_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr	 ctxt = ctx;
	struct xmlrpc_parse	*p = ctxt->_private;
	size_t			 n;

	if (p->first[0] != '\0' || err == NULL || err->message == NULL)
		return;
	n = strlen(err->message);
	if (n >= sizeof(p->first))
		n = sizeof(p->first) - 1;
	memcpy(p->first, err->message, n);
	while (n > 0 && p->first[n - 1] == '\n')
		n--;
	p->first[n] = '\0';
}

static xmlDocPtr
xmlrpc_read(const char *buf, size_t len, struct err *e)
{
	struct xmlrpc_parse	 p;
	xmlParserCtxtPtr	 ctxt;
	xmlDocPtr		 doc;

	memset(&p, 0, sizeof(p));
	if (len > NOTIFY_RESP_MAX) {
		err_set(e, "xml-rpc: response too large");
		return NULL;
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	/* no internal subset at all: no DTD, so no entity can be declared */
	ctxt->_private = &p;
	ctxt->sax->internalSubset = xmlrpc_doctype;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->resolveEntity = NULL;
	ctxt->sax->serror = xmlrpc_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc != NULL && (p.doctype || !ctxt->wellFormed)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc == NULL)
		err_set(e, "xml-rpc: %s", p.doctype ?
		    "a DOCTYPE is not allowed in a response" :
		    p.first[0] != '\0' ? p.first : "response is not XML");
	xmlFreeParserCtxt(ctxt);
	return doc;
}

int
notify_xmlrpc_parse(const char *buf, size_t len,
    struct notify_xmlrpc_reply *r, struct err *e)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, c, v;
	const char	*type;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((doc = xmlrpc_read(buf, len, e)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!elem_is(root, "methodResponse")) {
		err_set(e, "xml-rpc: not a methodResponse");
		goto out;
	}
	c = elem_first(root);
	if (elem_is(c, "fault")) {
		r->is_fault = 1;
		if (elem_is(v = elem_first(c), "value") &&
		    elem_is(elem_first(v), "struct"))
			read_struct(elem_first(v), r);
		rc = 0;
		goto out;
	}
	if (!elem_is(c, "params") || !elem_is(c = elem_first(c), "param") ||
	    !elem_is(v = elem_first(c), "value")) {
		err_set(e, "xml-rpc: methodResponse without params or fault");
		goto out;
	}
	if (elem_is(elem_first(v), "struct"))
		read_struct(elem_first(v), r);
	else if (value_scalar(v, &type, r->message, sizeof(r->message)) == 0 &&
	    strcmp(type, "boolean") == 0 && strcmp(r->message, "0") == 0)
		r->flerror = 1;	/* a bare false says it failed */
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}
