/*
 * Fake `lib/ollama/llama-server` for the Ollama simulator's 0.30+ profile (test/sim/README.md, "processes").
 * A real executable, because the runner's /proc/<pid>/exe must be `<dir>/lib/ollama/llama-server` and its argv must
 * start with `--model` (node cannot be used: it rejects an unknown first option).
 *
 * Modes, chosen like Ollama chooses them (verified in ollama v0.33.0-rc2):
 *   --model B --port N --host H ...          runner (llm/llama_server.go startLlamaServer): serves GET /health on
 *                                            H:N and POST /_activity (the simulator's control, 127.0.0.1 only)
 *   --list-devices --offline --verbose       discovery (discover/llama_server.go): prints a device list, exits
 *   --port N --host H --no-webui --offline --verbose
 *                                            discovery: prints device lines and `system_info:` on stderr, then
 *                                            waits to be killed (Ollama kills it once it saw system_info)
 *
 * Environment (set by test/sim/sim-runner.ts):
 *   SENTINEL_FAKE_ACTIVITY     initial activity: idle | loading | generating | hung | spinning (runner default loading)
 *   SENTINEL_FAKE_LIFETIME_MS  exit 0 after this many ms (discovery processes; 0 or unset = no limit)
 *
 * Activity: generating/spinning burn ~20 % of one core (CPU time rises, the box is not starved); loading burns ~5 %,
 * grows RSS in 4 MiB steps up to 64 MiB (malloc + touch) and read()s 1 MiB per tick (rchar in /proc/<pid>/io
 * rises); idle/hung do nothing. It exits on SIGTERM/SIGINT and when its parent dies (PR_SET_PDEATHSIG plus a
 * getppid() check): it must never outlive the test that started it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum activity { IDLE, LOADING, GENERATING, HUNG, SPINNING };
static const char *const ACTIVITY_NAMES[] = {"idle", "loading", "generating", "hung", "spinning"};

#define TICK_MS 100
#define BURN_MS 20
#define LOAD_BURN_MS 5
#define RSS_STEP (4u << 20)
#define RSS_CAP (64u << 20)
#define READ_CHUNK (1u << 20)

static volatile sig_atomic_t stop_flag;
static enum activity activity = IDLE;
static char *rss_blocks[RSS_CAP / RSS_STEP];
static unsigned rss_count;
static char read_buf[READ_CHUNK];

static void on_stop(int sig) {
  (void)sig;
  stop_flag = 1;
}

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Spins until this process used `ms` of CPU time (bounded in wall time, so a starved box is not made worse). */
static void burn(double ms) {
  double cpu0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_ms(CLOCK_MONOTONIC);
  volatile unsigned long x = 0;
  while (now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0 < ms && now_ms(CLOCK_MONOTONIC) - wall0 < 4 * ms) {
    for (int i = 0; i < 10000; i++) x += (unsigned long)i * 2654435761u;
  }
}

/* One loading step: more resident memory and more bytes read, as a runner reading weights does. */
static void load_step(const char *model) {
  if (rss_count < RSS_CAP / RSS_STEP) {
    char *block = malloc(RSS_STEP);
    if (block) {
      memset(block, 1, RSS_STEP);
      rss_blocks[rss_count++] = block;
    }
  }
  int fd = model ? open(model, O_RDONLY) : -1;
  if (fd < 0) fd = open("/dev/zero", O_RDONLY);
  if (fd >= 0) {
    ssize_t got = read(fd, read_buf, sizeof read_buf);
    (void)got;
    close(fd);
  }
}

static int parse_activity(const char *text, size_t len) {
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  for (int i = 0; i <= SPINNING; i++) {
    if (strlen(ACTIVITY_NAMES[i]) == len && strncmp(text, ACTIVITY_NAMES[i], len) == 0) return i;
  }
  return -1;
}

static void respond(int fd, int status, const char *reason, const char *body) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, reason, strlen(body));
  if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0) return;
}

