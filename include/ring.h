/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ring.h - a worker's io_uring (liburing), for the transfer sockets of the
 * default mode: one multishot receive per socket into a shared pool of
 * provided buffers, every datagram sent an SQE, and one io_uring_enter
 * per loop turn for all of them (submit and wait), where the epoll loop
 * makes a recvfrom and a sendmmsg per block.
 *
 * The ring is restricted before it is enabled (IORING_REGISTER_
 * RESTRICTIONS): it runs only RECVMSG, SENDMSG, POLL_ADD and ASYNC_CANCEL,
 * with no SQE flag but buffer selection and skipped success completions,
 * and accepts no further registration. seccomp does not see what a ring
 * does, so this keeps the ring inside what the worker's filter allows
 * anyway (sendmsg, recvmsg, epoll). Set up before the filter goes on;
 * afterwards the loop needs only io_uring_enter.
 */
#ifndef PTFTPD_RING_H
#define PTFTPD_RING_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <liburing.h>

struct ring {
	struct io_uring		 uring;
	struct io_uring_buf_ring *br;
	size_t			 br_len;
	uint8_t			*bufs;		/* nbufs x bufsz */
	size_t			 bufsz;
	size_t			 payload;	/* longer datagrams: trunc */
	unsigned		 nbufs;
	unsigned		 skip;		/* IOSQE_CQE_SKIP_SUCCESS */
	bool			 up;
	struct msghdr		 rxmsg;		/* multishot layout */
};

/* A datagram received into a provided buffer. */
struct ring_dgram {
	const uint8_t		*data;
	size_t			 len;		/* bytes in data */
	bool			 trunc;		/* longer than the buffer */
	struct sockaddr_storage	 from;
};

/*
 * Create, restrict and enable a ring of `entries` SQEs with nbufs provided
 * buffers of room for `payload` bytes of datagram each. Returns 0, or -1
 * with *why saying what this kernel or its settings refuse (io_uring off by
 * sysctl or a container's filter, no provided buffer rings before 5.19,
 * no multishot recvmsg before 6.0); the caller then stays on epoll.
 */
int	ring_init(struct ring *r, unsigned entries, unsigned nbufs,
	    size_t payload, const char **why);
void	ring_free(struct ring *r);

/* An SQE; a full submission queue is submitted first. NULL only if the
 * queue stays full (the ring is broken). */
struct io_uring_sqe *ring_sqe(struct ring *r);

/* Arm fd's multishot receive (user data ud). poll_first: the socket is
 * new and surely empty. Returns 0 or -1 (no SQE). */
int	ring_recv(struct ring *r, int fd, uint64_t ud, bool poll_first);
/* Queue sendmsg(fd, h, MSG_DONTWAIT): a full socket buffer fails the send
 * at once (-EAGAIN), it is never retried later, so h and what it points
 * at are read during the next submit and not after. A success posts no
 * completion. Returns 0 or -1. */
int	ring_send(struct ring *r, int fd, const struct msghdr *h, uint64_t ud);
/* Cancel the request with user data target; a success posts nothing. */
int	ring_cancel(struct ring *r, uint64_t target, uint64_t ud);
/* One-shot POLLIN on fd: completes at once if fd is readable already. */
int	ring_poll(struct ring *r, int fd, uint64_t ud);

/* Submit what is queued. Returns 0, or -1 with errno. */
int	ring_submit(struct ring *r);
/* Submit, then wait up to timeout_ms (-1: no limit) for a completion with
 * the signal mask set to *mask (NULL: unchanged). Returns 0 (completions
 * or a timeout), or -1 with errno (EINTR: a signal). */
int	ring_wait(struct ring *r, int timeout_ms, const sigset_t *mask);
/* The next completion, or NULL; pending task work is run first when the
 * kernel says some is left. Mark it seen with ring_seen. */
struct io_uring_cqe *ring_peek(struct ring *r);
void	ring_seen(struct ring *r, struct io_uring_cqe *cqe);

/*
 * The datagram of a receive completion (res, flags): 1 with *d filled and
 * *bid the buffer to give back (ring_give_back), 0 when the completion
 * carried no buffer, -1 when the buffer holds no valid header (*bid still
 * set when a buffer came).
 */
int	ring_dgram(const struct ring *r, int res, uint32_t flags,
	    struct ring_dgram *d, int *bid);
void	ring_give_back(struct ring *r, int bid);

#endif
