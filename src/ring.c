/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ring.c - a worker's io_uring: setup (restricted, then enabled), the
 * provided buffer pool for multishot receives, and thin helpers to queue
 * receives, sends, cancels and polls. See ring.h. It owns no session
 * state: wio_uring.c and txq.c decide what to queue and what a
 * completion means.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ring.h"

#define RING_BGID	1
#define RING_NAMELEN	((unsigned)sizeof(struct sockaddr_in6))
#define RING_PROBE_UD	(~(uint64_t)0)

/* Debian 12's liburing 2.3 declares io_uring_register_restrictions and
 * io_uring_enable_rings but does not export them: the system call. */
static int
ring_register(struct ring *r, unsigned op, const void *arg, unsigned n)
{
	if (syscall(__NR_io_uring_register, r->uring.ring_fd, op, arg, n) < 0)
		return -errno;
	return 0;
}

/* Only what the worker's own calls do; see ring.h. */
static int
ring_restrict(struct ring *r)
{
	static const uint8_t	 ops[] = {
		IORING_OP_RECVMSG, IORING_OP_SENDMSG, IORING_OP_POLL_ADD,
		IORING_OP_ASYNC_CANCEL,
	};
	struct io_uring_restriction res[sizeof(ops) + 1];
	unsigned		 i, n = 0;

	memset(res, 0, sizeof(res));
	for (i = 0; i < sizeof(ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_BUFFER_SELECT | (uint8_t)r->skip;
	return ring_register(r, IORING_REGISTER_RESTRICTIONS, res, n);
}

/* Does this kernel do multishot recvmsg (6.0)? Arm one on an idle socket
 * and cancel it: -ECANCELED says yes, -EINVAL no. */
static bool
ring_probe(struct ring *r)
{
	struct io_uring_cqe	*cqe;
	struct __kernel_timespec ts = { .tv_sec = 1 };
	int			 fd, res = -EINVAL, i;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return false;
	if (ring_recv(r, fd, RING_PROBE_UD, true) == -1 ||
	    ring_cancel(r, RING_PROBE_UD, RING_PROBE_UD - 1) == -1 ||
	    ring_submit(r) == -1) {
		close(fd);
		return false;
	}
	for (i = 0; i < 4; i++) {
		if (io_uring_wait_cqe_timeout(&r->uring, &cqe, &ts) != 0)
			break;
		if (cqe->user_data == RING_PROBE_UD &&
		    !(cqe->flags & IORING_CQE_F_MORE)) {
			res = cqe->res;
			if (cqe->flags & IORING_CQE_F_BUFFER)
				ring_give_back(r, (int)(cqe->flags >>
				    IORING_CQE_BUFFER_SHIFT));
			io_uring_cqe_seen(&r->uring, cqe);
			break;
		}
		io_uring_cqe_seen(&r->uring, cqe);
	}
	close(fd);
	/* The cancel's completion, if still to come, is a stranger's: the
	 * backend (wio_uring.c) ignores user data it does not know. */
	return res == -ECANCELED;
}

static int
ring_setup(struct ring *r, unsigned entries, unsigned cq)
{
	/*
	 * Cooperative task work: received datagrams are copied into their
	 * buffers whenever the worker returns from a system call, with no
	 * interrupt. Not DEFER_TASKRUN (work only inside io_uring_enter):
	 * measured at 1,000 clients, its p99 RRQ-to-first-DATA was 4.5 to
	 * 8.5 ms against 2.3 to 2.6 ms, for the same throughput; newer
	 * kernels run a bounded number of deferred items per enter.
	 */
	static const unsigned	 setups[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
		    IORING_SETUP_SUBMIT_ALL,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
		0,
	};
	struct io_uring_params	 p;
	unsigned		 i;
	int			 rc = -EINVAL;

	for (i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = setups[i] | IORING_SETUP_R_DISABLED |
		    IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		p.cq_entries = cq;
		rc = io_uring_queue_init_params(entries, &r->uring, &p);
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0)
		return rc;
	r->skip = (p.features & IORING_FEAT_CQE_SKIP) ?
	    IOSQE_CQE_SKIP_SUCCESS : 0;
	return 0;
}

static int
ring_buffers(struct ring *r, unsigned nbufs, size_t payload)
{
	struct io_uring_buf_reg	 reg;
	unsigned		 i;

	r->nbufs = nbufs;
	r->payload = payload;
	r->bufsz = (sizeof(struct io_uring_recvmsg_out) + RING_NAMELEN +
	    payload + 7) & ~(size_t)7;
	r->br_len = ((size_t)nbufs * sizeof(struct io_uring_buf) + 4095) &
	    ~(size_t)4095;
	r->br = mmap(NULL, r->br_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Populated now: the ring hands buffers out in turn, so all of them
	 * are touched soon anyway; RSS is then flat from the start. */
	r->bufs = mmap(NULL, (size_t)nbufs * r->bufsz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->br == MAP_FAILED || r->bufs == MAP_FAILED) {
		if (r->br == MAP_FAILED)
			r->br = NULL;
		if (r->bufs == MAP_FAILED)
			r->bufs = NULL;
		return -ENOMEM;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)r->br;
	reg.ring_entries = nbufs;
	reg.bgid = RING_BGID;
	if (io_uring_register_buf_ring(&r->uring, &reg, 0) < 0)
		return -EINVAL;
	io_uring_buf_ring_init(r->br);
	for (i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(r->br, r->bufs + (size_t)i * r->bufsz,
		    (unsigned)r->bufsz, (unsigned short)i,
		    io_uring_buf_ring_mask(nbufs), (int)i);
	io_uring_buf_ring_advance(r->br, (int)nbufs);
	memset(&r->rxmsg, 0, sizeof(r->rxmsg));
	r->rxmsg.msg_namelen = RING_NAMELEN;
	return 0;
}

int
ring_init(struct ring *r, unsigned entries, unsigned nbufs, size_t payload,
    const char **why)
{
	int	 rc;

	memset(r, 0, sizeof(*r));
	/* nbufs must be a power of two (the buffer ring's mask). */
	while (nbufs & (nbufs - 1))
		nbufs &= nbufs - 1;
	rc = ring_setup(r, entries, 2 * nbufs + 2 * entries);
	if (rc < 0) {
		*why = rc == -EPERM ? "not permitted (sysctl "
		    "kernel.io_uring_disabled, or a container's filter)" :
		    rc == -ENOSYS ? "not in this kernel" :
		    "io_uring_setup failed";
		errno = -rc;
		return -1;
	}
	r->up = true;
	if ((rc = ring_buffers(r, nbufs, payload)) < 0) {
		*why = rc == -ENOMEM ? "no memory for the buffer pool" :
		    "no provided buffer rings (kernel 5.19)";
		goto fail;
	}
	if ((rc = ring_restrict(r)) < 0) {
		*why = "cannot restrict the ring (kernel 5.10)";
		goto fail;
	}
	if ((rc = ring_register(r, IORING_REGISTER_ENABLE_RINGS, NULL,
	    0)) < 0) {
		*why = "cannot enable the ring";
		goto fail;
	}
	if (!ring_probe(r)) {
		rc = -EINVAL;
		*why = "no multishot recvmsg (kernel 6.0)";
		goto fail;
	}
	return 0;
fail:
	ring_free(r);
	errno = -rc;
	return -1;
}

void
ring_free(struct ring *r)
{
	if (r->up)
		io_uring_queue_exit(&r->uring);
	r->up = false;
	if (r->br != NULL)
		munmap(r->br, r->br_len);
	if (r->bufs != NULL)
		munmap(r->bufs, (size_t)r->nbufs * r->bufsz);
	r->br = NULL;
	r->bufs = NULL;
}

struct io_uring_sqe *
ring_sqe(struct ring *r)
{
	struct io_uring_sqe	*sqe = io_uring_get_sqe(&r->uring);

	if (sqe == NULL) {
		(void)ring_submit(r);
		sqe = io_uring_get_sqe(&r->uring);
	}
	return sqe;
}

int
ring_recv(struct ring *r, int fd, uint64_t ud, bool poll_first)
{
	struct io_uring_sqe	*sqe = ring_sqe(r);

	if (sqe == NULL)
		return -1;
	io_uring_prep_recvmsg_multishot(sqe, fd, &r->rxmsg, 0);
	if (poll_first)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RING_BGID;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int
ring_send(struct ring *r, int fd, const struct msghdr *h, uint64_t ud)
{
	struct io_uring_sqe	*sqe = ring_sqe(r);

	if (sqe == NULL)
		return -1;
	io_uring_prep_sendmsg(sqe, fd, h, MSG_DONTWAIT);
	sqe->flags |= (uint8_t)r->skip;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int
ring_cancel(struct ring *r, uint64_t target, uint64_t ud)
{
	struct io_uring_sqe	*sqe = ring_sqe(r);

	if (sqe == NULL)
		return -1;
	io_uring_prep_cancel64(sqe, target, 0);
	sqe->flags |= (uint8_t)r->skip;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int
ring_poll(struct ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe	*sqe = ring_sqe(r);

	if (sqe == NULL)
		return -1;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int
ring_submit(struct ring *r)
{
	int	 rc;

	do
		rc = io_uring_submit(&r->uring);
	while (rc == -EINTR);
	if (rc < 0 && rc != -EAGAIN && rc != -EBUSY) {
		errno = -rc;
		return -1;
	}
	return 0;
}

int
ring_wait(struct ring *r, int timeout_ms, const sigset_t *mask)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe	*cqe;
	int			 rc;

	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
	rc = io_uring_submit_and_wait_timeout(&r->uring, &cqe, 1,
	    timeout_ms >= 0 ? &ts : NULL, (sigset_t *)mask);
	if (rc < 0 && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY) {
		errno = -rc;
		return -1;
	}
	return 0;
}

struct io_uring_cqe *
ring_peek(struct ring *r)
{
	struct io_uring_cqe	*cqe = NULL;

	if (io_uring_peek_cqe(&r->uring, &cqe) != 0)
		return NULL;
	return cqe;
}

void
ring_seen(struct ring *r, struct io_uring_cqe *cqe)
{
	io_uring_cqe_seen(&r->uring, cqe);
}

int
ring_dgram(const struct ring *r, int res, uint32_t flags,
    struct ring_dgram *d, int *bid)
{
	struct io_uring_recvmsg_out	*o;
	struct msghdr			 h = r->rxmsg;
	uint8_t				*buf;
	unsigned			 nl;

	*bid = -1;
	if (!(flags & IORING_CQE_F_BUFFER))
		return 0;
	*bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
	if (res < 0 || (unsigned)*bid >= r->nbufs)
		return -1;
	buf = r->bufs + (size_t)*bid * r->bufsz;
	o = io_uring_recvmsg_validate(buf, res, &h);
	if (o == NULL)
		return -1;
	memset(&d->from, 0, sizeof(d->from));
	nl = o->namelen < RING_NAMELEN ? o->namelen : RING_NAMELEN;
	memcpy(&d->from, io_uring_recvmsg_name(o), nl);
	d->data = io_uring_recvmsg_payload(o, &h);
	d->len = io_uring_recvmsg_payload_length(o, res, &h);
	d->trunc = (o->flags & MSG_TRUNC) != 0;
	/* The rounding of bufsz leaves a few bytes more: the limit is
	 * payload, whatever the rounding. */
	if (d->len > r->payload) {
		d->len = r->payload;
		d->trunc = true;
	}
	return 1;
}

void
ring_give_back(struct ring *r, int bid)
{
	if (bid < 0 || (unsigned)bid >= r->nbufs)
		return;
	io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->bufsz,
	    (unsigned)r->bufsz, (unsigned short)bid,
	    io_uring_buf_ring_mask(r->nbufs), 0);
	io_uring_buf_ring_advance(r->br, 1);
}
