// kisctl trace: records the system calls of a cell's tasks, sent by the module on the
// "trace" multicast group, into an ImSafe trace file (INDEX PID SYSCALL).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <tuple>

#include <poll.h>
#include <unistd.h>

#include "command.hpp"
#include "config.hpp"
#include "options.hpp"
#include "session.hpp"
#include "signals.hpp"
#include "trace_file.hpp"
#include "trace_recorder.hpp"

namespace kis {

namespace {

// Asked for the trace socket: about 500000 records of backlog. Root gets it (CAP_NET_ADMIN
// passes net.core.rmem_max); others get what rmem_max allows.
constexpr std::size_t kTraceRcvbuf = 32u << 20;
// Longest --duration: a year.

// Undoes what the trace set up, in reverse order, whatever happens in between.
struct Cleanup {
    Module *module = nullptr;
    std::string cell;
    bool tracing = false;
    bool unload = false; // the temporary cell of --program

    Result<void> stop_tracing() {
        if (!tracing)
            return {};
        tracing = false;
        return module->trace_stop(cell);
    }
    Result<void> unload_cell() {
        if (!unload)
            return {};
        unload = false;
        return module->unload_cell(cell);
    }
    ~Cleanup() {
        (void)stop_tracing();
        (void)unload_cell();
    }
};

int run_trace(const Args &args) {
    auto o = parse_options("trace", args,
                           {{"--cell", "-c", OptionSpec::value},
                            {"--program", "-p", OptionSpec::value},
                            {"--args", "-a", OptionSpec::value},
                            {"--no-follow-exec", ""},
                            {"--output", "-o", OptionSpec::value},
                            {"--force", "-f"},
                            {"--duration", "-d", OptionSpec::value},
                            {"--count", "-n", OptionSpec::value}});
    if (!o)
        return kExitUsage;
    if (o->help) {
        print_help(kTraceCommand);
        return kExitOk;
    }
    if (!o->operands.empty())
        return usage_error(kTraceCommand, "unexpected argument \"" + o->operands[0] + "\"");
    const std::string *cell_opt = o->value("--cell");
    const std::string *program = o->value("--program");
    if (!cell_opt == !program)
        return usage_error(kTraceCommand, "give either --cell CELL or --program NAME");
    if (cell_opt && (o->value("--args") || o->has("--no-follow-exec")))
        return usage_error(kTraceCommand, "--args and --no-follow-exec go with --program");
    const std::string *out = o->value("--output");
    if (!out)
        return usage_error(kTraceCommand, "no output file: give -o FILE");
    auto count = number_option("trace", *o, "--count", 0, 1, UINT64_MAX);
    if (!count)
        return kExitUsage;
    auto duration = duration_option("trace", *o);
    if (!duration)
        return kExitUsage;
    std::uint64_t duration_ms = *duration;

    CellConfig temp;
    std::string cell;
    if (cell_opt) {
        cell = *cell_opt;
        if (!check_cell_operand("trace", cell))
            return kExitFailure;
    } else {
        temp.name = "trace-" + std::to_string(::getpid());
        temp.program = *program;
        temp.args = o->value("--args") ? *o->value("--args") : "*";
        temp.follow_exec = !o->has("--no-follow-exec");
        temp.file = "the command line";
        for (auto [what, text, max] : {std::tuple{"program", temp.program, KIS_PROGRAM_MAX},
                                       std::tuple{"args", temp.args, KIS_ARGS_PATTERN_MAX}}) {
            if (auto problem = check_pattern(what, text, max))
                return usage_error(kTraceCommand, *problem);
        }
        cell = temp.name;
    }

    // Checked before the module is touched; the file itself is created once tracing runs,
    // so that a refusal leaves none behind (the records wait in the socket meanwhile).
    bool force = o->has("--force");
    std::error_code ec;
    if (!force && std::filesystem::exists(*out, ec)) {
        print_error("trace: " + *out +
                    ": the file already exists; choose another name or use --force to "
                    "overwrite it");
        return kExitFailure;
    }
    auto module = connect_or_report();
    if (!module)
        return kExitFailure;
    // From here on a signal only ends the loop: the cleanup always runs.
    auto signals = StopSignals::create(false);
    if (!signals) {
        print_error("trace: " + signals.error().message);
        return kExitFailure;
    }
    // Subscribed before tracing starts, so that no record is missed.
    auto sub = Subscription::open(false, true, kTraceRcvbuf);
    if (!sub) {
        print_error("trace: " + sub.error().message);
        return kExitFailure;
    }

    Cleanup cleanup;
    cleanup.module = &*module;
    cleanup.cell = cell;
    if (program) {
        if (Result<void> r = module->load_cells({temp}); !r) {
            report_refusal("trace: load of the temporary cell", cell, r.error());
            return kExitFailure;
        }
        cleanup.unload = true;
    }
    auto info = module->cell(cell);
    if (!info) {
        report_refusal("trace", cell, info.error());
        return kExitFailure;
    }
    if (info->tracing()) {
        print_error("trace: cell \"" + cell +
                    "\" is being traced already (by another kisctl trace?); one trace per cell "
                    "at a time");
        return kExitFailure;
    }
    std::uint64_t cell_lost_before = info->trace_lost;
    if (Result<void> r = module->trace_start(cell); !r) {
        report_refusal("trace", cell, r.error());
        return kExitFailure;
    }
    cleanup.tracing = true;
    Result<TraceWriter> writer = TraceWriter::open(*out, force);
    if (!writer) {
        print_error("trace: " + writer.error().message);
        return kExitFailure;
    }

    TraceRecorder rec(info->id, *count, [&](std::uint32_t pid, std::uint16_t call) {
        return writer->write(pid, call);
    });
    if (program)
        std::cout << "tracing program \"" << temp.program << "\" args \"" << temp.args
                  << "\" (temporary cell " << cell << ") into " << *out
                  << "; processes started from now on are traced too; stop with Ctrl-C\n";
    else
        std::cout << "tracing cell " << cell << " into " << *out << "; stop with Ctrl-C\n";
    std::cout << std::flush;

    Subscription::Handlers handlers;
    handlers.on_trace = [&](const TraceBatch &b) { rec.add(b); };
    handlers.on_overrun = [&] { rec.overrun(); };

    std::uint64_t start = monotonic_ms();
    std::optional<Error> failure;
    for (;;) {
        if (rec.error() || rec.full())
            break;
        int timeout = -1;
        if (duration_ms) {
            std::uint64_t now = monotonic_ms();
            if (now - start >= duration_ms)
                break;
            timeout =
                static_cast<int>(std::min<std::uint64_t>(duration_ms - (now - start), INT32_MAX));
        }
        pollfd fds[2] = {{sub->fd(), POLLIN, 0}, {(*signals)->fd(), POLLIN, 0}};
        int n = ::poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            failure = make_error(std::string("poll: ") + std::strerror(errno));
            break;
        }
        if (fds[1].revents && (*signals)->read())
            break;
        // POLLERR: the socket overflowed; receive() reads the error and counts it.
        if (fds[0].revents) {
            if (auto r = sub->receive(handlers); !r) {
                failure = r.error();
                break;
            }
        }
    }

