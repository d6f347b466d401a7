// tests/install/install_cpp.cpp - a C++ program built against the installed qsoasync with
// nothing but `pkg-config --cflags --libs qsoasync` (tests/install.sh): the header must compile
// as C++ and give the functions C linkage. It creates a port, posts a completion, waits for it
// and checks the fields it gets back; exits non-zero when a check fails.
#include <qsoasync.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

namespace {

bool all_ok = true;

void check(bool ok, const std::string &what) {
  std::cout << (ok ? "ok " : "FAIL ") << what << '\n';
  all_ok = all_ok && ok;
}

// Owns a completion port for one scope.
class Port {
 public:
  Port() : handle_(QsoCreateIOCompletionPort()) {}
  ~Port() {
    if (handle_ >= 0) QsoDestroyIOCompletionPort(handle_);
  }
  Port(const Port &) = delete;
  Port &operator=(const Port &) = delete;
  int handle() const { return handle_; }

 private:
  int handle_;
};

struct Work {
  std::string name;
};

}  // namespace

#if defined(__x86_64__) && defined(__LP64__)
static_assert(sizeof(Qso_OverlappedIO_t) == 112, "IBM's layout");
#endif
static_assert(QSOPOSTIOCOMPLETION == 3, "operation code");

int main() {
  Port port;
  check(port.handle() >= 0, "QsoCreateIOCompletionPort");
  if (port.handle() < 0) return 1;

  Work work{"from C++"};
  Qso_OverlappedIO_t io;
  std::memset(&io, 0, sizeof io);
  io.descriptorHandle = &work;
  io.operationId = 77;
  io.postFlag = 1;
  check(QsoPostIOCompletion(port.handle(), &io) == 0, "QsoPostIOCompletion");

  Qso_OverlappedIO_t got;
  std::memset(&got, 0, sizeof got);
  timeval wait{5, 0};
  check(QsoWaitForIOCompletion(port.handle(), &got, &wait) == 1, "QsoWaitForIOCompletion");
  check(got.operationCompleted == QSOPOSTIOCOMPLETION, "operationCompleted");
  check(got.returnValue == 0 && got.errnoValue == 0, "returnValue and errnoValue are 0");
  check(got.operationId == 77 && got.postFlag == 1, "operationId and postFlag");
  const Work *back = static_cast<const Work *>(got.descriptorHandle);
  check(back == &work && back->name == "from C++", "descriptorHandle");

  errno = 0;
  check(QsoWaitForIOCompletion(port.handle(), nullptr, &wait) == -1 && errno == EINVAL,
        "a NULL status gives EINVAL");

  std::cout << (all_ok ? "install_cpp: all checks passed" : "install_cpp: FAILED") << '\n';
  return all_ok ? 0 : 1;
}
