/* personality(2): the query value 0xffffffff, the old persona returned on each change, what
 * uname shows under PER_LINUX32 (i686) and UNAME26 (2.6.x), READ_IMPLIES_EXEC making
 * readable mappings executable, /proc/self/personality, inheritance by fork and across
 * execve (which drops READ_IMPLIES_EXEC for a 64-bit program). */
#include "check.h"
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/utsname.h>

static unsigned query(void)
{
	return (unsigned)personality(0xffffffff);
}

/* The permissions /proc/self/maps shows for the mapping at `p`. */
static void perms(void *p, char *out)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	out[0] = 0;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char pr[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && (unsigned long)p >= lo &&
		    (unsigned long)p < hi)
			strcpy(out, pr);
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* After execve: ADDR_NO_RANDOMIZE kept, READ_IMPLIES_EXEC gone. */
		return query() == (PER_LINUX | ADDR_NO_RANDOMIZE) ? 0 : 7;
	}
	unsigned orig = query();
	CHECK(orig != 0xffffffff);
	struct utsname u;

	CHECK((unsigned)personality(PER_LINUX32) == orig);
	CHECK(query() == PER_LINUX32);
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.machine, "i686") == 0);
	char buf[32];
	FILE *f = fopen("/proc/self/personality", "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(buf, sizeof buf, f) && strcmp(buf, "00000008\n") == 0);
		fclose(f);
	}

	CHECK((unsigned)personality(PER_LINUX | UNAME26) == PER_LINUX32);
	CHECK_OK(uname(&u));
	CHECK(strncmp(u.release, "2.6.", 4) == 0);
	CHECK(strcmp(u.machine, "x86_64") == 0);

	CHECK((unsigned)personality(PER_LINUX) == (PER_LINUX | UNAME26));
	CHECK_OK(uname(&u));
	CHECK(strncmp(u.release, "2.6.", 4) != 0);

	/* READ_IMPLIES_EXEC: a readable mapping is executable too. */
	char pr[8];
	void *a = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perms(a, pr);
	CHECK(strcmp(pr, "r--p") == 0);
	personality(PER_LINUX | READ_IMPLIES_EXEC);
	void *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perms(b, pr);
	CHECK(strcmp(pr, "rwxp") == 0);
	CHECK_OK(mprotect(a, 4096, PROT_READ));
	perms(a, pr);
	CHECK(strcmp(pr, "r-xp") == 0);
	/* Not for a mapping without read access. */
	void *c = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	perms(c, pr);
	CHECK(strcmp(pr, "---p") == 0);

	/* fork keeps the persona; execve of a 64-bit program drops READ_IMPLIES_EXEC. */
	personality(PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC);
	pid_t p = fork();
	if (p == 0) {
		if (query() != (PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC))
			_exit(6);
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(5);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	personality(orig);
	CHECK(query() == orig);
	DONE();
}
