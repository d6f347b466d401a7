/*
 * layout.c - Qso_OverlappedIO_t as the C compiler lays it out (spec §1): size, alignment, every
 * offset, field widths, the bit positions of the three flags in the word at offset 24, and the
 * header's constants.
 */
#include "qt_extra.h"

#include <stddef.h>

/* The raw 32-bit word at offset 24 of the struct. */
static unsigned int flag_word(const Qso_OverlappedIO_t *io) {
  unsigned int w;
  memcpy(&w, (const char *)io + 24, sizeof w);
  return w;
}

TEST(size_and_alignment) {
  CHECK_EQ(sizeof(Qso_OverlappedIO_t), 112);
  CHECK_EQ(_Alignof(Qso_OverlappedIO_t), 8);
  CHECK_EQ(sizeof(Qso_DescriptorHandle_t), sizeof(void *));
}

TEST(every_offset) {
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, descriptorHandle), 0);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, buffer), 8);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, bufferLength), 16);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, returnValue), 28);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, errnoValue), 32);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, operationCompleted), 36);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, secureDataTransferSize), 40);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, bytesAvailable), 44);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, operationWaitTime), 48);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, postedDescriptor), 64);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, operationId), 72);
  CHECK_EQ(offsetof(Qso_OverlappedIO_t, reserved2), 80);
}

TEST(field_widths) {
  Qso_OverlappedIO_t io;
  CHECK_EQ(sizeof io.bufferLength, 8);
  CHECK_EQ(sizeof io.returnValue, 4);
  CHECK_EQ(sizeof io.errnoValue, 4);
  CHECK_EQ(sizeof io.operationCompleted, 4);
  CHECK_EQ(sizeof io.secureDataTransferSize, 4);
  CHECK_EQ(sizeof io.bytesAvailable, 4);
  CHECK_EQ(sizeof io.operationWaitTime, 16);
  CHECK_EQ(sizeof io.postedDescriptor, 4);
  CHECK_EQ(sizeof io.operationId, 8);
  CHECK_EQ(sizeof io.reserved2, 32);
  /* The flags are unsigned: storing 1 reads back as 1, not -1; bytesAvailable is unsigned. */
  memset(&io, 0, sizeof io);
  io.postFlag = 1;
  io.fillBuffer = 1;
  io.postFlagResult = 1;
  CHECK(io.postFlag == 1 && io.fillBuffer == 1 && io.postFlagResult == 1);
  io.bytesAvailable = 0;
  io.bytesAvailable -= 1;
  CHECK(io.bytesAvailable > 0);
  io.operationId = 0;
  io.operationId -= 1;
  CHECK_EQ(io.operationId == 0xFFFFFFFFFFFFFFFFULL, 1);
}

TEST(post_flag_is_bit_0) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.postFlag = 1;
  CHECK_EQ(flag_word(&io), 1u);
  /* Nothing outside the word moved. */
  memset(&io, 0xFF, sizeof io);
  io.postFlag = 0;
  CHECK_EQ(flag_word(&io), 0xFFFFFFFEu);
  CHECK_EQ(io.returnValue, -1);
  CHECK(io.bufferLength == (size_t)-1);
}

TEST(fill_buffer_is_bit_1) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.fillBuffer = 1;
  CHECK_EQ(flag_word(&io), 2u);
  memset(&io, 0xFF, sizeof io);
  io.fillBuffer = 0;
  CHECK_EQ(flag_word(&io), 0xFFFFFFFDu);
}

TEST(post_flag_result_is_bit_2) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.postFlagResult = 1;
  CHECK_EQ(flag_word(&io), 4u);
  memset(&io, 0xFF, sizeof io);
  io.postFlagResult = 0;
  CHECK_EQ(flag_word(&io), 0xFFFFFFFBu);
}

TEST(reserved1_is_bits_3_to_31) {
  Qso_OverlappedIO_t io;
  memset(&io, 0, sizeof io);
  io.reserved1 = 0x1FFFFFFF;
  CHECK_EQ(flag_word(&io), 0xFFFFFFF8u);
  CHECK_EQ(io.postFlag, 0);
  CHECK_EQ(io.fillBuffer, 0);
  CHECK_EQ(io.postFlagResult, 0);
  CHECK_EQ(io.returnValue, 0); /* reserved1 does not spill into returnValue */
}

TEST(raw_word_reads_back_as_bits) {
  for (unsigned int w = 0; w < 8; w++) {
    Qso_OverlappedIO_t io;
    memset(&io, 0, sizeof io);
    memcpy((char *)&io + 24, &w, sizeof w);
    CHECK_EQ(io.postFlag, w & 1);
    CHECK_EQ(io.fillBuffer, (w >> 1) & 1);
    CHECK_EQ(io.postFlagResult, (w >> 2) & 1);
    CHECK_EQ(io.reserved1, 0);
  }
}

TEST(operation_codes) {
  CHECK_EQ(QSOSTARTSEND, 1);
  CHECK_EQ(QSOSTARTRECV, 2);
  CHECK_EQ(QSOPOSTIOCOMPLETION, 3);
  CHECK_EQ(GSKSECURESOCSTARTSEND, 4);
  CHECK_EQ(GSKSECURESOCSTARTRECV, 5);
  CHECK_EQ(QSOSTARTACCEPT, 6);
  CHECK_EQ(GSKSECURESOCSTARTINIT, 7);
  CHECK_EQ(QSO_MAX_IOCOMPLETION_PORTS, 256);
}

TEST(ibm_errno_values) {
  CHECK_EQ(ECLOSED, 3417);
  CHECK_EQ(EDESTROYED, 3463);
  CHECK_EQ(ETRUNC, 3003);
  CHECK_EQ(EUNKNOWN, 3474);
  /* ECANCELED is Linux's own. */
  CHECK_EQ(ECANCELED, 125);
  /* None clashes with a Linux errno: strerror knows none of them. */
  const int ibm[] = {ECLOSED, EDESTROYED, ETRUNC, EUNKNOWN};
  for (size_t i = 0; i < sizeof ibm / sizeof ibm[0]; i++) {
    char expect[64];
    snprintf(expect, sizeof expect, "Unknown error %d", ibm[i]);
    CHECK(strcmp(strerror(ibm[i]), expect) == 0);
  }
}
