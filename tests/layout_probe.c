/*
 * tests/layout_probe.c - the C side of tests/layout.rs: what the C compiler makes of
 * Qso_OverlappedIO_t in include/qsoasync.h.
 *
 *   layout_probe layout   prints "name value" lines: sizeof, alignof, every offsetof, and for
 *                         each one-bit flag the byte and bit it occupies.
 *   layout_probe encode   prints records filled through the C bit-fields, one per line, each
 *                         as 224 hex digits (the 112 raw bytes).
 *   layout_probe decode   reads such hex lines on stdin and prints, for each, the fields as C
 *                         reads them, one "name value" per line, then "end".
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsoasync.h"

typedef Qso_OverlappedIO_t Q;

static void put(const char *name, unsigned long long v) { printf("%s %llu\n", name, v); }

/* Finds the single bit set in a record that is otherwise zero. */
static void put_bit(const char *name, const Q *q) {
  const unsigned char *b = (const unsigned char *)q;
  int found = 0;
  for (size_t i = 0; i < sizeof *q; i++)
    for (int bit = 0; bit < 8; bit++)
      if (b[i] & (1u << bit)) {
        printf("%s_byte %zu\n%s_bit %d\n", name, i, name, bit);
        found++;
      }
  if (found != 1)
    printf("%s_bits_set %d\n", name, found);
}

static void layout(void) {
  put("size", sizeof(Q));
  put("align", _Alignof(Q));
  put("descriptorHandle", offsetof(Q, descriptorHandle));
  put("buffer", offsetof(Q, buffer));
  put("bufferLength", offsetof(Q, bufferLength));
  put("returnValue", offsetof(Q, returnValue));
  put("errnoValue", offsetof(Q, errnoValue));
  put("operationCompleted", offsetof(Q, operationCompleted));
  put("secureDataTransferSize", offsetof(Q, secureDataTransferSize));
  put("bytesAvailable", offsetof(Q, bytesAvailable));
  put("operationWaitTime", offsetof(Q, operationWaitTime));
  put("operationWaitTime.tv_usec", offsetof(Q, operationWaitTime) + offsetof(struct timeval, tv_usec));
  put("postedDescriptor", offsetof(Q, postedDescriptor));
  put("operationId", offsetof(Q, operationId));
  put("reserved2", offsetof(Q, reserved2));
  put("reserved2_size", sizeof(((Q *)0)->reserved2));
  Q q;
  memset(&q, 0, sizeof q);
  q.postFlag = 1;
  put_bit("postFlag", &q);
  memset(&q, 0, sizeof q);
  q.fillBuffer = 1;
  put_bit("fillBuffer", &q);
  memset(&q, 0, sizeof q);
  q.postFlagResult = 1;
  put_bit("postFlagResult", &q);
  memset(&q, 0, sizeof q);
  q.reserved1 = 1;
  put_bit("reserved1_low", &q);
  memset(&q, 0, sizeof q);
  q.reserved1 = 1u << 28;
  put_bit("reserved1_high", &q);
}

static void put_hex(const Q *q) {
  const unsigned char *b = (const unsigned char *)q;
  for (size_t i = 0; i < sizeof *q; i++)
    printf("%02x", b[i]);
  printf("\n");
}

/* Record k of the encode set: flags from the bits of k, every other field distinct. */
static void encode(void) {
  for (unsigned k = 0; k < 9; k++) {
    Q q;
    memset(&q, 0, sizeof q);
    unsigned long long h = 0x0102030405060700ULL + k;
    memcpy(&q.descriptorHandle, &h, sizeof h);
    unsigned long long bp = 0x1111222233334440ULL + k;
    memcpy(&q.buffer, &bp, sizeof bp);
    q.bufferLength = 0x100000000ULL + 1000 + k;
    if (k < 8) {
      q.postFlag = k & 1;
      q.fillBuffer = (k >> 1) & 1;
      q.postFlagResult = (k >> 2) & 1;
    } else {
      q.reserved1 = 0x1FFFFFFF; /* every reserved bit, no flag */
    }
    q.returnValue = -1 - (int)k;
    q.errnoValue = 3417 + (int)k;
    q.operationCompleted = 1 + (int)k;
    q.secureDataTransferSize = 70000 + (int)k;
    q.bytesAvailable = 0xFFFFFFF0u + k;
    q.operationWaitTime.tv_sec = 86400 + (long)k;
    q.operationWaitTime.tv_usec = 999990 + (long)k;
    q.postedDescriptor = 500 + (int)k;
    q.operationId = 0xF00DFACE00000000ULL + k;
    for (int i = 0; i < 32; i++)
      q.reserved2[i] = (char)(i + (int)k);
    put_hex(&q);
  }
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void decode(void) {
  char line[512];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\r\n");
    line[n] = 0;
    if (n == 0)
      continue;
    if (n != 2 * sizeof(Q)) {
      printf("error line length %zu\n", n);
      exit(2);
    }
    Q q;
    unsigned char *b = (unsigned char *)&q;
    for (size_t i = 0; i < sizeof q; i++) {
      int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        printf("error bad hex\n");
        exit(2);
      }
      b[i] = (unsigned char)(hi * 16 + lo);
    }
    unsigned long long h, bp;
    memcpy(&h, &q.descriptorHandle, sizeof h);
    memcpy(&bp, &q.buffer, sizeof bp);
    put("descriptorHandle", h);
    put("buffer", bp);
    put("bufferLength", q.bufferLength);
    put("postFlag", q.postFlag);
    put("fillBuffer", q.fillBuffer);
    put("postFlagResult", q.postFlagResult);
    put("reserved1", q.reserved1);
    printf("returnValue %d\n", q.returnValue);
    printf("errnoValue %d\n", q.errnoValue);
    printf("operationCompleted %d\n", q.operationCompleted);
    printf("secureDataTransferSize %d\n", q.secureDataTransferSize);
    put("bytesAvailable", q.bytesAvailable);
    printf("tv_sec %lld\n", (long long)q.operationWaitTime.tv_sec);
    printf("tv_usec %lld\n", (long long)q.operationWaitTime.tv_usec);
    printf("postedDescriptor %d\n", q.postedDescriptor);
    put("operationId", q.operationId);
    printf("reserved2_0 %d\n", q.reserved2[0]);
    printf("reserved2_31 %d\n", q.reserved2[31]);
    printf("end\n");
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: layout_probe layout|encode|decode\n");
    return 2;
  }
  if (strcmp(argv[1], "layout") == 0)
    layout();
  else if (strcmp(argv[1], "encode") == 0)
    encode();
  else if (strcmp(argv[1], "decode") == 0)
    decode();
  else
    return 2;
  return 0;
}
