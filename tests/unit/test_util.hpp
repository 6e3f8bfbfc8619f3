// Helpers shared by the unit tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace kis::test {

// The repository and the test data, found through the KIS_SOURCE_DIR compile definition.
inline std::filesystem::path source_dir() { return KIS_SOURCE_DIR; }
inline std::filesystem::path data_dir() { return source_dir() / "tests/unit/data"; }
inline std::filesystem::path config_dir() { return data_dir() / "config"; }

// The files of a directory with the given extension, sorted.
inline std::vector<std::filesystem::path> files_in(const std::filesystem::path &dir,
                                                   const std::string &ext = ".toml") {
    std::vector<std::filesystem::path> files;
    for (const auto &entry : std::filesystem::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().extension() == ext)
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

// Single-quotes a word for /bin/sh.
inline std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

struct RunResult {
    int status = -1; // exit status, or -1 if the program did not exit normally
    std::string out; // stdout
    std::string err; // stderr
};

// Runs the built kisctl with the given arguments, capturing both streams.
RunResult run_kisctl(const std::vector<std::string> &args);

// Checks that each argument list is a usage error: exit status 2, a message on stderr,
// nothing on stdout.
void check_usage_errors(const std::vector<std::vector<std::string>> &cases);

} // namespace kis::test
