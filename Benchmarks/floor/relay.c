// The loopback floor of relaying bulk data: a sender, a relay (the "server") and a sink; the relay reads up to
// READ_BYTES at a time and writes each piece on. Prints JSON: the relay's CPU per MiB relayed, counted as
// rpc_bench.py counts it (each MiB received and sent once is 2 MiB relayed).
//
//   relay MIB READ_BYTES PORT
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int dial(int port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int tries = 0; tries < 5000; tries++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) return s;
        close(s);
        usleep(1000);
    }
    perror("connect");
    exit(1);
}

static double seconds(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: relay MIB READ_BYTES PORT\n");
        return 2;
    }
    long mib = atol(argv[1]);
    int chunk = atoi(argv[2]), port = atoi(argv[3]);
    static char buf[1 << 20];
    if (chunk <= 0 || chunk > (int)sizeof buf) chunk = sizeof buf;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 8) != 0) {
        perror("listen");
        return 1;
    }
    if (fork() == 0) {  // the sink connects first
        int s = dial(port);
        while (read(s, buf, sizeof buf) > 0) {}
        return 0;
    }
    int sink = accept(listener, 0, 0);
    if (fork() == 0) {  // then the sender
        int s = dial(port);
        for (long i = 0; i < mib; i++) {
            long sent = 0;
            while (sent < (1 << 20)) {
                int w = write(s, buf + sent, (1 << 20) - sent);
                if (w <= 0) return 1;
                sent += w;
            }
        }
        return 0;
    }
    int source = accept(listener, 0, 0);
    long total = 0;
    for (;;) {
        int r = read(source, buf, chunk);
        if (r <= 0) break;
        for (int sent = 0; sent < r;) {
            int w = write(sink, buf + sent, r - sent);
            if (w <= 0) return 1;
            sent += w;
        }
        total += r;
    }
    close(sink);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    double relayed = 2.0 * total / (1 << 20);
    printf("{\"mib\": %ld, \"read_bytes\": %d, \"cpu_ms_per_mib_relayed\": %.3f, \"system_ms_per_mib_relayed\": %.3f}\n",
           total >> 20, chunk, (seconds(self.ru_utime) + seconds(self.ru_stime)) * 1e3 / relayed,
           seconds(self.ru_stime) * 1e3 / relayed);
    while (wait(0) > 0) {}
    return 0;
}
