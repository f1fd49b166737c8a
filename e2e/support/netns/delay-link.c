/*
 * A point-to-point link that delays every packet by a fixed time, in each direction: the
 * stand-in for `tc qdisc add … netem delay` on kernels built without sch_netem (the network
 * tests and the benchmark use netem when the kernel has it, this otherwise).
 *
 *   delay-link <tun-a> <tun-b> <delay-ms>
 *
 * Creates two TUN devices (layer 3, no packet info) in the current network namespace and
 * prints "ready". The caller then moves one of them to another namespace (a TUN device keeps
 * its file descriptor when moved), addresses both ends, and IP packets written into one come
 * out of the other <delay-ms> later, in order. A full queue drops, as a router's would.
 * Ends on SIGTERM/SIGINT, or when its standard input closes (its parent died).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 8192
#define SLOT_BYTES 2048

struct queue {
  unsigned head, tail; /* head: next to send; tail: next free */
  uint64_t due[SLOTS];
  uint16_t len[SLOTS];
  unsigned char data[SLOTS][SLOT_BYTES];
};

static struct queue q[2];

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int open_tun(const char *name) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (strlen(name) >= IFNAMSIZ) return -1;
  strcpy(ifr.ifr_name, name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return -1;
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: delay-link <tun-a> <tun-b> <delay-ms>\n");
    return 2;
  }
  long delay_ms = strtol(argv[3], NULL, 10);
  if (delay_ms < 0 || delay_ms > 10000) {
    fprintf(stderr, "delay-link: delay must be 0-10000 ms\n");
    return 2;
  }
  uint64_t delay = (uint64_t)delay_ms * 1000u;
  int fd[2] = {open_tun(argv[1]), open_tun(argv[2])};
  if (fd[0] < 0 || fd[1] < 0) {
    perror("delay-link: cannot create TUN devices");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  struct pollfd pfd[3] = {{fd[0], POLLIN, 0}, {fd[1], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    uint64_t t = now_us();
    int timeout = -1;
    /* Send what is due; the queue of direction d carries packets read from fd[d] to fd[1-d]. */
    for (int d = 0; d < 2; d++) {
      struct queue *qu = &q[d];
      while (qu->head != qu->tail && qu->due[qu->head % SLOTS] <= t) {
        unsigned i = qu->head % SLOTS;
        if (write(fd[1 - d], qu->data[i], qu->len[i]) < 0 && errno == EAGAIN) break;
        qu->head++;
      }
      if (qu->head != qu->tail) {
        uint64_t wait = qu->due[qu->head % SLOTS] - t;
        int ms = (int)((wait + 999) / 1000);
        if (timeout < 0 || ms < timeout) timeout = ms;
      }
    }
    if (poll(pfd, 3, timeout) < 0) {
      if (errno == EINTR) continue;
      perror("delay-link: poll");
      return 1;
    }
    if (pfd[2].revents & (POLLIN | POLLHUP)) {
      char buf[64];
      if (read(STDIN_FILENO, buf, sizeof buf) <= 0) return 0; /* parent gone */
    }
    t = now_us();
    for (int d = 0; d < 2; d++) {
      if (!(pfd[d].revents & POLLIN)) continue;
      struct queue *qu = &q[d];
      for (;;) {
        unsigned char scratch[SLOT_BYTES];
        int full = qu->tail - qu->head >= SLOTS;
        unsigned i = qu->tail % SLOTS;
        ssize_t n = read(fd[d], full ? scratch : qu->data[i], SLOT_BYTES);
        if (n <= 0) break;
        if (full) continue; /* dropped */
        qu->len[i] = (uint16_t)n;
        qu->due[i] = t + delay;
        qu->tail++;
      }
    }
  }
}
