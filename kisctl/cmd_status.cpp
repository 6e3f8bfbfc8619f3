// kisctl status [--json]: the module, its cells and their watched tasks.
#include "status.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>

#include <linux/kis.h>

#include "command.hpp"
#include "text.hpp"

namespace kis {

namespace {

// The tasks of one cell, sorted by tgid then pid.
std::vector<const TaskInfo *> tasks_of(const StatusReport &report, const std::string &cell) {
    std::vector<const TaskInfo *> tasks;
    for (const TaskInfo &t : report.tasks)
        if (t.cell == cell)
            tasks.push_back(&t);
    std::sort(tasks.begin(), tasks.end(), [](const TaskInfo *a, const TaskInfo *b) {
        return a->tgid != b->tgid ? a->tgid < b->tgid : a->pid < b->pid;
    });
    return tasks;
}

int run_status(const Args &args) {
    auto parsed = parse_args(kStatusCommand, args, {"--json"});
    if (!parsed)
        return kExitUsage;
    if (parsed->help) {
        print_help(kStatusCommand);
        return kExitOk;
    }
    if (!parsed->operands.empty())
        return usage_error(kStatusCommand, "unexpected argument \"" + parsed->operands[0] + "\"");

    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return kExitFailure;
    }
    Module &module = session->first;
    StatusReport report;
    report.module = session->second;

    auto cells = module.cells();
    if (!cells) {
        print_error("status: cannot list the cells: " + cells.error().message);
        return kExitFailure;
    }
    report.cells = std::move(cells).value();
    auto tasks = module.tasks();
    if (!tasks) {
        print_error("status: cannot list the tasks: " + tasks.error().message);
        return kExitFailure;
    }
    report.tasks = std::move(tasks).value();

    if (parsed->has("--json"))
        std::cout << status_json_text(report) << "\n";
    else
        std::cout << format_status(report);
    std::cout << std::flush;
    return kExitOk;
}

} // namespace

std::string format_status(const StatusReport &report) {
    std::string out;
    char buf[512];
    out += "kis module " + report.module.module_version + ", protocol " +
           std::to_string(report.module.protocol) + " (kisctl protocol " +
           std::to_string(KIS_GENL_VERSION) + ")\n";
    out += "tasks watched: " + std::to_string(report.module.tasks_watched) + "\n";
    out += "alerts lost: " + std::to_string(report.module.events_lost) + "\n";
    if (report.cells.empty()) {
        out += "no cells loaded\n";
        return out;
    }
    for (const CellInfo &c : report.cells) {
        out += "cell " + c.name + ": program " + kis::quoted(c.program) + " args " +
               kis::quoted(c.args) + " follow-exec " + (c.follow_exec ? "yes" : "no") +
               " max-tasks " + std::to_string(c.max_tasks) + "\n";
        std::snprintf(buf, sizeof buf,
                      "  tasks %" PRIu32 ", joined %" PRIu64 ", left %" PRIu64 ", execs %" PRIu64
                      ", over-limit %" PRIu64 ", syscalls %" PRIu64 "\n",
                      c.tasks, c.joined, c.left, c.execs, c.over_limit, c.syscalls);
        out += buf;
        std::snprintf(buf, sizeof buf,
                      "  state %s, k %" PRIu32 ", window %" PRIu32 ", threshold %" PRIu32
                      ", learn-prefixes %" PRIu32 ", learn-kgrams %" PRIu32 "\n",
                      cell_state_text(c.state).c_str(), c.seq_k, c.seq_window, c.seq_threshold,
                      c.learn_prefixes, c.learn_kgrams);
        out += buf;
        std::snprintf(buf, sizeof buf,
                      "  learned %" PRIu64 ", learn-dropped %" PRIu64 ", profile-kgrams %" PRIu32
                      ", alerts %" PRIu64 ", trace-lost %" PRIu64 "\n",
                      c.learned, c.learn_dropped, c.profile_kgrams, c.alerts, c.trace_lost);
        out += buf;
        auto tasks = tasks_of(report, c.name);
        if (tasks.empty()) {
            out += "  no tasks\n";
            continue;
        }
        std::snprintf(buf, sizeof buf, "  %-8s %-8s %-12s %-16s %-5s %s\n", "PID", "TGID",
                      "SYSCALLS", "COMM", "SCORE", "MAX");
        out += buf;
        for (const TaskInfo *t : tasks) {
            std::snprintf(
                buf, sizeof buf,
                "  %-8" PRIu32 " %-8" PRIu32 " %-12" PRIu64 " %-16s %-5" PRIu32 " %" PRIu32 "\n",
                t->pid, t->tgid, t->syscalls, printable(t->comm).c_str(), t->score, t->max_score);
            out += buf;
        }
    }
    return out;
}

