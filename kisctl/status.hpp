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
};

// The plain format; the guest tests parse it, so it changes only with them.
std::string format_status(const StatusReport &report);

// Keys in the documented order (module_version, protocol, ...).
nlohmann::ordered_json status_json(const StatusReport &report);

// status_json as one line; bytes that are not UTF-8 (a comm can hold anything) become U+FFFD.
std::string status_json_text(const StatusReport &report);

} // namespace kis
