// kisctl status [--json]: the module, its cells and their watched tasks.
#include "status.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>

#include <linux/kis.h>

#include "command.hpp"
#include "config.hpp"
#include "kis_stat.h"
#include "session.hpp"
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

std::vector<const ConnInfo *> conns_of(const StatusReport &report, const std::string &cell) {
    std::vector<const ConnInfo *> conns;
    for (const ConnInfo &c : report.conns)
        if (c.cell == cell)
            conns.push_back(&c);
    return conns;
}

// The cell's tracked connections with their danger level, when it has any.
void append_conn_table(std::string &out, const StatusReport &report, const std::string &cell) {
    char buf[512];
    auto conns = conns_of(report, cell);
    if (conns.empty())
        return;
    std::snprintf(buf, sizeof buf, "  %-46s %-6s %-8s %-13s %-13s %s\n", "PEER", "LOCAL", "PID",
                  "RX", "TX", "LEVEL");
    out += buf;
    for (const ConnInfo *c : conns) {
        std::snprintf(buf, sizeof buf,
                      "  %-46s %-6" PRIu16 " %-8" PRIu32 " %-13" PRIu64 " %-13" PRIu64 " %s\n",
                      peer_text(c->peer).c_str(), c->peer.local_port, c->pid, c->rx_bytes,
                      c->tx_bytes, danger_text(c->level).c_str());
        out += buf;
    }
}

std::string number_or_dash(bool known, std::uint64_t v) {
    return known ? std::to_string(v) : std::string("-");
}

bool threshold_known(const ParamInfo &p, std::uint64_t t) { return p.armed && t != KIS_STAT_NEVER; }

// Whether a parameter has anything to show without --params.
bool param_active(const ParamInfo &p) { return p.samples > 0 || p.level != KIS_DANGER_NONE; }

void append_param_table(std::string &out, const CellInfo &c, bool all) {
    char buf[512];
    bool header = false;
    for (const ParamInfo &p : c.params) {
        if (!all && !param_active(p))
            continue;
        if (!header) {
            std::snprintf(buf, sizeof buf, "  %-13s %-13s %-13s %-13s %-13s %-13s %-5s %s\n",
                          "PARAM", "VALUE", "MEAN", "DEV", "T1", "T2", "LEVEL", "SAMPLES");
            out += buf;
            header = true;
        }
        // Means are known once something was learned, or armed with statistics that have
        // thresholds.
        bool learned = p.samples > 0 || threshold_known(p, p.t1);
        std::snprintf(buf, sizeof buf, "  %-13s %-13s %-13s %-13s %-13s %-13s %-5s %" PRIu64 "\n",
                      stat_param_name(p.id).c_str(), std::to_string(p.value).c_str(),
                      number_or_dash(learned, p.mean).c_str(),
                      number_or_dash(learned, p.dev).c_str(),
                      number_or_dash(threshold_known(p, p.t1), p.t1).c_str(),
                      number_or_dash(threshold_known(p, p.t2), p.t2).c_str(),
                      p.armed ? danger_text(p.level).c_str() : "-", p.samples);
        out += buf;
    }
}

nlohmann::ordered_json param_json(const ParamInfo &p) {
    const kis_stat_param_info *info = kis_stat_param(p.id);
    auto threshold = [&](std::uint64_t t) {
        return p.armed && t != KIS_STAT_NEVER ? nlohmann::ordered_json(t)
                                              : nlohmann::ordered_json(nullptr);
    };
    return {
        {"name", stat_param_name(p.id)},
        {"id", p.id},
        {"unit", info && info->unit ? info->unit : ""},
        {"per_conn", info ? info->per_conn : false},
        {"armed", p.armed},
        {"level", p.level},
        {"value", p.value},
        {"samples", p.samples},
        {"mean", p.mean},
        {"dev", p.dev},
        {"t1", threshold(p.t1)},
        {"t2", threshold(p.t2)},
        {"mult1", p.mult1 / 10.0},
        {"mult2", p.mult2 / 10.0},
        {"floor", p.floor},
        {"expect", p.expect ? nlohmann::ordered_json(*p.expect) : nlohmann::ordered_json(nullptr)},
        {"tolerance",
         p.expect ? nlohmann::ordered_json(p.tolerance) : nlohmann::ordered_json(nullptr)},
    };
}

int run_status(const Args &args) {
    auto parsed = parse_args(kStatusCommand, args, {"--json", "--params"});
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
    auto conns = module.connections();
    if (!conns) {
        print_error("status: cannot list the connections: " + conns.error().message);
        return kExitFailure;
    }
    report.conns = std::move(conns).value();

    if (parsed->has("--json"))
        std::cout << status_json_text(report) << "\n";
    else
        std::cout << format_status(report, parsed->has("--params"));
    std::cout << std::flush;
    return kExitOk;
}

} // namespace