    // TRACE_STOP returns once every queued record was sent: they are in the socket now.
    Result<void> stopped = cleanup.stop_tracing();
    // Other cells' records may keep coming: read what is there, for 2 seconds at most.
    for (std::uint64_t until = monotonic_ms() + 2000; !failure && monotonic_ms() < until;) {
        auto r = sub->receive(handlers);
        if (!r)
            failure = r.error();
        else if (*r == 0)
            break;
    }
    std::uint64_t ring_lost = 0;
    bool ring_known = false;
    if (auto after = module->cell(cell)) {
        ring_lost = after->trace_lost - cell_lost_before;
        ring_known = true;
    }
    Result<void> unloaded = cleanup.unload_cell();
    Result<void> closed = writer->close();

    int status = kExitOk;
    if (!stopped) {
        report_refusal("trace: stopping the trace", cell, stopped.error());
        status = kExitFailure;
    }
    if (!unloaded) {
        report_refusal("trace: unloading the temporary cell", cell, unloaded.error());
        status = kExitFailure;
    }
    if (failure) {
        print_error("trace: " + failure->message);
        status = kExitFailure;
    }
    if (rec.error()) {
        print_error("trace: " + rec.error()->message);
        status = kExitFailure;
    } else if (!closed) {
        print_error("trace: " + closed.error().message);
        status = kExitFailure;
    }
    if (!ring_known) // the cell is gone: the module's count of all cells is the best there is
        ring_lost = rec.module_lost();
    std::uint64_t lost = ring_lost + rec.gap_records();
    std::cout << "recorded " << counted(rec.recorded(), "call", "calls") << " of "
              << counted(rec.tasks(), "task", "tasks") << " into " << *out << "; lost " << lost
              << (rec.overrun_pending() ? " or more" : "") << "\n"
              << std::flush;
    if (lost || rec.overrun_pending()) {
        std::string why;
        if (ring_lost)
            why += "; " + std::to_string(ring_lost) +
                   " dropped by the module (its trace ring was full: the traced tasks made "
                   "calls faster than they could be sent)";
        if (rec.gap_records())
            why += "; " + std::to_string(rec.gap_records()) +
                   " never reached kisctl (its socket buffer was full)";
        if (rec.overrun_pending())
            why += "; the socket overflowed after the last records received, so an unknown "
                   "number at the end is missing too";
        print_error("trace: WARNING: the trace is incomplete: " +
                    counted(lost, "record was", "records were") + " lost" + why);
    }
    return status;
}

} // namespace

