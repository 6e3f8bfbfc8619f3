// kisctl monitor: alerts, danger signals and suspected training as they come, the normality
// (score) of the watched tasks and the cells' parameters at an interval, a log for `kisctl
// plot`, and a program run for each alert and each rising danger signal.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <set>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.hpp"
#include "config.hpp"
#include "monitor_log.hpp"
#include "options.hpp"
#include "session.hpp"
#include "signals.hpp"

extern char **environ;

namespace kis {

namespace {

constexpr std::uint64_t kIntervalDefaultMs = 500;
constexpr std::uint64_t kIntervalMinMs = 50;
constexpr std::uint64_t kIntervalMaxMs = 3600000;
// --exec-on-alert programs running at once; events beyond are not run (and say so).
constexpr std::size_t kMaxChildren = 16;

// Runs the --exec-on-alert program with fork and execve: no shell ever sees the event.
class AlertRunner {
  public:
    AlertRunner(std::string path, std::vector<std::string> argv, const StopSignals &signals,
                bool stdout_to_stderr)
        : path_(std::move(path)), argv_(std::move(argv)), signals_(signals),
          stdout_to_stderr_(stdout_to_stderr) {}

    // env: alert_environment or danger_environment; what: "alert #3", for messages.
    void run(std::vector<std::string> env, const std::string &what) {
        if (running_.size() >= kMaxChildren) {
            skipped_++;
            print_error("monitor: warning: " + std::to_string(running_.size()) + " " + argv_[0] +
                        " still running; not run for " + what);
            return;
        }
        // Everything the child needs is built before fork.
        std::vector<char *> envp, argv;
        for (std::string &e : env)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        for (std::string &s : argv_)
            argv.push_back(s.data());
        argv.push_back(nullptr);
        std::string failed = "kisctl monitor: cannot execute " + path_ + ": ";
        std::cout << std::flush;
        pid_t pid = ::fork();
        if (pid < 0) {
            print_error("monitor: cannot run " + path_ + ": fork: " + std::strerror(errno));
            return;
        }
        if (pid == 0) {
            signals_.restore_in_child();
            int null = ::open("/dev/null", O_RDONLY);
            if (null >= 0 && null != 0) {
                ::dup2(null, 0);
                ::close(null);
            }
            if (stdout_to_stderr_) // stdout carries JSON lines
                ::dup2(2, 1);
            ::execve(path_.c_str(), argv.data(), envp.data());
            failed += std::strerror(errno);
            failed += "\n";
            (void)!::write(2, failed.data(), failed.size());
            ::_exit(127);
        }
        running_.insert(pid);
    }

    // Collects the children that ended; reports failures.
    void reap() {
        int status = 0;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            running_.erase(pid);
            if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                print_error("monitor: warning: " + argv_[0] + " (pid " + std::to_string(pid) +
                            ") exited with status " + std::to_string(WEXITSTATUS(status)));
            else if (WIFSIGNALED(status))
                print_error("monitor: warning: " + argv_[0] + " (pid " + std::to_string(pid) +
                            ") was killed by signal " + std::to_string(WTERMSIG(status)));
        }
    }

    std::size_t running() const { return running_.size(); }

