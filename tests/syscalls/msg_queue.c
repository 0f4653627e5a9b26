/* System V message queues: send/receive by type, truncation, MSG_COPY, full queues, blocking
 * receivers woken by senders and by removal, and the errors of each call. */
#include "check.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m {
	long type;
	char text[64];
};

static int snd(int q, long type, const char *text, int flg)
{
	struct m m = {.type = type};
	strcpy(m.text, text);
	return msgsnd(q, &m, strlen(text) + 1, flg);
}

/* Receive; returns the type, or -errno. */
static long rcv(int q, long type, int flg, char *out)
{
	struct m m;
	ssize_t n = msgrcv(q, &m, sizeof m.text, type, flg);
	if (n < 0)
		return -errno;
	if (out)
		memcpy(out, m.text, n);
	return m.type;
}

int main(void)
{
	key_t key = 0x5c000000 | getpid();
	CHECK_ERR(msgget(key, 0600), ENOENT);
	int q = msgget(key, IPC_CREAT | 0600);
	CHECK(q >= 0);
	CHECK(msgget(key, 0) == q);
	CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);

	/* Empty queue. */
	char buf[64];
	CHECK(rcv(q, 0, IPC_NOWAIT, buf) == -ENOMSG);

	CHECK_OK(snd(q, 3, "three", 0));
	CHECK_OK(snd(q, 1, "one", 0));
	CHECK_OK(snd(q, 2, "two", 0));
	CHECK_OK(snd(q, 1, "uno", 0));
	struct msqid_ds ds;
	CHECK_OK(msgctl(q, IPC_STAT, &ds));
	CHECK(ds.msg_qnum == 4);
	CHECK(ds.__msg_cbytes == 6 + 4 + 4 + 4);
	CHECK(ds.msg_lspid == getpid() && ds.msg_stime > 0 && ds.msg_lrpid == 0);
	CHECK(ds.msg_qbytes == 16384);

	/* MSG_COPY reads by index without removing (and needs IPC_NOWAIT). */
	CHECK(rcv(q, 2, MSG_COPY | IPC_NOWAIT, buf) == 2 && strcmp(buf, "two") == 0);
	CHECK(rcv(q, 9, MSG_COPY | IPC_NOWAIT, buf) == -ENOMSG);
	CHECK(rcv(q, 0, MSG_COPY, buf) == -EINVAL);
	CHECK(rcv(q, 0, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT, buf) == -EINVAL);

	/* By type: exact, any but, lowest up to. */
	CHECK(rcv(q, 1, 0, buf) == 1 && strcmp(buf, "one") == 0);
	CHECK(rcv(q, 3, MSG_EXCEPT, buf) == 2 && strcmp(buf, "two") == 0);
	CHECK(rcv(q, 5, IPC_NOWAIT, buf) == -ENOMSG);
	CHECK(rcv(q, -5, 0, buf) == 1 && strcmp(buf, "uno") == 0);
	CHECK(rcv(q, 0, 0, buf) == 3 && strcmp(buf, "three") == 0);
	CHECK_OK(msgctl(q, IPC_STAT, &ds));
	CHECK(ds.msg_qnum == 0 && ds.__msg_cbytes == 0 && ds.msg_lrpid == getpid());

	/* Too long for the buffer: E2BIG and the message stays, unless MSG_NOERROR truncates. */
	CHECK_OK(snd(q, 7, "a long message", 0));
	struct m small;
	CHECK_ERR(msgrcv(q, &small, 4, 0, 0), E2BIG);
	CHECK(msgrcv(q, &small, 4, 0, MSG_NOERROR) == 4);
	CHECK(small.type == 7 && memcmp(small.text, "a lo", 4) == 0);

	/* Send errors. */
	struct m m = {.type = 0};
	CHECK_ERR(msgsnd(q, &m, 1, 0), EINVAL);
	m.type = 1;
	CHECK_ERR(msgsnd(q, &m, 8193, 0), EINVAL);
	CHECK_ERR(msgsnd(q, &m, (size_t)-1, 0), EINVAL);
	CHECK_ERR(msgsnd(q, (void *)1, 1, 0), EFAULT);
	CHECK_ERR(msgsnd(-1, &m, 1, 0), EINVAL);
	CHECK_ERR(msgsnd(q + 1, &m, 1, 0), EINVAL);
	CHECK_ERR(msgrcv(q, &m, (size_t)-1, 0, 0), EINVAL);
	CHECK_OK(msgsnd(q, &m, 0, 0)); /* empty messages are fine */
	CHECK(msgrcv(q, &m, 64, 0, 0) == 0);

	/* A full queue: IPC_NOWAIT gives EAGAIN; a smaller msg_qbytes fills sooner. */
	CHECK_OK(msgctl(q, IPC_STAT, &ds));
	ds.msg_qbytes = 100;
	CHECK_OK(msgctl(q, IPC_SET, &ds));
	static struct {
		long type;
		char text[100];
	} big = {1, {0}};
	CHECK_OK(msgsnd(q, &big, 60, IPC_NOWAIT));
	CHECK_ERR(msgsnd(q, &big, 60, IPC_NOWAIT), EAGAIN);
	/* A blocked sender proceeds once a receiver makes room. */
	pid_t c = fork();
	if (c == 0)
		_exit(msgsnd(q, &big, 60, 0) == 0 ? 0 : 1);
	usleep(100000);
	CHECK(msgrcv(q, &big, 100, 0, 0) == 60);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(msgrcv(q, &big, 100, 0, IPC_NOWAIT) == 60);

	/* A blocked receiver is woken by the message it waits for (and not by others). */
	c = fork();
	if (c == 0) {
		char b[64];
		long t = rcv(q, 42, 0, b);
		_exit(t == 42 && strcmp(b, "answer") == 0 ? 0 : 1);
	}
	usleep(50000);
	CHECK_OK(snd(q, 41, "other", 0));
	usleep(50000);
	CHECK(waitpid(c, &st, WNOHANG) == 0);
	CHECK_OK(snd(q, 42, "answer", 0));
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(rcv(q, 0, IPC_NOWAIT, buf) == 41);

	/* Removal wakes receivers with EIDRM. */
	c = fork();
	if (c == 0)
		_exit(rcv(q, 0, 0, NULL) == -EIDRM ? 0 : 1);
	usleep(100000);
	CHECK_OK(msgctl(q, IPC_RMID, NULL));
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_ERR(msgctl(q, IPC_STAT, &ds), EINVAL);
	CHECK(msgget(key, 0) == -1 && errno == ENOENT);
	CHECK_ERR(msgctl(q, 4242, &ds), EINVAL);
	DONE();
}
