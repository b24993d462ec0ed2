/*
 * notify_retry.c: when to try again, when to give up, and when a target's
 * state is worth a log line.  Pure: the caller brings the clock and the
 * random numbers, so the unit tests can pin the schedule down.
 */
#include <stdint.h>
#include <stdio.h>

#include "notify_int.h"
#include "banned.h"

int64_t
notify_backoff_ms(int attempts, int64_t cap_ms, uint64_t r)
{
	int64_t	 hi, lo;
	int	 shift = attempts > 1 ? attempts - 1 : 0;
	double	 frac;

	if (cap_ms < NOTIFY_BACKOFF_MIN_MS)
		cap_ms = NOTIFY_BACKOFF_MIN_MS;
	/* 2^40 s is beyond any cap conf accepts */
	hi = shift >= 40 ? cap_ms : (int64_t)NOTIFY_BACKOFF_BASE_MS << shift;
	if (hi > cap_ms)
		hi = cap_ms;
	/*
	 * "Equal jitter": half the ceiling is the floor, so a long outage
	 * never degenerates into retries a few milliseconds apart, and the
	 * other half spreads the targets' retries.
	 */
	lo = hi / 2;
	if (lo < NOTIFY_BACKOFF_MIN_MS)
		lo = NOTIFY_BACKOFF_MIN_MS;
	frac = (double)(r >> 11) / 9007199254740992.0;	/* [0, 1) */
	return lo + (int64_t)(frac * (double)(hi - lo + 1));
}

int
notify_coalesce(struct notify_outbox *ob, const struct conf_target *t,
    const char *topic)
{
	struct notify_item	*it;

	if ((it = notify_outbox_find(ob, t, topic)) != NULL) {
		/* on the wire now, maybe sent before this change: once more */
		if (it->in_flight && !it->again) {
			it->again = 1;
			return NOTIFY_Q_AGAIN;
		}
		return NOTIFY_Q_PENDING;
	}
	if (notify_outbox_add(ob, t, topic) == NULL)
		return -1;
	return NOTIFY_Q_NEW;
}

enum notify_next
notify_after_failure(struct notify_item *it, int max_attempts,
    int64_t cap_ms, int64_t now, uint64_t r)
{
	if (it->again) {
		/* superseded while on the wire: a fresh notification */
		it->again = 0;
		it->attempts = 0;
	}
	if (it->attempts < INT32_MAX)
		it->attempts++;
	if (max_attempts > 0 && it->attempts >= max_attempts)
		return NOTIFY_GIVE_UP;
	it->not_before = now + notify_backoff_ms(it->attempts, cap_ms, r);
	return NOTIFY_RETRY;
}

enum notify_transition
notify_health_update(struct notify_health *h, int ok, uint64_t seq,
    int64_t now, int64_t *down_ms, uint64_t *attempts)
{
	if (ok) {
		h->ok_seq++;
		if (!h->is_down)
			return NOTIFY_T_NONE;
		*down_ms = now > h->down_since ? now - h->down_since : 0;
		*attempts = h->down_attempts;
		h->is_down = 0;
		h->down_attempts = 0;
		return NOTIFY_T_UP;
	}
	if (h->is_down) {
		h->down_attempts++;
		return NOTIFY_T_NONE;
	}
	if (seq != h->ok_seq)
		return NOTIFY_T_NONE;	/* it was on the wire when one got in */
	h->is_down = 1;
	h->is_inherited = 0;
	h->down_since = now;
	h->down_attempts = 1;
	return NOTIFY_T_DOWN;
}

void
notify_health_inherit(struct notify_health *h, int64_t last_ok,
    int64_t last_fail)
{
	if (last_fail <= last_ok)
		return;
	h->is_down = 1;
	h->is_inherited = 1;
	h->down_since = last_fail * 1000;	/* at least that long */
	h->down_attempts = 0;
}

void
notify_fmt_duration(char *out, size_t len, int64_t ms)
{
	int64_t	 s = ms / 1000;

	if (ms < 0)
		ms = s = 0;
	if (s >= 3600)
		snprintf(out, len, "%lld h %lld min", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%lld min %lld s", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s >= 10)
		snprintf(out, len, "%lld s", (long long)s);
	else
		snprintf(out, len, "%lld.%lld s", (long long)s,
		    (long long)(ms % 1000 / 100));
}
