#include <inttypes.h>
#include <string.h>

#include "date.h"
#include "metrics.h"
#include "banned.h"

static const int metrics_statuses[METRICS_STATUS_COUNT] = {
	200, 206, 304, 400, 403, 404, 405, 500, 503
};

static const char *const metrics_verbs[METRICS_VERB_COUNT] = {
	"Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers",
	"ListRecords", "GetRecord", "badVerb"
};

static const char *const metrics_routes[METRICS_ROUTE_COUNT] = {
	"home", "feed", "oai", "metrics", "healthz", "status", "other"
};

static const char *const metrics_phases[METRICS_PHASE_COUNT] = {
	"state", "notify", "watch", "list", "rows", "index", "read",
	"snapshot", "documents", "listen"
};

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->started = date_now();
}

const char *
metrics_route_name(enum metrics_route r)
{
	return r < METRICS_ROUTE_COUNT ? metrics_routes[r] : "other";
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
bump(uint64_t *p, uint64_t n)
{
	__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
}

/* This thread's shard: handed out in turn on its first count. */
static struct metrics_shard *
metrics_shard(struct metrics *m)
{
	static unsigned int	 next;
	static __thread int	 mine = -1;

	if (mine == -1)
		mine = (int)(__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) %
		    METRICS_SHARDS);
	return &m->shard[mine];
}

void
metrics_count_request(struct metrics *m, enum metrics_route r, int status,
    uint64_t bytes)
{
	struct metrics_shard	*sh;
	size_t			 i;

	if (m == NULL || r >= METRICS_ROUTE_COUNT)
		return;
	sh = metrics_shard(m);
	for (i = 0; i < METRICS_STATUS_COUNT; i++) {
		if (metrics_statuses[i] == status) {
			bump(&sh->requests[r][i], 1);
			break;
		}
	}
	bump(&sh->bytes_sent, bytes);
}

static uint64_t
metrics_requests(const struct metrics *m, size_t r, size_t i)
{
	uint64_t	 n = 0;
	size_t		 k;

	for (k = 0; k < METRICS_SHARDS; k++)
		n += load(&m->shard[k].requests[r][i]);
	return n;
}

void
metrics_count_verb(struct metrics *m, const char *verb)
{
	size_t	 i;

	if (m == NULL || verb == NULL)
		return;
	for (i = 0; i < METRICS_VERB_COUNT - 1; i++)
		if (strcmp(verb, metrics_verbs[i]) == 0)
			break;
	bump(&m->oai_verbs[i], 1);
}

void
metrics_count_reload(struct metrics *m, int ok, uint64_t ms)
{
	bump(ok ? &m->reloads : &m->reload_failures, 1);
	__atomic_store_n(&m->last_reload_ms, ms, __ATOMIC_RELAXED);
}

void
metrics_set_state(struct metrics *m, int ok)
{
	if (!ok)
		bump(&m->state_failures, 1);
	__atomic_store_n(&m->state_failing, !ok, __ATOMIC_RELAXED);
}

void
metrics_set_parse(struct metrics *m, uint64_t validated, uint64_t cache_hits)
{
	__atomic_store_n(&m->records_validated, validated, __ATOMIC_RELAXED);
	__atomic_store_n(&m->parse_cache_hits, cache_hits, __ATOMIC_RELAXED);
}

void
metrics_set_startup(struct metrics *m, uint64_t total, const uint64_t *ms)
{
	size_t	 i;

	for (i = 0; i < METRICS_PHASE_COUNT; i++)
		__atomic_store_n(&m->phase_ms[i], ms[i], __ATOMIC_RELAXED);
	/* last: a reader seeing the total sees the phases */
	__atomic_store_n(&m->startup_ms, total, __ATOMIC_RELEASE);
}

const char *
metrics_phase_name(enum metrics_phase p)
{
	return p < METRICS_PHASE_COUNT ? metrics_phases[p] : "other";
}

int
metrics_state_ok(const struct metrics *m)
{
	return m == NULL ||
	    !__atomic_load_n(&m->state_failing, __ATOMIC_RELAXED);
}