  private:
    std::string path_;
    std::vector<std::string> argv_;
    const StopSignals &signals_;
    bool stdout_to_stderr_;
    std::set<pid_t> running_;
    std::uint64_t skipped_ = 0;
};

// The --log file, appended to.
class LogFile {
  public:
    static Result<LogFile> open(const std::string &path) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            return make_error(path + ": cannot open: " + std::strerror(errno));
        LogFile f(path, fd);
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_size == 0)
            if (auto r = f.write(std::string(kMonitorLogHeader) + "\n"); !r)
                return r.error();
        return f;
    }
    LogFile(LogFile &&o) noexcept : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)) {}
    LogFile &operator=(LogFile &&) = delete;
    ~LogFile() {
        if (fd_ >= 0)
            ::close(fd_);
    }

    Result<void> write(const std::string &text) {
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return make_error(path_ + ": cannot write: " + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

  private:
    LogFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::string path_;
    int fd_ = -1;
};

struct Monitor {
    explicit Monitor(Module &mod) : module(mod) {}

    Module &module;
    std::optional<std::string> cell;
    bool json = false;
    std::optional<LogFile> log;
    std::optional<AlertRunner> runner;

    AlertGaps gaps{0};
    DangerLevels levels;
    std::uint64_t limit = 0;    // --count, 0: none
    std::uint64_t alerts = 0;   // shown (of the cell)
    std::uint64_t dangers = 0;  // danger events shown
    std::uint64_t training = 0; // training events shown
    std::uint64_t missed = 0;   // known lost, all cells
    std::set<std::string> unarmed_noted;
    // Per cell, the module's count of sampled intervals when its parameters were last
    // logged: each sample is logged once, however often the monitor polls.
    std::map<std::string, std::uint64_t> params_logged;
    std::optional<Error> failure;

    void emit(const std::string &plain, const nlohmann::ordered_json &j) {
        if (json)
            std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                      << "\n";
        else
            std::cout << plain;
        std::cout << std::flush;
    }

    void log_text(const std::string &text) {
        if (!log || failure)
            return;
        if (auto r = log->write(text); !r)
            failure = r.error();
    }

    void report_missed(const MissedAlerts &ma) {
        std::uint64_t n = ma.count, first = ma.first_seq, last = ma.last_seq,
                      dropped = ma.dropped_by_module;
        missed += n;
        std::string range = first && last ? " (event numbers " + std::to_string(first) + " to " +
                                                std::to_string(last) + ")"
                                          : "";
        std::string why = dropped ? "; the module dropped " + std::to_string(dropped) +
                                        " (its alert queue was full)"
                                  : "";
        // Alerts, danger and training events share the numbers: which were lost is unknown.
        print_error("monitor: WARNING: missed " + counted(n, "event", "events") +
                    " (alerts, danger or training)" + range + why);
        std::uint64_t now = realtime_ms();
        if (json)
            emit("", {{"type", "lost"},
                      {"time", format_time_ms(now)},
                      {"events", n},
                      {"first_seq", first},
                      {"last_seq", last},
                      {"dropped_by_module", dropped}});
        log_text("# " + std::to_string(now) + " missed " + counted(n, "event", "events") + range +
                 "\n");
    }

    void on_alert(const Alert &a) {
        // Event numbers are shared by all cells: a gap is a loss, whatever the cell.
        if (auto ma = gaps.see(a))
            report_missed(*ma);
        if ((cell && a.cell != *cell) || done())
            return;
        alerts++;
        emit(format_alert(a), alert_json(a));
        log_text(log_alert_line(a));
        if (runner)
            runner->run(alert_environment(a, environ), "alert #" + std::to_string(a.seq));
    }

    void on_danger(const DangerEvent &d) {
        if (auto ma = gaps.see(d.seq, d.lost))
            report_missed(*ma);
        bool rising = levels.rises(d);
        if ((cell && d.cell != *cell) || done())
            return;
        dangers++;
        emit(format_danger(d, rising), danger_json(d, rising));
        log_text(log_danger_line(d));
        // A program acts on a danger signal that rises, not on its decay.
        if (runner && rising)
            runner->run(danger_environment(d, environ), "danger event #" + std::to_string(d.seq));
    }

    void on_training(const TrainingEvent &t) {
        if (auto ma = gaps.see(t.seq, t.lost))
            report_missed(*ma);
        if ((cell && t.cell != *cell) || done())
            return;
        training++;
        emit(format_training(t), training_json(t));
        log_text(log_training_line(t));
    }

    // The danger levels when monitoring starts, to tell the first events' rises from decays.
    void note_levels(const std::vector<CellInfo> &cells) {
        for (const CellInfo &c : cells)
            for (const ParamInfo &p : c.params)
                levels.set(c.name, p.id, p.level);
    }

    // The parameters of a cell, once per sample the module took.
    void sample_params(const CellInfo &c, std::uint64_t now) {
        if (c.params.empty() || !c.stat_samples)
            return;
        auto [it, fresh] = params_logged.try_emplace(c.name, c.stat_samples);
        if (!fresh && it->second == c.stat_samples)
            return;
        it->second = c.stat_samples;
        for (const ParamInfo &p : c.params) {
            ParamSample s;
            s.time_ms = now;
            s.cell = c.name;
            s.param = stat_param_name(p.id);
            s.value = p.value;
            s.level = p.level;
            if (p.armed && p.t1 != KIS_STAT_NEVER)
                s.t1 = p.t1;
            if (p.armed && p.t2 != KIS_STAT_NEVER)
                s.t2 = p.t2;
            log_text(log_param_line(s));
            if (json)
                emit("", param_json(s));
        }
    }

    bool done() const { return limit && alerts >= limit; }

    void sample() {
        auto cells = module.cells();
        auto tasks = cells ? module.tasks() : Result<std::vector<TaskInfo>>(cells.error());
        if (!cells || !tasks) {
            failure = cells ? tasks.error() : cells.error();
            failure->message = "cannot read the scores: " + failure->message;
            return;
        }
        std::uint64_t now = realtime_ms();
        std::string text;
        for (const CellInfo &c : *cells) {
            if (cell && c.name != *cell)
                continue;
            sample_params(c, now);
            if (!c.armed()) {
                if (cell && unarmed_noted.insert(c.name).second)
                    print_error("monitor: cell \"" + c.name +
                                "\" is not armed: its tasks have no score until a profile is "
                                "loaded (kisctl profile load " +
                                c.name + " DB)");
                continue;
            }
            unarmed_noted.erase(c.name);
            std::vector<Sample> samples;
            for (const TaskInfo &t : *tasks) {
                if (t.cell != c.name)
                    continue;
                samples.push_back(
                    {now, c.name, t.pid, t.tgid, t.comm, t.score, t.max_score, c.seq_threshold});
            }
            std::sort(samples.begin(), samples.end(),
                      [](const Sample &a, const Sample &b) { return a.pid < b.pid; });
            for (const Sample &s : samples) {
                log_text(log_sample_line(s));
                if (json)
                    emit("", sample_json(s));
            }
            if (!json)
                text += format_samples(samples);
        }
        if (!json && !text.empty())
            emit(text, {});
    }
};

int run_monitor(const Args &args) {
    auto o = parse_options("monitor", args,
                           {{"--cell", "-c", OptionSpec::value},
                            {"--log", "-l", OptionSpec::value},
                            {"--exec-on-alert", "-e", OptionSpec::rest},
                            {"--json", ""},
                            {"--interval", "-i", OptionSpec::value},
                            {"--count", "-n", OptionSpec::value},
                            {"--duration", "-d", OptionSpec::value}});
    if (!o)
        return kExitUsage;
    if (o->help) {
        print_help(kMonitorCommand);
        return kExitOk;
    }
    if (!o->operands.empty())
        return usage_error(kMonitorCommand, "unexpected argument \"" + o->operands[0] + "\"");
    std::uint64_t interval = kIntervalDefaultMs;
    if (const std::string *v = o->value("--interval")) {
        auto n = parse_number(*v, 0, kIntervalMaxMs);
        if (!n || (*n && *n < kIntervalMinMs))
            return usage_error(kMonitorCommand, "--interval must be 0 (no scores) or " +
                                                    std::to_string(kIntervalMinMs) + " to " +
                                                    std::to_string(kIntervalMaxMs) +
                                                    " milliseconds, not \"" + *v + "\"");
        interval = *n;
    }
    auto count = number_option("monitor", *o, "--count", 0, 1, UINT64_MAX);
    if (!count)
        return kExitUsage;
    auto duration = duration_option("monitor", *o);
    if (!duration)
        return kExitUsage;
    std::uint64_t duration_ms = *duration;
    std::optional<std::string> cell;
    if (const std::string *c = o->value("--cell")) {
        cell = *c;
        if (!check_cell_operand("monitor", *c))
            return kExitFailure;
    }
    std::optional<std::string> program;
    if (!o->rest.empty()) {
        program = find_executable(o->rest[0]);
        if (!program) {
            print_error("monitor: --exec-on-alert: " + o->rest[0] +
                        (o->rest[0].find('/') == std::string::npos
                             ? " is not an executable file in PATH"
                             : " is not an executable file"));
            return kExitFailure;
        }
    }
    bool json = o->has("--json");

    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    Module &module = session->first;
    if (cell) {
        if (auto info = module.cell(*cell); !info) {
            report_refusal("monitor", *cell, info.error());
            return kExitFailure;
        }
    }
    Monitor m{module};
    if (auto cells = module.cells())
        m.note_levels(*cells);
    m.cell = cell;
    m.json = json;
    m.limit = *count;
    m.gaps = AlertGaps(session->second.events_lost);
    if (const std::string *path = o->value("--log")) {
        auto log = LogFile::open(*path);
        if (!log) {
            print_error("monitor: " + log.error().message);
            return kExitFailure;
        }
        m.log.emplace(std::move(*log));
    }
    auto signals = StopSignals::create(program.has_value());
    if (!signals) {
        print_error("monitor: " + signals.error().message);
        return kExitFailure;
    }
    if (program)
        m.runner.emplace(*program, o->rest, **signals, json);
    auto sub = Subscription::open(true, false);
    if (!sub) {
        print_error("monitor: " + sub.error().message);
        return kExitFailure;
    }
    if (!json) {
        std::cout << "monitoring " << (cell ? "cell " + *cell : std::string("all cells"))
                  << ": alerts and danger signals as they come";
        if (interval)
            std::cout << ", scores every " << interval << " ms";
        std::cout << "; stop with Ctrl-C\n" << std::flush;
    }

    Subscription::Handlers handlers;
    handlers.on_alert = [&](const Alert &a) { m.on_alert(a); };
    handlers.on_danger = [&](const DangerEvent &d) { m.on_danger(d); };
    handlers.on_training = [&](const TrainingEvent &t) { m.on_training(t); };
    handlers.on_overrun = [&] {
        print_error("monitor: WARNING: the event socket overflowed: events were lost (the next "
                    "event tells how many)");
    };
    std::uint64_t start = monotonic_ms();
    std::uint64_t next_sample = start;
    for (;;) {
        std::uint64_t now = monotonic_ms();
        if (interval && now >= next_sample) {
            m.sample();
            next_sample = std::max(next_sample + interval, now + 1);
        }
        if (m.failure || m.done())
            break;
        if (duration_ms && now - start >= duration_ms)
            break;
        std::uint64_t wait = UINT32_MAX;
        if (interval)
            wait = next_sample > now ? next_sample - now : 0;
        if (duration_ms)
            wait = std::min(wait, start + duration_ms - now);
        pollfd fds[2] = {{sub->fd(), POLLIN, 0}, {(*signals)->fd(), POLLIN, 0}};
        int n = ::poll(fds, 2, wait == UINT32_MAX ? -1 : static_cast<int>(wait));
        if (n < 0 && errno != EINTR) {
            m.failure = make_error(std::string("poll: ") + std::strerror(errno));
            break;
        }
        if (fds[1].revents) {
            int sig = (*signals)->read();
            if ((*signals)->child_exited() && m.runner)
                m.runner->reap();
            if (sig)
                break;
        }
        // POLLERR: the socket overflowed; receive() reads the error and reports it.
        if (fds[0].revents) {
            if (auto r = sub->receive(handlers); !r) {
                m.failure = r.error();
                break;
            }
        }
    }
    if (m.runner)
        m.runner->reap();

    if (!json)
        std::cout << "monitor: " << counted(m.alerts, "alert", "alerts") << ", "
                  << counted(m.dangers, "danger event", "danger events") << ", "
                  << counted(m.training, "training event", "training events") << ", " << m.missed
                  << " missed\n";
    else
        std::cout << nlohmann::ordered_json{{"type", "end"},        {"alerts", m.alerts},
                                            {"missed", m.missed},   {"overruns", sub->overruns()},
                                            {"dangers", m.dangers}, {"training", m.training}}
                         .dump()
                  << "\n";
    std::cout << std::flush;
    if (m.failure) {
        print_error("monitor: " + m.failure->message);
        return kExitFailure;
    }
    return kExitOk;
}

} // namespace

