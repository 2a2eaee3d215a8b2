/*
 * standalone.c - runs a libFuzzer target without libFuzzer: each file named
 * on the command line (a directory: each file in it, by name) is read and
 * passed to LLVMFuzzerTestOneInput once. This is how `make check` runs every
 * target over its saved corpus with any C compiler (gcc under SAN=1), so CI
 * needs no clang; `make fuzz` links the same targets with clang's libFuzzer
 * instead, to look for new inputs.
 *
 * Exit 0 when every input ran (a crash or sanitizer report ends it earlier),
 * 1 for a file or directory that cannot be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t n_run;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc(len > 0 ? (size_t)len : 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees any read past the input. */
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	n_run++;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "fuzz: cannot open %s\n", dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char **grown;

		if (e->d_name[0] == '.')
			continue;
		if ((grown = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (grown[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL) {
			names = grown ? grown : names;
			rc = 1;
			break;
		}
		names = grown;
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n > 1) /* names is NULL for an empty corpus: qsort takes no NULL */
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = run_file(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int rc = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? run_dir(argv[i])
									 : run_file(argv[i]);

		if (rc != 0)
			return 1;
	}
	printf("%s: %zu inputs\n", argv[0], n_run);
	return 0;
}
