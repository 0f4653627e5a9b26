#include "check.h"
#include <linux/futex.h>

int main(void)
{
	struct robust_list_head *head = NULL;
	size_t len = 0;
	/* glibc registered one already. */
	CHECK_OK(syscall(SYS_get_robust_list, 0, &head, &len));
	CHECK(head != NULL && len == sizeof(struct robust_list_head));
	struct robust_list_head mine = { { &mine.list }, 0, NULL };
	CHECK_OK(syscall(SYS_set_robust_list, &mine, sizeof mine));
	CHECK_OK(syscall(SYS_get_robust_list, 0, &head, &len));
	CHECK(head == &mine);
	CHECK_ERR(syscall(SYS_set_robust_list, &mine, 10), EINVAL);
	CHECK_ERR(syscall(SYS_get_robust_list, 0, NULL, &len), EFAULT);
	DONE();
}
