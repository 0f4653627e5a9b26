#include "check.h"
#include <sys/prctl.h>

int main(void)
{
	char name[32];
	CHECK_OK(prctl(PR_SET_NAME, "palisade-test-name-too-long"));
	memset(name, 'x', sizeof name);
	CHECK_OK(prctl(PR_GET_NAME, name));
	CHECK(strcmp(name, "palisade-test-n") == 0);
	CHECK_OK(prctl(PR_SET_NAME, "short"));
	CHECK_OK(prctl(PR_GET_NAME, name));
	CHECK(strcmp(name, "short") == 0);
	CHECK(prctl(PR_GET_DUMPABLE) >= 0);
	CHECK_ERR(prctl(PR_SET_DUMPABLE, 5), EINVAL);
	CHECK_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
	int sig = -1;
	CHECK_OK(prctl(PR_GET_PDEATHSIG, &sig));
	CHECK(sig == 0);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 100), EINVAL);
	CHECK_ERR(prctl(PR_GET_NAME, NULL), EFAULT);
	DONE();
}
