/*
 * uv_echo_server.c - the echo server a C programmer would write with libuv instead: one loop,
 * one thread.
 *
 *   uv_echo_server [-p port] [-T seconds]
 *
 * Reads into one loop-wide 64 KiB buffer (a read callback runs before the next read), answers
 * with uv_try_write, and only when the kernel does not take everything copies the rest into a
 * uv_write request. Accepted sockets get TCP_NODELAY. Prints "listening on 127.0.0.1:PORT".
 * Stops on SIGINT / SIGTERM or after -T seconds (default 600).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define READ_BUF (64 * 1024)

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigint_h, sigterm_h;
static uv_timer_t limit_timer;
static char read_buf[READ_BUF];
static int read_buf_busy;

struct write_req {
  uv_write_t req;
  uv_buf_t buf;
};

static void on_close(uv_handle_t *h) { free(h); }

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  if (read_buf_busy) { /* cannot happen with one loop thread; kept honest anyway */
    buf->base = malloc(READ_BUF);
    buf->len = buf->base ? READ_BUF : 0;
    return;
  }
  read_buf_busy = 1;
  buf->base = read_buf;
  buf->len = READ_BUF;
}

static void write_cb(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *)req;
  if (status < 0 && !uv_is_closing((uv_handle_t *)req->handle))
    uv_close((uv_handle_t *)req->handle, on_close);
  free(w->buf.base);
  free(w);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  if (n > 0) {
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    int w = uv_stream_get_write_queue_size(s) == 0 ? uv_try_write(s, &b, 1) : UV_EAGAIN;
    if (w == UV_EAGAIN)
      w = 0;
    if (w < 0) {
      uv_close((uv_handle_t *)s, on_close);
    } else if (w < n) {
      struct write_req *r = malloc(sizeof(*r));
      char *copy = malloc((size_t)(n - w));
      if (r == NULL || copy == NULL) {
        free(r);
        free(copy);
        uv_close((uv_handle_t *)s, on_close);
      } else {
        memcpy(copy, buf->base + w, (size_t)(n - w));
        r->buf = uv_buf_init(copy, (unsigned)(n - w));
        if (uv_write(&r->req, s, &r->buf, 1, write_cb) < 0) {
          free(copy);
          free(r);
          uv_close((uv_handle_t *)s, on_close);
        }
      }
    }
  } else if (n < 0) {
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_close);
  }
  if (buf->base == read_buf)
    read_buf_busy = 0;
  else
    free(buf->base);
}

static void on_connection(uv_stream_t *srv, int status) {
  uv_tcp_t *c;
  if (status < 0)
    return;
  c = malloc(sizeof(*c));
  if (c == NULL)
    return;
  uv_tcp_init(loop, c);
  if (uv_accept(srv, (uv_stream_t *)c) != 0) {
    uv_close((uv_handle_t *)c, on_close);
    return;
  }
  uv_tcp_nodelay(c, 1);
  uv_read_start((uv_stream_t *)c, alloc_cb, read_cb);
}

static void stop_all(void) { uv_stop(loop); }
static void on_signal(uv_signal_t *h, int sig) {
  (void)h;
  (void)sig;
  stop_all();
}
static void on_limit(uv_timer_t *t) {
  (void)t;
  stop_all();
}

int main(int argc, char **argv) {
  int tcp_port = 0, opt, r;
  long time_limit = 600;
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  while ((opt = getopt(argc, argv, "p:T:")) != -1) {
    switch (opt) {
    case 'p': tcp_port = atoi(optarg); break;
    case 'T': time_limit = atol(optarg); break;
    default:
      fprintf(stderr, "usage: uv_echo_server [-p port] [-T seconds]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN); /* a write to a connection the client closed must not kill us */
  loop = uv_default_loop();
  uv_tcp_init(loop, &server);
  uv_ip4_addr("127.0.0.1", tcp_port, &addr);
  if ((r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) != 0 ||
      (r = uv_listen((uv_stream_t *)&server, 4096, on_connection)) != 0) {
    fprintf(stderr, "uv_echo_server: %s\n", uv_strerror(r));
    return 1;
  }
  uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
  uv_signal_init(loop, &sigint_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_timer_init(loop, &limit_timer);
  uv_timer_start(&limit_timer, on_limit, (uint64_t)time_limit * 1000, 0);
  uv_unref((uv_handle_t *)&limit_timer);
  printf("listening on 127.0.0.1:%d (libuv %s)\n", ntohs(((struct sockaddr_in *)&bound)->sin_port),
         uv_version_string());
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
