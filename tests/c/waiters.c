/*
 * waiters.c - several threads waiting on one port (spec §3): each completion wakes exactly one
 * thread, the most recent waiter first (LIFO), nothing lost or delivered twice.
 */
#include "qt_extra.h"

#include <stdatomic.h>

static void post_id(int port, unsigned long long id) {
  Qso_OverlappedIO_t io = qt_io(NULL, 0);
  io.operationId = id;
  CHECK_EQ(QsoPostIOCompletion(port, &io), 0);
}

struct one_wait {
  int port;
  int rc;
  unsigned long long id;
  atomic_int done;
};

static void *wait_once(void *p) {
  struct one_wait *a = (struct one_wait *)p;
  Qso_OverlappedIO_t st;
  memset(&st, 0, sizeof st);
  a->rc = QsoWaitForIOCompletion(a->port, &st, NULL);
  a->id = st.operationId;
  atomic_store(&a->done, 1);
  return NULL;
}

TEST(most_recent_waiter_is_woken_first) {
  int port = qt_port();
  struct one_wait w[3]; /* A, B, C */
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    w[i].port = port;
    w[i].rc = 99;
    w[i].id = 0;
    atomic_init(&w[i].done, 0);
    t[i] = qt_thread(wait_once, &w[i]);
    qt_sleep_ms(150); /* really parked before the next one starts */
  }
  for (int i = 0; i < 3; i++)
    CHECK_EQ(atomic_load(&w[i].done), 0);
  post_id(port, 1);
  post_id(port, 2);
  post_id(port, 3);
  for (int i = 0; i < 3; i++)
    qt_join(t[i]);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(w[i].rc, 1);
  /* C (the last to park) got the first completion, then B, then A. */
  if (w[2].id != 1 || w[1].id != 2 || w[0].id != 3)
    QT_FAIL("A got %llu, B got %llu, C got %llu; expected A 3, B 2, C 1", w[0].id, w[1].id,
            w[2].id);
}

TEST(lifo_with_pauses_between_posts) {
  int port = qt_port();
  struct one_wait w[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    w[i].port = port;
    w[i].rc = 99;
    atomic_init(&w[i].done, 0);
    t[i] = qt_thread(wait_once, &w[i]);
    qt_sleep_ms(150);
  }
  for (unsigned long long id = 1; id <= 3; id++) {
    post_id(port, id);
    int who = 3 - (int)id; /* C, then B, then A */
    long long t0 = qt_now_ms();
    while (!atomic_load(&w[who].done) && qt_now_ms() - t0 < 2000)
      qt_sleep_ms(5);
    qt_sleep_ms(50);
    for (int i = 0; i < 3; i++) {
      int expect = i >= who;
      if (atomic_load(&w[i].done) != expect)
        QT_FAIL("after post %llu, waiter %c done=%d, expected %d", id, 'A' + i,
                atomic_load(&w[i].done), expect);
    }
    CHECK_EQ(w[who].id, id);
  }
  for (int i = 0; i < 3; i++)
    qt_join(t[i]);
}

TEST(one_completion_wakes_exactly_one_thread) {
  int port = qt_port();
  struct one_wait w[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    w[i].port = port;
    w[i].rc = 99;
    atomic_init(&w[i].done, 0);
    t[i] = qt_thread(wait_once, &w[i]);
  }
  qt_sleep_ms(200);
  post_id(port, 11);
  qt_sleep_ms(300);
  int done = 0;
  for (int i = 0; i < 4; i++)
    done += atomic_load(&w[i].done);
  CHECK_EQ(done, 1);
  post_id(port, 12);
  post_id(port, 13);
  post_id(port, 14);
  unsigned long long seen = 0;
  for (int i = 0; i < 4; i++) {
    qt_join(t[i]);
    CHECK_EQ(w[i].rc, 1);
    CHECK(w[i].id >= 11 && w[i].id <= 14);
    seen |= 1ULL << (w[i].id - 11);
  }
  CHECK_EQ(seen, 0xF); /* each of the four went to a different thread */
}

struct timed_wait {
  int port;
  int rc;
  long long elapsed;
};

static void *wait_100ms(void *p) {
  struct timed_wait *a = (struct timed_wait *)p;
  Qso_OverlappedIO_t st;
  struct timeval tv = qt_tv(0, 100000);
  long long t0 = qt_now_ms();
  a->rc = QsoWaitForIOCompletion(a->port, &st, &tv);
  a->elapsed = qt_now_ms() - t0;
  return NULL;
}