nlohmann::ordered_json status_json(const StatusReport &report) {
    nlohmann::ordered_json cells = nlohmann::ordered_json::array();
    for (const CellInfo &c : report.cells) {
        nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
        for (const TaskInfo *t : tasks_of(report, c.name))
            tasks.push_back({{"pid", t->pid},
                             {"tgid", t->tgid},
                             {"comm", t->comm},
                             {"syscalls", t->syscalls},
                             {"score", t->score},
                             {"max_score", t->max_score}});
        nlohmann::ordered_json state = nlohmann::ordered_json::array();
        if (c.learning())
            state.push_back("learning");
        if (c.armed())
            state.push_back("armed");
        if (c.tracing())
            state.push_back("tracing");
        cells.push_back({
            {"name", c.name},
            {"program", c.program},
            {"args", c.args},
            {"follow_exec", c.follow_exec},
            {"max_tasks", c.max_tasks},
            {"id", c.id},
            {"sequence",
             {{"k", c.seq_k},
              {"window", c.seq_window},
              {"threshold", c.seq_threshold},
              {"learn_prefixes", c.learn_prefixes},
              {"learn_kgrams", c.learn_kgrams}}},
            {"state", std::move(state)},
            {"counters",
             {{"tasks", c.tasks},
              {"joined", c.joined},
              {"left", c.left},
              {"execs", c.execs},
              {"over_limit", c.over_limit},
              {"syscalls", c.syscalls},
              {"learned", c.learned},
              {"learn_dropped", c.learn_dropped},
              {"profile_kgrams", c.profile_kgrams},
              {"alerts", c.alerts},
              {"trace_lost", c.trace_lost}}},
            {"tasks", std::move(tasks)},
        });
    }
    return {
        {"module_version", report.module.module_version},
        {"protocol", report.module.protocol},
        {"kisctl_protocol", KIS_GENL_VERSION},
        {"tasks_watched", report.module.tasks_watched},
        {"alerts_lost", report.module.events_lost},
        {"cells", std::move(cells)},
    };
}

std::string status_json_text(const StatusReport &report) {
    return status_json(report).dump(-1, ' ', false,
                                    nlohmann::ordered_json::error_handler_t::replace);
}

const Command kStatusCommand = {
    "status",
    "show the module, its cells and their watched tasks",
    "usage: kisctl status [--json]\n"
    "\n"
    "Shows the module and protocol versions, the number of watched tasks, and for each cell\n"
    "its pattern, counters, sequence model and tasks (sorted by process id, then thread id).\n"
    "Needs no privileges.\n"
    "\n"
    "Per cell: state (learning, armed, tracing, or idle), k, window and threshold of the\n"
    "sequence model, learning room; calls learned by the current learning run, k-grams\n"
    "dropped because the learning room was full, k-grams of the armed profile, alerts raised,\n"
    "trace records lost. Per task: SCORE, its average anomaly over the window now (0..1000),\n"
    "and MAX, the highest since the cell was armed.\n"
    "\n"
    "options:\n"
    "  --json        print the same data as one JSON object\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 ok, 1 failure (e.g. the module is not loaded), 2 usage error.\n",
    run_status,
};

} // namespace kis