static int
metrics_header(struct buf *out, const char *name, const char *type,
    const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

int
metrics_render(const struct metrics *m, const struct snap *s, struct buf *out)
{
	uint64_t bytes = 0, n;
	size_t	 r, i;
	int	 rc = 0;

	rc |= metrics_header(out, "pubfeed_http_requests_total", "counter",
	    "HTTP requests answered, by route and status.");
	for (r = 0; r < METRICS_ROUTE_COUNT; r++)
		for (i = 0; i < METRICS_STATUS_COUNT; i++)
			if ((n = metrics_requests(m, r, i)) > 0)
				rc |= buf_printf(out, "pubfeed_http_requests_total"
				    "{route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
				    metrics_routes[r], metrics_statuses[i], n);
	rc |= metrics_header(out, "pubfeed_http_response_bytes_total",
	    "counter", "Body bytes queued for sending.");
	for (i = 0; i < METRICS_SHARDS; i++)
		bytes += load(&m->shard[i].bytes_sent);
	rc |= buf_printf(out, "pubfeed_http_response_bytes_total %" PRIu64
	    "\n", bytes);
	rc |= metrics_header(out, "pubfeed_oai_requests_total", "counter",
	    "OAI-PMH requests, by verb.");
	for (i = 0; i < METRICS_VERB_COUNT; i++)
		rc |= buf_printf(out, "pubfeed_oai_requests_total{verb=\"%s\"} %"
		    PRIu64 "\n", metrics_verbs[i], load(&m->oai_verbs[i]));
	rc |= metrics_header(out, "pubfeed_oai_rejected_total", "counter",
	    "OAI-PMH requests refused with 503 over the concurrency limit.");
	rc |= buf_printf(out, "pubfeed_oai_rejected_total %" PRIu64 "\n",
	    load(&m->oai_rejected));
	rc |= metrics_header(out, "pubfeed_reloads_total", "counter",
	    "Snapshot rebuilds, by outcome.");
	rc |= buf_printf(out, "pubfeed_reloads_total{result=\"ok\"} %" PRIu64
	    "\npubfeed_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    load(&m->reloads), load(&m->reload_failures));
	rc |= metrics_header(out, "pubfeed_reload_duration_seconds", "gauge",
	    "Duration of the last snapshot rebuild.");
	rc |= buf_printf(out, "pubfeed_reload_duration_seconds %.3f\n",
	    (double)load(&m->last_reload_ms) / 1000.0);
	rc |= metrics_header(out, "pubfeed_state_ok", "gauge",
	    "1 while the state commits; 0: changes are not being published.");
	rc |= buf_printf(out, "pubfeed_state_ok %d\n", metrics_state_ok(m));
	rc |= metrics_header(out, "pubfeed_state_commit_failures_total",
	    "counter", "Snapshot changes whose state commit failed.");
	rc |= buf_printf(out, "pubfeed_state_commit_failures_total %" PRIu64
	    "\n", load(&m->state_failures));
	rc |= metrics_header(out, "pubfeed_records_validated_total",
	    "counter", "Record files validated against the record schema.");
	rc |= buf_printf(out, "pubfeed_records_validated_total %" PRIu64 "\n",
	    load(&m->records_validated));
	rc |= metrics_header(out, "pubfeed_parse_cache_hits_total", "counter",
	    "Record files whose validation the parse cache made unneeded.");
	rc |= buf_printf(out, "pubfeed_parse_cache_hits_total %" PRIu64 "\n",
	    load(&m->parse_cache_hits));
	rc |= metrics_header(out, "pubfeed_start_time_seconds", "gauge",
	    "Start time of the process since the epoch.");
	rc |= buf_printf(out, "pubfeed_start_time_seconds %" PRId64 "\n",
	    m->started);
	if (__atomic_load_n(&m->startup_ms, __ATOMIC_ACQUIRE) > 0) {
		rc |= metrics_header(out, "pubfeed_startup_seconds", "gauge",
		    "Start-up until the first snapshot was served.");
		rc |= buf_printf(out, "pubfeed_startup_seconds %.3f\n",
		    (double)m->startup_ms / 1000.0);
		rc |= metrics_header(out, "pubfeed_startup_phase_seconds",
		    "gauge", "Start-up, by phase (in the order they ran).");
		for (i = 0; i < METRICS_PHASE_COUNT; i++)
			rc |= buf_printf(out, "pubfeed_startup_phase_seconds"
			    "{phase=\"%s\"} %.3f\n", metrics_phases[i],
			    (double)load(&m->phase_ms[i]) / 1000.0);
	}
	if (s == NULL)
		return rc ? -1 : 0;
	rc |= metrics_header(out, "pubfeed_records", "gauge",
	    "Records in the current snapshot, by status.");
	rc |= buf_printf(out, "pubfeed_records{status=\"live\"} %zu\n"
	    "pubfeed_records{status=\"deleted\"} %zu\n", s->nlive,
	    s->nitems - s->nlive);
	rc |= metrics_header(out, "pubfeed_invalid_records", "gauge",
	    "Record files left out or served from their last good version.");
	rc |= buf_printf(out, "pubfeed_invalid_records %zu\n", s->ninvalid);
	rc |= metrics_header(out, "pubfeed_snapshot_age_seconds", "gauge",
	    "Seconds since the current snapshot was built.");
	rc |= buf_printf(out, "pubfeed_snapshot_age_seconds %" PRId64 "\n",
	    date_now() - s->created);
	rc |= metrics_header(out, "pubfeed_snapshot_generation", "gauge",
	    "Generation number of the current snapshot.");
	rc |= buf_printf(out, "pubfeed_snapshot_generation %" PRIu64 "\n",
	    s->generation);
	return rc ? -1 : 0;
}