TEST(timed_out_waiter_does_not_swallow_a_later_completion) {
  int port = qt_port();
  struct one_wait a = {port, 99, 0, 0};
  pthread_t ta = qt_thread(wait_once, &a);
  qt_sleep_ms(100);
  struct timed_wait b = {port, 99, 0};
  pthread_t tb = qt_thread(wait_100ms, &b); /* more recent than A, then gives up */
  qt_join(tb);
  CHECK_EQ(b.rc, 0);
  CHECK(b.elapsed >= 90);
  post_id(port, 5);
  qt_join(ta);
  CHECK_EQ(a.rc, 1);
  CHECK_EQ(a.id, 5);
}

enum { NWAITERS = 4, NPOSTS = 10000 };

struct shared {
  int port;
  atomic_int received;
  atomic_int count[NPOSTS + 1];
  atomic_int bad;
};

static void *drain(void *p) {
  struct shared *s = (struct shared *)p;
  long long t0 = qt_now_ms();
  while (atomic_load(&s->received) < NPOSTS && qt_now_ms() - t0 < 20000) {
    Qso_OverlappedIO_t st;
    struct timeval tv = qt_tv(0, 50000);
    int rc = QsoWaitForIOCompletion(s->port, &st, &tv);
    if (rc == 1) {
      if (st.operationId >= 1 && st.operationId <= NPOSTS &&
          st.operationCompleted == QSOPOSTIOCOMPLETION)
        atomic_fetch_add(&s->count[st.operationId], 1);
      else
        atomic_fetch_add(&s->bad, 1);
      atomic_fetch_add(&s->received, 1);
    } else if (rc != 0) {
      atomic_fetch_add(&s->bad, 1);
      break;
    }
  }
  return NULL;
}

static void check_exactly_once(struct shared *s) {
  CHECK_EQ(atomic_load(&s->bad), 0);
  CHECK_EQ(atomic_load(&s->received), NPOSTS);
  for (int i = 1; i <= NPOSTS; i++)
    if (atomic_load(&s->count[i]) != 1)
      QT_FAIL("id %d received %d times", i, atomic_load(&s->count[i]));
  qt_expect_none(s->port, 100);
}

TEST_T(every_completion_delivered_exactly_once, 30) {
  static struct shared s;
  s.port = qt_port();
  pthread_t t[NWAITERS];
  for (int i = 0; i < NWAITERS; i++)
    t[i] = qt_thread(drain, &s);
  for (unsigned long long id = 1; id <= NPOSTS; id++)
    post_id(s.port, id);
  for (int i = 0; i < NWAITERS; i++)
    qt_join(t[i]);
  check_exactly_once(&s);
}

struct range_poster {
  int port;
  unsigned long long first, last;
};

static void *post_range(void *p) {
  struct range_poster *r = (struct range_poster *)p;
  for (unsigned long long id = r->first; id <= r->last; id++) {
    Qso_OverlappedIO_t io = qt_io(NULL, 0);
    io.operationId = id;
    if (QsoPostIOCompletion(r->port, &io) != 0)
      QT_FAIL("post of %llu failed (errno %d)", id, errno);
    if (id % 1000 == 0)
      sched_yield();
  }
  return NULL;
}

TEST_T(exactly_once_with_concurrent_posters, 30) {
  static struct shared s;
  s.port = qt_port();
  pthread_t w[NWAITERS], p[4];
  struct range_poster r[4];
  for (int i = 0; i < NWAITERS; i++)
    w[i] = qt_thread(drain, &s);
  for (int i = 0; i < 4; i++) {
    r[i].port = s.port;
    r[i].first = (unsigned long long)i * (NPOSTS / 4) + 1;
    r[i].last = (unsigned long long)(i + 1) * (NPOSTS / 4);
    p[i] = qt_thread(post_range, &r[i]);
  }
  for (int i = 0; i < 4; i++)
    qt_join(p[i]);
  for (int i = 0; i < NWAITERS; i++)
    qt_join(w[i]);
  check_exactly_once(&s);
}

TEST(a_waiter_per_completion) {
  int port = qt_port();
  enum { N = 8 };
  struct one_wait w[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    w[i].port = port;
    w[i].rc = 99;
    atomic_init(&w[i].done, 0);
    t[i] = qt_thread(wait_once, &w[i]);
  }
  qt_sleep_ms(200);
  for (unsigned long long id = 1; id <= N; id++)
    post_id(port, id);
  unsigned seen = 0;
  for (int i = 0; i < N; i++) {
    qt_join(t[i]);
    CHECK_EQ(w[i].rc, 1);
    CHECK(w[i].id >= 1 && w[i].id <= N);
    CHECK((seen & (1u << w[i].id)) == 0);
    seen |= 1u << w[i].id;
  }
  qt_expect_empty(port);
}
