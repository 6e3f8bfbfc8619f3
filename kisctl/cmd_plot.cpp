// kisctl plot LOG -o FILE.png: draws a `kisctl monitor --log` history with gnuplot: the
// scores of the tasks, or with --param one parameter of the cells with its thresholds.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.hpp"
#include "config.hpp"
#include "kis_stat.h"
#include "monitor_log.hpp"
#include "options.hpp"
#include "session.hpp"

extern char **environ;

namespace kis {

namespace {

Result<std::string> read_text(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(path + ": cannot open: " + std::strerror(errno));
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return make_error(path + ": cannot read: " + std::strerror(err));
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

// Runs gnuplot with the script on its stdin and its stdout into `out_fd`.
Result<void> run_gnuplot(const std::string &gnuplot, const std::string &script, int out_fd) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        return make_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    char arg0[] = "gnuplot";
    char *argv[] = {arg0, nullptr};
    std::cout << std::flush;
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return make_error(std::string("cannot run gnuplot: fork: ") + std::strerror(err));
    }
    if (pid == 0) {
        ::dup2(pipefd[0], 0);
        ::dup2(out_fd, 1);
        ::execve(gnuplot.c_str(), argv, environ);
        std::string msg =
            "kisctl plot: cannot execute " + gnuplot + ": " + std::strerror(errno) + "\n";
        (void)!::write(2, msg.data(), msg.size());
        ::_exit(127);
    }
    ::close(pipefd[0]);
    // gnuplot may stop reading early (a script error): that must not kill kisctl.
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    std::size_t done = 0;
    while (done < script.size()) {
        ssize_t n = ::write(pipefd[1], script.data() + done, script.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break; // gnuplot's exit status tells what happened
        done += static_cast<std::size_t>(n);
    }
    ::close(pipefd[1]);
    ::sigaction(SIGPIPE, &old, nullptr);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    if (WIFEXITED(status))
        return make_error("gnuplot failed with exit status " + std::to_string(WEXITSTATUS(status)) +
                          " (its messages are above)");
    return make_error("gnuplot was killed by signal " + std::to_string(WTERMSIG(status)));
}

int run_plot(const Args &args) {
    auto o = parse_options("plot", args,
                           {{"--output", "-o", OptionSpec::value},
                            {"--cell", "-c", OptionSpec::value},
                            {"--pid", "-p", OptionSpec::value},
                            {"--param", "", OptionSpec::value}});
    if (!o)
        return kExitUsage;
    if (o->help) {
        print_help(kPlotCommand);
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error(kPlotCommand, "no log file given");
    if (o->operands.size() > 1)
        return usage_error(kPlotCommand, "unexpected argument \"" + o->operands[1] + "\"");
    const std::string *out = o->value("--output");
    if (!out)
        return usage_error(kPlotCommand, "no output file: give -o FILE.png");
    PlotSelection sel;
    if (const std::string *c = o->value("--cell")) {
        if (auto problem = check_cell_name(*c))
            return usage_error(kPlotCommand, *problem);
        sel.cell = *c;
    }
    if (o->value("--pid")) {
        auto pid = number_option("plot", *o, "--pid", 0, 1, UINT32_MAX);
        if (!pid)
            return kExitUsage;
        sel.pid = static_cast<std::uint32_t>(*pid);
    }
    const std::string *param = o->value("--param");
    if (param) {
        if (sel.pid)
            return usage_error(kPlotCommand, "--pid does not go with --param: a parameter is "
                                             "the cell's, not a task's");
        if (kis_stat_param_find(param->c_str()) < 0) {
            std::string names;
            for (std::uint32_t i = 0; i < KIS_PARAM_COUNT; i++)
                names += (i ? ", " : "") + stat_param_name(i);
            return usage_error(kPlotCommand,
                               "--param: no parameter named \"" + *param + "\"; they are " + names);
        }
    }
    const std::string &path = o->operands[0];
    auto text = read_text(path);
    if (!text) {
        print_error("plot: " + text.error().message);
        return kExitFailure;
    }
    auto records = parse_monitor_log(*text, path);
    if (!records) {
        print_error("plot: " + records.error().message);
        return kExitFailure;
    }
    auto script =
        param ? gnuplot_param_script(*records, *param, sel) : gnuplot_script(*records, sel);
    if (!script) {
        print_error("plot: " + path + ": " + script.error().message);
        return kExitFailure;
    }
    auto gnuplot = find_executable("gnuplot");
    if (!gnuplot) {
        print_error("plot: gnuplot is not installed (not found in PATH); install it, e.g. "
                    "apt-get install gnuplot-nox");
        return kExitFailure;
    }
    // Written next to the result and renamed over it, so that a failure leaves no half image.
    std::string tmp = *out + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        print_error("plot: " + tmp + ": cannot create: " + std::strerror(errno));
        return kExitFailure;
    }
    Result<void> r = run_gnuplot(*gnuplot, script->script, fd);
    struct stat st {};
    if (r && (::fstat(fd, &st) != 0 || st.st_size == 0))
        r = make_error("gnuplot wrote nothing");
    if (::close(fd) != 0 && r)
        r = make_error(tmp + ": cannot write: " + std::strerror(errno));
    if (r && ::rename(tmp.c_str(), out->c_str()) != 0)
        r = make_error(*out + ": cannot create: " + std::strerror(errno));
    if (!r) {
        ::unlink(tmp.c_str());
        print_error("plot: " + r.error().message);
        return kExitFailure;
    }
    if (param) {
        std::cout << "plotted " << *param << " of " << counted(script->series, "cell", "cells")
                  << " (" << counted(script->samples, "sample", "samples") << ", "
                  << counted(script->dangers, "danger event", "danger events") << ") into " << *out
                  << "\n";
        return kExitOk;
    }
    std::cout << "plotted " << counted(script->series, "task", "tasks") << " ("
              << counted(script->samples, "sample", "samples") << ", "
              << counted(script->alerts, "alert", "alerts") << ") into " << *out << "\n";
    if (script->dropped_series)
        std::cout << "left out " << counted(script->dropped_series, "task", "tasks")
                  << " with lower scores; choose with --cell or --pid\n";
    return kExitOk;
}

} // namespace

const Command kPlotCommand = {
    "plot",
    "draw a monitor log: the normality of each task, or a parameter, over time",
    "usage: kisctl plot LOG -o FILE.png [--cell CELL] [--pid PID]\n"
    "       kisctl plot LOG -o FILE.png --param NAME [--cell CELL]\n"
    "\n"
    "Draws the history written by `kisctl monitor --log LOG` as a PNG image: the score of\n"
    "each task over time (its average anomaly over the window, 0..1000), each cell's\n"
    "threshold as a dashed line, alerts as points. Up to 24 tasks are drawn, those with the\n"
    "highest scores first. With --param, one parameter of the APC's statistics instead\n"
    "(cpu, rss_pages, files_outside, tx_bytes, ...): its value over time for each cell, the\n"
    "cell's thresholds 1 and 2 as dashed lines (while armed), its danger events as points.\n"
    "Uses gnuplot (apt-get install gnuplot-nox), run directly, without a shell. FILE is\n"
    "replaced if it exists.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the PNG image to write (required)\n"
    "  -c, --cell CELL     only this cell's tasks or parameter\n"
    "  -p, --pid PID       only this task\n"
    "  --param NAME        draw this parameter of the cells, not the tasks' scores\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 drawn, 1 failure (e.g. gnuplot missing, nothing selected), 2 usage\n"
    "error.\n",
    run_plot,
};

} // namespace kis
