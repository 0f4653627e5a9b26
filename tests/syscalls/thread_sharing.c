#include "check.h"
#include <pthread.h>
#include <sys/wait.h>

static int opened = -1;
static void *open_and_chdir(void *a)
{
	(void)a;
	opened = open("/etc/passwd", O_RDONLY); /* threads share the descriptor table */
	chdir("/usr");                          /* and the working directory */
	return NULL;
}

int main(void)
{
	CHECK_OK(chdir("/"));
	pthread_t t;
	pthread_create(&t, NULL, open_and_chdir, NULL);
	pthread_join(t, NULL);
	CHECK(opened >= 0 && fcntl(opened, F_GETFD) >= 0);
	char buf[64];
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr") == 0);
	/* A forked child has copies: its changes stay its own. */
	pid_t p = fork();
	if (p == 0) {
		close(opened);
		chdir("/etc");
		_exit(0);
	}
	waitpid(p, NULL, 0);
	CHECK(fcntl(opened, F_GETFD) >= 0);
	CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/usr") == 0);
	DONE();
}
