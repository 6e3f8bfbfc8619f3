#include "signals.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include <sys/signalfd.h>
#include <unistd.h>

namespace kis {

Result<std::unique_ptr<StopSignals>> StopSignals::create(bool with_sigchld) {
    std::unique_ptr<StopSignals> s(new StopSignals());
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (with_sigchld)
        sigaddset(&set, SIGCHLD);
    if (int err = pthread_sigmask(SIG_BLOCK, &set, &s->old_); err != 0)
        return make_error(std::string("cannot block signals: ") + std::strerror(err));
    s->fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->fd_ < 0) {
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &s->old_, nullptr);
        return make_error(std::string("cannot create a signalfd: ") + std::strerror(err));
    }
    return s;
}

StopSignals::~StopSignals() {
    if (fd_ >= 0)
        ::close(fd_);
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

int StopSignals::read() {
    int stop = 0;
    signalfd_siginfo info;
    for (;;) {
        ssize_t n = ::read(fd_, &info, sizeof info);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != static_cast<ssize_t>(sizeof info))
            return stop;
        if (info.ssi_signo == SIGCHLD)
            child_ = true;
        else
            stop = static_cast<int>(info.ssi_signo);
    }
}

bool StopSignals::child_exited() {
    bool c = child_;
    child_ = false;
    return c;
}

void StopSignals::restore_in_child() const {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE})
        signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_, nullptr);
}

namespace {
std::uint64_t clock_ms(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}
} // namespace

std::uint64_t realtime_ms() { return clock_ms(CLOCK_REALTIME); }
std::uint64_t monotonic_ms() { return clock_ms(CLOCK_MONOTONIC); }

} // namespace kis
