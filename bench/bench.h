/*
 * bench.h - what the benchmarks under bench/ share: a clock, percentiles, and
 * the output format.
 *
 * Every program prints its figures as "name value" lines on stdout (one
 * figure per line, value a plain number) so that bench/run.sh can collect
 * them and compute ratios; anything for people goes to stderr.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Microseconds on the monotonic clock: immune to clock changes mid-run. */
static inline double
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v in place (n > 0) so that bench_pct() can read it. */
static inline void
bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp_double);
}

/* The nearest-rank percentile p (0 < p <= 100) of sorted v: a value that was
 * really measured, never an interpolation between two. */
static inline double
bench_pct(const double *v, size_t n, double p)
{
	double exact = p / 100.0 * (double)n;
	size_t rank = (size_t)exact;

	if ((double)rank < exact)
		rank++; /* ceil, without needing libm */
	return v[rank > 0 ? rank - 1 : 0];
}

static inline double
bench_mean(const double *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return sum / (double)n;
}

/* One figure for run.sh. */
static inline void
bench_put(const char *name, double value)
{
	printf("%s %.3f\n", name, value);
}

/* PREFIX.NAME: one figure of a run whose figures share a prefix. */
static inline void
bench_put_in(const char *prefix, const char *name, double value)
{
	char key[256];

	snprintf(key, sizeof key, "%s.%s", prefix, name);
	bench_put(key, value);
}

/* The latencies v (ms, sorted here): PREFIX.WHAT_p50_ms, _p99_ms and
 * _max_ms; nothing if there are none. */
static inline void
bench_put_latency(const char *prefix, const char *what, double *v, size_t n)
{
	static const struct {
		const char *suffix;
		double pct;
	} at[] = {{"p50_ms", 50}, {"p99_ms", 99}, {"max_ms", 100}};
	char key[128];

	if (n == 0)
		return;
	bench_sort(v, n);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		snprintf(key, sizeof key, "%s_%s", what, at[i].suffix);
		bench_put_in(prefix, key, bench_pct(v, n, at[i].pct));
	}
}

/* A positive count from the command line, or exit(2). */
static inline long
bench_count(const char *prog, const char *arg, long max)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "%s: '%s' is not a count from 1 to %ld\n", prog, arg, max);
		exit(2);
	}
	return v;
}

#endif
