#include "check.h"

int main(void)
{
	mode_t old = umask(027);
	CHECK(umask(0777) == 027);
	CHECK(umask(01777) == 0777);
	CHECK(umask(old) == 0777);
	DONE();
}
