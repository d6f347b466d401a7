/*
 * tests/stress/close_binding.c - run by `make asan-test` before the sanitized C suite: checks
 * that close, dup2 and dup3 still resolve to libqsoasync's close hook in a program built with
 * -fsanitize=address,undefined. If a sanitizer runtime interposed them, the close-hook cases
 * (ECLOSED on close, dup2 over a socket) would fail for a reason that is not the library's: this
 * says so plainly instead. gcc 12's libasan.so.8 and libubsan.so.1 define none of the three.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  const char *names[] = {"close", "dup2", "dup3"};
  int bad = 0;
  for (int i = 0; i < 3; i++) {
    void *sym = dlsym(RTLD_DEFAULT, names[i]);
    Dl_info info;
    const char *obj = sym && dladdr(sym, &info) && info.dli_fname ? info.dli_fname : "(none)";
    int ours = strstr(obj, "libqsoasync") != NULL;
    printf("asan-test: %s resolves to %s%s\n", names[i], obj, ours ? "" : "  <-- not the library");
    bad += !ours;
  }
  if (bad) {
    printf("asan-test: the sanitizer runtime takes over the close hook here: the close/dup2 cases "
           "would test the sanitizer, not the library. Not running the sanitized suite.\n");
    return 1;
  }
  return 0;
}