std::string danger_text(std::uint32_t level) {
    return level == KIS_DANGER_NONE ? "none" : std::to_string(level);
}

std::string format_learn_stats(const CellInfo &c) {
    char buf[256];
    std::string out = "  statistics: " + counted(c.stat_samples, "interval", "intervals") +
                      " sampled, " + counted(c.files_learned, "file", "files") + " learned (room " +
                      std::to_string(c.file_tree) + ")";
    if (c.training)
        out += ", " +
               counted(c.training, "suspected training sample", "suspected training samples") +
               " not learned";
    out += "\n";
    bool header = false;
    for (const ParamInfo &p : c.params) {
        if (p.samples == 0)
            continue;
        if (!header) {
            std::snprintf(buf, sizeof buf, "  %-13s %-13s %-13s %s\n", "PARAM", "SAMPLES", "MEAN",
                          "DEV");
            out += buf;
            header = true;
        }
        std::snprintf(buf, sizeof buf, "  %-13s %-13" PRIu64 " %-13" PRIu64 " %" PRIu64 "\n",
                      stat_param_name(p.id).c_str(), p.samples, p.mean, p.dev);
        out += buf;
    }
    return out;
}

std::string format_status(const StatusReport &report, bool all_params) {
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
        std::snprintf(buf, sizeof buf,
                      "  danger %s, danger-events %" PRIu64 ", training %" PRIu64
                      ", threshold2 %" PRIu32 ", interval-ms %" PRIu32 ", hold1 %" PRIu32
                      ", hold2 %" PRIu32 "\n",
                      danger_text(c.danger).c_str(), c.danger_events, c.training, c.seq_threshold2,
                      c.stat_interval_ms, c.danger_hold1, c.danger_hold2);
        out += buf;
        std::snprintf(buf, sizeof buf,
                      "  stat-samples %" PRIu64 ", files-learned %" PRIu32 ", file-tree %" PRIu32
                      ", connections %" PRIu32 "\n",
                      c.stat_samples, c.files_learned, c.file_tree, c.connections);
        out += buf;
        append_param_table(out, c, all_params);
        append_conn_table(out, report, c.name);
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
        nlohmann::ordered_json params = nlohmann::ordered_json::array();
        for (const ParamInfo &p : c.params)
            params.push_back(param_json(p));
        nlohmann::ordered_json conns = nlohmann::ordered_json::array();
        for (const ConnInfo *k : conns_of(report, c.name))
            conns.push_back({{"peer", peer_text(k->peer)},
                             {"local_port", k->peer.local_port},
                             {"pid", k->pid},
                             {"tgid", k->tgid},
                             {"rx_bytes", k->rx_bytes},
                             {"tx_bytes", k->tx_bytes},
                             {"level", k->level}});
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
              {"threshold2", c.seq_threshold2},
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
            {"stats",
             {{"interval_ms", c.stat_interval_ms},
              {"hold1", c.danger_hold1},
              {"hold2", c.danger_hold2},
              {"file_tree", c.file_tree},
              {"danger", c.danger},
              {"danger_events", c.danger_events},
              {"training", c.training},
              {"samples", c.stat_samples},
              {"files_learned", c.files_learned},
              {"connections", c.connections},
              {"params", std::move(params)}}},
            {"tasks", std::move(tasks)},
            {"connections", std::move(conns)},
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
    "usage: kisctl status [--params] [--json]\n"
    "\n"
    "Shows the module and protocol versions, the number of watched tasks, and for each cell\n"
    "its pattern, counters, sequence model, statistics and tasks (sorted by process id, then\n"
    "thread id). Needs no privileges.\n"
    "\n"
    "Per cell: state (learning, armed, tracing, or idle), k, window and threshold of the\n"
    "sequence model, learning room; calls learned by the current learning run, k-grams\n"
    "dropped because the learning room was full, k-grams of the armed profile, alerts raised,\n"
    "trace records lost. The danger signal: the cell's level (none, 1 or 2), danger events\n"
    "raised, suspected training samples not learned, threshold2, the sampling interval and\n"
    "the holds; intervals sampled, files learned and room, connections tracked. A table of\n"
    "the statistics parameters with samples or a danger level: last VALUE, learned MEAN and\n"
    "DEV, thresholds T1 and T2, LEVEL and SAMPLES (\"-\" where not armed or never). Per task:\n"
    "SCORE, its average anomaly over the window now (0..1000), and MAX, the highest since the\n"
    "cell was armed.\n"
    "\n"
    "options:\n"
    "  --params      list every statistics parameter, not only those with samples or a level\n"
    "  --json        print the same data as one JSON object (every parameter)\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 ok, 1 failure (e.g. the module is not loaded), 2 usage error.\n",
    run_status,
};

} // namespace kis