const Command kTraceCommand = {
    "trace",
    "record the system calls of a cell or a program into a trace file",
    "usage: kisctl trace --cell CELL -o FILE [--force] [--duration SECONDS] [--count N]\n"
    "       kisctl trace --program NAME [--args GLOB] [--no-follow-exec] -o FILE [--force]\n"
    "                    [--duration SECONDS] [--count N]\n"
    "\n"
    "Records every system call of the tasks of a cell, as the module sees them, into FILE in\n"
    "the ImSafe format: one line `INDEX PID SYSCALL` per call (gzip-compressed if FILE ends\n"
    "in .gz). `kisctl profile learn` learns from such files, `kisctl profile score` scores\n"
    "them. Stops on Ctrl-C (SIGINT), SIGTERM, after --duration or after --count calls.\n"
    "\n"
    "With --program, kisctl loads a temporary cell named trace-PID for the program (as a\n"
    "cell's program and args: Documentation/config.md), which also takes in processes\n"
    "started later, and unloads it at the end.\n"
    "\n"
    "Records lost on the way (the module's ring was full, or kisctl's socket buffer) are\n"
    "counted: the summary `recorded N calls of M tasks into FILE; lost L` says how many,\n"
    "and a warning explains them; `kisctl status` shows the cell's trace-lost counter.\n"
    "\n"
    "options:\n"
    "  -c, --cell CELL         trace a loaded cell\n"
    "  -p, --program NAME      trace a program through a temporary cell\n"
    "  -a, --args GLOB         with --program: glob on its arguments (default \"*\")\n"
    "  --no-follow-exec        with --program: a process leaves when it executes another\n"
    "                          program\n"
    "  -o, --output FILE       the trace file to write (required); an existing file is\n"
    "                          refused unless --force is given\n"
    "  -f, --force             overwrite an existing FILE\n"
    "  -d, --duration SECONDS  stop after this long (e.g. 10 or 0.5)\n"
    "  -n, --count N           stop after N calls\n"
    "  -h, --help              show this help\n"
    "\n"
    "Needs CAP_NET_ADMIN (run as root).\n"
    "Exit status: 0 traced (even if records were lost: see the warning), 1 failure, 2 usage\n"
    "error.\n",
    run_trace,
};

} // namespace kis
