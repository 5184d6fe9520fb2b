// The loopback floor of a call through a server: a client, a relay (the "server") and an echo process, plain
// blocking sockets and epoll, no framing. A round trip is four socket transits, as an echo call through the
// engine is. Prints JSON: latency percentiles and the CPU all three processes used per round trip.
//
//   pingpong ROUND_TRIPS PORT
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void no_delay(int s) {
    int on = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int dial(int port) {
    struct sockaddr_in a = loopback(port);
    for (int tries = 0; tries < 5000; tries++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            no_delay(s);
            return s;
        }
        close(s);
        usleep(1000);
    }
    perror("connect");
    exit(1);
}

static double seconds(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

static int compare(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: pingpong ROUND_TRIPS PORT\n");
        return 2;
    }
    int n = atoi(argv[1]), port = atoi(argv[2]);
    char buf[64];
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = loopback(port);
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 8) != 0) {
        perror("listen");
        return 1;
    }
    if (fork() == 0) {  // the relay: whatever one side sends goes to the other
        int first = accept(listener, 0, 0), second = accept(listener, 0, 0);
        no_delay(first);
        no_delay(second);
        int ep = epoll_create1(0);
        struct epoll_event e = {.events = EPOLLIN};
        e.data.fd = first;
        epoll_ctl(ep, EPOLL_CTL_ADD, first, &e);
        e.data.fd = second;
        epoll_ctl(ep, EPOLL_CTL_ADD, second, &e);
        for (;;) {
            struct epoll_event ready[2];
            int k = epoll_wait(ep, ready, 2, 10000);
            if (k <= 0) return 0;
            for (int i = 0; i < k; i++) {
                int fd = ready[i].data.fd;
                int r = read(fd, buf, sizeof buf);
                if (r <= 0) return 0;
                if (write(fd == first ? second : first, buf, r) != r) return 1;
            }
        }
    }
    close(listener);
    int echo_side = dial(port);
    if (fork() == 0) {  // the echo service
        for (;;) {
            int r = read(echo_side, buf, sizeof buf);
            if (r <= 0) return 0;
            if (write(echo_side, buf, r) != r) return 1;
        }
    }
    usleep(100000);
    int s = dial(port);
    double *latency = malloc(n * sizeof(double));
    const char message[] = "hello-imjoy-bench";
    for (int i = 0; i < n; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (write(s, message, sizeof message - 1) != sizeof message - 1) return 1;
        int got = 0;
        while (got < (int)sizeof message - 1) {
            int r = read(s, buf + got, sizeof buf - got);
            if (r <= 0) return 1;
            got += r;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        latency[i] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    }
    close(s);
    close(echo_side);
    while (wait(0) > 0) {}
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    double cpu = seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) + seconds(children.ru_stime);
    qsort(latency, n, sizeof(double), compare);
    printf("{\"round_trips\": %d, \"p50_us\": %.1f, \"p99_us\": %.1f, \"cpu_us_per_round_trip\": %.1f}\n", n,
           latency[n / 2], latency[n * 99 / 100], cpu * 1e6 / n);
    return 0;
}
