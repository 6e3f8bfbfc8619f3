// The kisctl binary, run as a user would, for everything that needs no module. On the build
// host the kis module is never loaded, so commands that need it must say so.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include <linux/kis.h>

#include "test_util.hpp"

namespace kis::test {

namespace {

std::string read_all(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "kis_unit.XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::filesystem::path &path() const { return path_; }

  private:
    std::filesystem::path path_;
};

bool module_loaded() { return access("/sys/module/kis", F_OK) == 0; }

std::string good(const std::string &name) { return (config_dir() / "good" / name).string(); }
std::string bad(const std::string &name) { return (config_dir() / "bad" / name).string(); }

const std::string kNotLoaded = "kisctl: the kis module is not loaded (no generic netlink family "
                               "\"kis\"); load it first: insmod kis.ko or modprobe kis";

} // namespace

RunResult run_kisctl(const std::vector<std::string> &args) {
    TempDir tmp;
    std::string cmd = shell_quote(KISCTL_PATH);
    for (const std::string &a : args)
        cmd += " " + shell_quote(a);
    cmd += " >" + shell_quote((tmp.path() / "out").string());
    cmd += " 2>" + shell_quote((tmp.path() / "err").string());
    int raw = std::system(cmd.c_str());
    RunResult r;
    r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = read_all(tmp.path() / "out");
    r.err = read_all(tmp.path() / "err");
    return r;
}

void check_usage_errors(const std::vector<std::vector<std::string>> &cases) {
    for (const auto &args : cases) {
        std::string label;
        for (const auto &a : args)
            label += a + " ";
        BOOST_TEST_CONTEXT("kisctl " << label) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 2);
            BOOST_TEST(!r.err.empty());
            BOOST_TEST(r.out.empty());
        }
    }
}

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(help_lists_every_command) {
    RunResult r = run_kisctl({"--help"});
    BOOST_TEST(r.status == 0);
    for (const char *cmd : {"check", "load", "unload", "status", "version"})
        BOOST_TEST(r.out.find(std::string("\n  ") + cmd + " ") != std::string::npos, cmd);
    BOOST_TEST(r.err.empty());
}

