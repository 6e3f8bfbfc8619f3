// `kisctl profile load` and `kisctl profile unload`: arming a cell with a profile file in
// the module. The `profile` command (cmd_profile.cpp) dispatches to these; each takes the
// whole argument list of `profile`, the action name first ("load CELL DB").
#pragma once

#include "command.hpp"

namespace kis {

int run_profile_load(const Args &args);
int run_profile_unload(const Args &args);

// The usage lines, for the help of `kisctl profile`.
inline constexpr const char *kProfileLoadUsage = "kisctl profile load CELL DB";
inline constexpr const char *kProfileUnloadUsage = "kisctl profile unload CELL";

} // namespace kis
