#include "session.hpp"

#include <cerrno>
#include <cstdlib>

#include <sys/stat.h>
#include <unistd.h>

#include "command.hpp"
#include "config.hpp"

namespace kis {

std::optional<Module> connect_or_report() {
    auto session = Module::connect_checked();
    if (!session) {
        print_error(session.error().message);
        return std::nullopt;
    }
    return std::move(session->first);
}

void report_refusal(std::string_view action, const std::string &cell, const Error &error) {
    std::string a(action);
    int err = error.kernel_errno;
    if (err == EPERM || err == EACCES)
        print_error(a + ": permission denied: changing KIS needs CAP_NET_ADMIN (run as root)");
    else if (err == ENOENT)
        print_error(a + ": no cell named \"" + cell +
                    "\" is loaded (kisctl status lists the "
                    "loaded cells)");
    else if (err)
        print_error(a + " of cell \"" + cell + "\" refused by the module: " + error.message);
    else
        print_error(a + ": " + error.message);
}

bool check_cell_operand(std::string_view action, const std::string &cell) {
    if (!check_cell_name(cell))
        return true;
    print_error(std::string(action) + ": no cell named \"" + cell +
                "\" (not a valid cell name; kisctl status lists the loaded cells)");
    return false;
}

std::optional<std::string> find_executable(const std::string &program) {
    auto runnable = [](const std::string &p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (program.empty())
        return std::nullopt;
    if (program.find('/') != std::string::npos)
        return runnable(program) ? std::optional<std::string>(program) : std::nullopt;
    const char *path = std::getenv("PATH");
    std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = dirs.find(':', start);
        std::string dir =
            dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
        if (runnable(candidate))
            return candidate;
        if (colon == std::string::npos)
            return std::nullopt;
        start = colon + 1;
    }
}

std::string counted(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

} // namespace kis