/* One short request per connection (the simulator and health checks): read headers + body, answer, close. */
static void serve_one(int fd) {
  struct timeval tv = {0, 500000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char req[8192];
  size_t len = 0;
  char *body = NULL;
  long content_length = 0;
  while (len < sizeof req - 1) {
    ssize_t got = read(fd, req + len, sizeof req - 1 - len);
    if (got <= 0) break;
    len += (size_t)got;
    req[len] = 0;
    char *end = strstr(req, "\r\n\r\n");
    if (!end) continue;
    body = end + 4;
    char *cl = strcasestr(req, "\r\ncontent-length:");
    content_length = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
    if ((long)(len - (size_t)(body - req)) >= content_length) break;
  }
  req[len] = 0;
  if (!body) return;
  if (strncmp(req, "GET /health ", 12) == 0) {
    if (activity == LOADING)
      respond(fd, 503, "Service Unavailable",
              "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}");
    else
      respond(fd, 200, "OK", "{\"status\":\"ok\"}");
    return;
  }
  if (strncmp(req, "POST /_activity ", 16) == 0) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int local = getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 && peer.sin_family == AF_INET &&
                ntohl(peer.sin_addr.s_addr) == INADDR_LOOPBACK;
    int next = parse_activity(body, len - (size_t)(body - req));
    if (!local) {
      respond(fd, 403, "Forbidden", "{\"error\":\"forbidden\"}");
    } else if (next < 0) {
      respond(fd, 400, "Bad Request", "{\"error\":\"unknown activity\"}");
    } else {
      activity = (enum activity)next;
      respond(fd, 200, "OK", "{\"ok\":true}");
    }
    return;
  }
  respond(fd, 404, "Not Found", "{\"error\":\"not found\"}");
}

static int listen_on(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  const char *model = NULL, *host = "127.0.0.1";
  int port = 0, list_devices = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
    else if (strcmp(argv[i], "--list-devices") == 0) list_devices = 1;
  }
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) return 0; /* the parent died before the line above */
  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);

  const char *env = getenv("SENTINEL_FAKE_LIFETIME_MS");
  double lifetime = env ? atof(env) : 0;
  double started = now_ms(CLOCK_MONOTONIC);
  env = getenv("SENTINEL_FAKE_ACTIVITY");
  int initial = env ? parse_activity(env, strlen(env)) : -1;
  activity = initial >= 0 ? (enum activity)initial : model ? LOADING : IDLE;

  int listen_fd = -1;
  if (list_devices) {
    /* The shape discover/llama_server.go parses (parseLlamaServerDevices). */
    printf("Available devices:\n  CUDA0: NVIDIA H100 80GB HBM3 (81559 MiB, 81079 MiB free)\n");
  } else if (!model) {
    fprintf(stderr, "ggml_cuda_init: found 1 CUDA devices:\n"
                    "  Device 0: NVIDIA H100 80GB HBM3, compute capability 9.0, VMM: yes\n"
                    "system_info: n_threads = 2 (n_threads_batch = 2) / 2 | CUDA : ARCHS = 900 | CPU : SSE3 = 1 |\n");
  } else {
    listen_fd = listen_on(host, port);
    if (listen_fd < 0) {
      fprintf(stderr, "main: couldn't bind HTTP server socket, hostname: %s, port: %d\n", host, port);
      return 1;
    }
    printf("main: server is listening on http://%s:%d - starting the main loop\n", host, port);
  }

  while (!stop_flag) {
    double tick = now_ms(CLOCK_MONOTONIC);
    if (lifetime > 0 && tick - started >= lifetime) break;
    if (getppid() != parent) break;
    if (activity == GENERATING || activity == SPINNING) burn(BURN_MS);
    if (activity == LOADING) {
      burn(LOAD_BURN_MS);
      load_step(model);
    }
    /* Wait out the rest of the tick, answering requests as they come. */
    for (;;) {
      double left = TICK_MS - (now_ms(CLOCK_MONOTONIC) - tick);
      if (left <= 0 || stop_flag) break;
      if (listen_fd < 0) {
        struct timespec ts = {0, (long)(left * 1e6)};
        nanosleep(&ts, NULL);
        break;
      }
      struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
      if (poll(&pfd, 1, (int)left + 1) <= 0) continue;
      int client;
      while ((client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        serve_one(client);
        close(client);
      }
    }
  }
  for (unsigned i = 0; i < rss_count; i++) free(rss_blocks[i]);
  return 0;
}