const Command kMonitorCommand = {
    "monitor",
    "show alerts and danger signals live, and the normality of watched tasks; log, plot, act",
    "usage: kisctl monitor [--cell CELL] [--log FILE] [--json] [--interval MS] [--count N]\n"
    "                      [--duration SECONDS] [--exec-on-alert PROG [ARG...]]\n"
    "\n"
    "Prints every event of the module as it comes: alerts (the task whose average anomaly\n"
    "rose above its cell's threshold, with its last system calls), danger signals (a\n"
    "parameter of a cell rose above its threshold 1 or 2, or decayed), and suspected\n"
    "training (a sample far from what the config expects, not learned); and every\n"
    "--interval the score of each task of the armed cells:\n"
    "  2026-11-23T12:30:28.123Z ALERT #3 cell httpd pid 57 (tgid 57, httpd): score 412 >\n"
    "  threshold 300; last calls 0 1 2 3 59\n"
    "  2026-11-23T12:30:28.500Z cell httpd threshold 300: 57=12 60=0\n"
    "  2026-11-23T12:30:29.000Z DANGER 2 #4 cell httpd: tx_bytes 912000 bytes vs mean\n"
    "  20480 +- 4096 bytes, thresholds 32768 and 45056; cell at danger 2\n"
    "Events are numbered by the module, one sequence for all kinds; a gap in the numbers, or\n"
    "an event the module had to drop, is reported as missed. Stops on Ctrl-C (SIGINT),\n"
    "SIGTERM, after --count alerts or after --duration. Needs no privileges.\n"
    "\n"
    "options:\n"
    "  -c, --cell CELL          only this cell's events, scores and parameters\n"
    "  -l, --log FILE           append the history to FILE for `kisctl plot`: lines\n"
    "                           TIME_MS CELL PID SCORE THRESHOLD, for alerts\n"
    "                           TIME_MS CELL PID SCORE THRESHOLD alert SEQ TGID COMM CALLS,\n"
    "                           for each parameter sample\n"
    "                           TIME_MS CELL param NAME VALUE T1 T2 LEVEL, and danger and\n"
    "                           training events (Documentation/kisctl.md)\n"
    "  --json                   one JSON object per line: {\"type\": \"alert\"|\"danger\"|\n"
    "                           \"training\"|\"sample\"|\"param\"|\"lost\"|\"end\", ...}\n"
    "  -i, --interval MS        scores and parameters every MS milliseconds (default 500;\n"
    "                           0: none)\n"
    "  -n, --count N            stop after N alerts\n"
    "  -d, --duration SECONDS   stop after this long (e.g. 60 or 0.5)\n"
    "  -e, --exec-on-alert PROG [ARG...]\n"
    "                           run PROG with ARGs for each alert and each danger signal\n"
    "                           that rises (fork and execve, no shell; PROG is looked up\n"
    "                           in PATH), with the event in its environment: KIS_EVENT\n"
    "                           (alert or danger), KIS_CELL, KIS_SEQ, KIS_TIME (UTC),\n"
    "                           KIS_TIME_NS, KIS_PID, KIS_TGID, KIS_COMM; for alerts\n"
    "                           KIS_SCORE, KIS_THRESHOLD, KIS_CALLS (numbers separated by\n"
    "                           spaces); for danger KIS_PARAM, KIS_UNIT, KIS_LEVEL,\n"
    "                           KIS_CELL_LEVEL, KIS_VALUE, KIS_MEAN, KIS_DEV, KIS_T1,\n"
    "                           KIS_T2, KIS_PEER (ADDR:PORT), KIS_PATH (empty when not\n"
    "                           known). Every argument after PROG is PROG's, so this\n"
    "                           option comes last. At most 16 run at once; stdin is\n"
    "                           /dev/null, with --json stdout goes to stderr.\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 stopped as asked, 1 failure, 2 usage error.\n",
    run_monitor,
};

} // namespace kis
