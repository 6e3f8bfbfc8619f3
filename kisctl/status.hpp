// What `kisctl status` shows, and its two formats. Separate from the netlink code so that
// the formats can be tested without the module.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netlink.hpp"

namespace kis {

struct StatusReport {
    ModuleInfo module;
    std::vector<CellInfo> cells; // in the module's order
    std::vector<TaskInfo> tasks; // any order; the formats sort them by tgid, then pid
    std::vector<ConnInfo> conns; // tracked TCP connections, in the module's order
};

// The plain format; the guest tests parse it, so it changes only with them. The table of
// statistics parameters lists those with samples or a danger level, or all with all_params.
std::string format_status(const StatusReport &report, bool all_params = false);

// The danger level as shown: "none", "1" or "2".
std::string danger_text(std::uint32_t level);

// What `kisctl learn status` adds under a cell's line: the statistics learned so far
// (intervals sampled, files learned, and per parameter with samples: samples, mean and
// deviation). Lines start with two spaces.
std::string format_learn_stats(const CellInfo &cell);

// Keys in the documented order (module_version, protocol, ...).
nlohmann::ordered_json status_json(const StatusReport &report);

// status_json as one line; bytes that are not UTF-8 (a comm can hold anything) become U+FFFD.
std::string status_json_text(const StatusReport &report);

} // namespace kis