BOOST_AUTO_TEST_CASE(every_command_has_help) {
    for (const char *cmd : {"check", "load", "unload", "status", "version"}) {
        BOOST_TEST_CONTEXT(cmd) {
            RunResult r = run_kisctl({cmd, "--help"});
            BOOST_TEST(r.status == 0);
            BOOST_TEST(r.out.find(std::string("usage: kisctl ") + cmd) == 0u);
            RunResult h = run_kisctl({"help", cmd});
            BOOST_TEST(h.status == 0);
            BOOST_TEST(h.out == r.out);
        }
    }
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    const std::vector<std::vector<std::string>> cases = {
        {},
        {"bogus"},
        {"--bogus"},
        {"check"},
        {"load"},
        {"unload"},
        {"check", "--bogus", good("minimal.toml")},
        {"status", "--bogus"},
        {"status", "extra"},
        {"version", "extra"},
    };
    check_usage_errors(cases);
    RunResult r = run_kisctl({"bogus"});
    BOOST_TEST(r.err.find("unknown command \"bogus\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(version_without_module) {
    RunResult v = run_kisctl({"--version"});
    BOOST_TEST(v.status == 0);
    BOOST_TEST(v.out == "kisctl protocol " + std::to_string(KIS_GENL_VERSION) + "\n");
    if (module_loaded())
        return; // the rest needs the module absent
    RunResult r = run_kisctl({"version"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "kisctl protocol " + std::to_string(KIS_GENL_VERSION) + "\n");
    BOOST_TEST(r.err.empty());
}

BOOST_AUTO_TEST_CASE(check_good_files) {
    RunResult r = run_kisctl({"check", good("minimal.toml"), good("several.toml")});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == good("minimal.toml") + ": ok (1 cell)\n" + good("several.toml") +
                            ": ok (3 cells)\n");
    BOOST_TEST(r.err.empty());
}

BOOST_AUTO_TEST_CASE(check_repo_conf) {
    for (const auto &file : files_in(source_dir() / "conf/cells")) {
        RunResult r = run_kisctl({"check", file.string()});
        BOOST_TEST(r.status == 0, file);
        BOOST_TEST(r.out.find(file.string() + ": ok (") == 0u, r.out);
    }
}

BOOST_AUTO_TEST_CASE(check_reports_all_errors_of_all_files) {
    RunResult r =
        run_kisctl({"check", bad("unknown_key.toml"), good("minimal.toml"), bad("bad_glob.toml")});
    BOOST_TEST(r.status == 1);
    // The good file is still reported as good.
    BOOST_TEST(r.out == good("minimal.toml") + ": ok (1 cell)\n");
    BOOST_TEST(r.err.find(bad("unknown_key.toml") + ":6: unknown key \"folow_exec\" in cell "
                                                    "\"httpd\"") != std::string::npos,
               r.err);
    BOOST_TEST(r.err.find(bad("bad_glob.toml") + ":5: program \"[abc\" is not a valid glob") !=
                   std::string::npos,
               r.err);
    // One line per error, each FILE:LINE: message.
    std::istringstream lines(r.err);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        BOOST_TEST((line.rfind(bad("unknown_key.toml") + ":", 0) == 0 ||
                    line.rfind(bad("bad_glob.toml") + ":", 0) == 0),
                   line);
        n++;
    }
    BOOST_TEST(n >= 5);
}

BOOST_AUTO_TEST_CASE(check_missing_file) {
    RunResult r = run_kisctl({"check", "/nonexistent/cells.toml"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "/nonexistent/cells.toml: cannot open: No such file or directory\n");
}

BOOST_AUTO_TEST_CASE(load_bad_file_fails_before_the_module) {
    RunResult r = run_kisctl({"load", good("minimal.toml"), bad("unknown_key.toml")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err.find(bad("unknown_key.toml") + ":6: unknown key \"folow_exec\"") == 0u, r.err);
    BOOST_TEST(r.err.find("nothing was loaded") != std::string::npos, r.err);
    // The module was not contacted, so its absence is not mentioned.
    BOOST_TEST(r.err.find("not loaded") == std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(load_duplicate_names) {
    std::string first = (config_dir() / "dup/first.toml").string();
    std::string second = (config_dir() / "dup/second.toml").string();
    RunResult r = run_kisctl({"load", first, second});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find(second + ":5: cell \"httpd\" is already defined at " + first + ":2") ==
                   0u,
               r.err);
    BOOST_TEST(r.err.find("not loaded") == std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(load_too_many_cells) {
    TempDir tmp;
    std::string path = (tmp.path() / "many.toml").string();
    {
        std::ofstream out(path);
        for (int i = 0; i <= KIS_LOAD_CELLS_MAX; i++)
            out << "[[cell]]\nname = \"c" << i << "\"\nprogram = \"p" << i << "\"\n";
    }
    RunResult c = run_kisctl({"check", path});
    BOOST_TEST(c.status == 0);
    RunResult r = run_kisctl({"load", path});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("at most " + std::to_string(KIS_LOAD_CELLS_MAX)) != std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_CASE(commands_needing_the_module_say_it_is_not_loaded) {
    if (module_loaded()) {
        BOOST_TEST_MESSAGE("the kis module is loaded here; skipping");
        return;
    }
    const std::vector<std::vector<std::string>> cases = {
        {"load", good("minimal.toml")},
        {"unload", "httpd"},
        {"status"},
        {"status", "--json"},
    };
    for (const auto &args : cases) {
        BOOST_TEST_CONTEXT("kisctl " << args[0]) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 1);
            BOOST_TEST(r.out.empty());
            BOOST_TEST(r.err == kNotLoaded + "\n");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
