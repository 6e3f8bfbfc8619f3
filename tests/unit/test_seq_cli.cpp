// The runtime commands of the sequence model (set, learn, profile load|unload, trace,
// monitor, plot), run as a user would, for everything that needs no module: help, usage
// errors, checks made before the module is contacted, the not-loaded message, and plot.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "test_profile_util.hpp"

namespace kis::test {

namespace {

bool module_loaded() { return access("/sys/module/kis", F_OK) == 0; }

const std::string kNotLoaded = "kisctl: the kis module is not loaded (no generic netlink family "
                               "\"kis\"); load it first: insmod kis.ko or modprobe kis\n";

// Runs kisctl with PATH set to `path`.
RunResult run_with_path(const std::string &path, const std::vector<std::string> &args) {
    ScratchDir tmp;
    std::string cmd = "/usr/bin/env PATH=" + shell_quote(path) + " " + shell_quote(KISCTL_PATH);
    for (const std::string &a : args)
        cmd += " " + shell_quote(a);
    cmd += " >" + shell_quote(tmp.file("out")) + " 2>" + shell_quote(tmp.file("err"));
    int raw = std::system(cmd.c_str());
    RunResult r;
    r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = read_text(tmp.file("out"));
    r.err = read_text(tmp.file("err"));
    return r;
}

std::string label(const std::vector<std::string> &args) {
    std::string s = "kisctl";
    for (const std::string &a : args)
        s += " " + a;
    return s;
}

const std::string kLog = "# kisctl monitor log: TIME_MS CELL PID SCORE THRESHOLD [alert SEQ "
                         "TGID COMM CALLS]\n"
                         "1795438148402 httpd 103 10 300\n"
                         "1795438148902 httpd 103 12 300\n"
                         "1795438149402 httpd 103 350 300\n"
                         "1795438149186 httpd 389 319 300 alert 5 389 cat 102,257,40,40,3\n";

} // namespace

BOOST_AUTO_TEST_SUITE(seq_cli)

BOOST_AUTO_TEST_CASE(help) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"set", "--help"}, "usage: kisctl set CELL"},
        {{"learn", "--help"}, "usage: kisctl learn start CELL"},
        {{"learn", "start", "--help"}, "usage: kisctl learn start CELL"},
        {{"learn", "stop", "-h"}, "usage: kisctl learn stop CELL"},
        {{"learn", "status", "--help"}, "usage: kisctl learn status"},
        {{"learn", "save", "--help"}, "usage: kisctl learn save CELL -o DB"},
        {{"profile", "load", "--help"}, "usage: kisctl profile load CELL DB"},
        {{"profile", "unload", "--help"}, "usage: kisctl profile unload CELL"},
        {{"trace", "--help"}, "usage: kisctl trace --cell CELL"},
        {{"monitor", "--help"}, "usage: kisctl monitor [--cell CELL]"},
        {{"plot", "--help"}, "usage: kisctl plot LOG -o FILE.png"},
    };
    for (const auto &[args, start] : cases) {
        BOOST_TEST_CONTEXT(label(args)) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 0);
            BOOST_TEST(r.out.rfind(start, 0) == 0u, r.out);
            BOOST_TEST(r.err.empty());
        }
    }
    RunResult list = run_kisctl({"--help"});
    for (const char *cmd : {"set", "learn", "trace", "monitor", "plot"})
        BOOST_TEST(list.out.find(std::string("\n  ") + cmd + " ") != std::string::npos, cmd);
    for (const char *cmd : {"set", "learn", "trace", "monitor", "plot"})
        BOOST_TEST(run_kisctl({"help", cmd}).out == run_kisctl({cmd, "--help"}).out, cmd);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"set"}, "kisctl set: no cell name given"},
        {{"set", "web"}, "nothing to set"},
        {{"set", "web", "--window", "0"}, "--window must be a number from 1 to 128"},
        {{"set", "web", "--window", "129"}, "--window must be a number from 1 to 128"},
        {{"set", "web", "--threshold", "0.3"}, "--threshold must be a number from 0 to 1000"},
        {{"set", "a", "b", "--window", "3"}, "unexpected argument \"b\""},
        {{"set", "web", "--bogus"}, "unknown option --bogus"},
        {{"learn"}, "no action given: start, stop, status or save"},
        {{"learn", "bogus"}, "unknown action \"bogus\""},
        {{"learn", "start"}, "kisctl learn start: no cell name given"},
        {{"learn", "start", "web", "--for", "soon"}, "--for \"soon\" is not a duration"},
        {{"learn", "start", "web", "--for", "31d"}, "--for \"31d\" is not a duration"},
        {{"learn", "start", "web", "--for", "0s"}, "--for \"0s\" is not a duration"},
        {{"learn", "stop", "web", "--for", "1h"}, "unknown option --for"},
        {{"learn", "stop", "a", "b"}, "unexpected argument \"b\""},
        {{"learn", "save", "web"}, "no output file: give -o FILE"},
        {{"learn", "save", "-o", "x.kis"}, "no cell name given"},
        {{"profile", "load", "web"}, "kisctl profile load: no profile file given"},
        {{"profile", "load"}, "no cell name given"},
        {{"profile", "unload"}, "kisctl profile unload: no cell name given"},
        {{"trace", "-o", "t"}, "give either --cell CELL or --program NAME"},
        {{"trace", "--cell", "a", "--program", "b", "-o", "t"}, "give either"},
        {{"trace", "--cell", "a"}, "no output file: give -o FILE"},
        {{"trace", "--cell", "a", "--args", "x", "-o", "t"}, "go with --program"},
        {{"trace", "--program", "[x", "-o", "t"}, "program \"[x\" is not a valid glob"},
        {{"trace", "--program", "x", "--args", "", "-o", "t"}, "args \"\" is ambiguous"},
        {{"trace", "--cell", "a", "-o", "t", "--duration", "0"}, "--duration must be"},
        {{"trace", "--cell", "a", "-o", "t", "--count", "0"}, "--count must be a number"},
        {{"trace", "--cell", "a", "-o", "t", "extra"}, "unexpected argument \"extra\""},
        {{"monitor", "extra"}, "unexpected argument \"extra\""},
        {{"monitor", "--interval", "10"}, "--interval must be 0 (no scores) or 50 to"},
        {{"monitor", "--count", "0"}, "--count must be a number from 1"},
        {{"monitor", "--duration", "x"}, "--duration must be"},
        {{"monitor", "--exec-on-alert"}, "option --exec-on-alert needs a value"},
        {{"plot"}, "kisctl plot: no log file given"},
        {{"plot", "m.log"}, "no output file: give -o FILE.png"},
        {{"plot", "m.log", "-o", "x.png", "--pid", "0"}, "--pid must be a number from 1"},
        {{"plot", "m.log", "-o", "x.png", "--cell", "a b"}, "bad character"},
    };
    for (const auto &[args, message] : cases) {
        BOOST_TEST_CONTEXT(label(args)) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 2);
            BOOST_TEST(r.out.empty());
            BOOST_TEST(r.err.find(message) != std::string::npos, r.err);
            BOOST_TEST(r.err.find("--help` for its usage") != std::string::npos, r.err);
        }
    }
}

BOOST_AUTO_TEST_CASE(checks_before_the_module) {
    ScratchDir dir;
    // A profile file is checked completely before anything is sent.
    std::string junk = dir.file("junk.kis");
    std::ofstream(junk) << "not a profile\n";
    RunResult r = run_kisctl({"profile", "load", "web", junk});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("kisctl: profile load: " + junk + ": not a KIS profile") == 0u, r.err);
    BOOST_TEST(r.err.find("not loaded") == std::string::npos, r.err);
    r = run_kisctl({"profile", "load", "web", dir.file("missing.kis")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("cannot open") != std::string::npos, r.err);
    // Output files that exist are refused before the module is contacted.
    std::string existing = dir.file("exists");
    std::ofstream(existing) << "keep me\n";
    for (std::vector<std::string> args :
         {std::vector<std::string>{"trace", "--cell", "web", "-o", existing},
          std::vector<std::string>{"learn", "save", "web", "-o", existing}}) {
        BOOST_TEST_CONTEXT(label(args)) {
            r = run_kisctl(args);
            BOOST_TEST(r.status == 1);
            BOOST_TEST(r.err.find("already exists; choose another name or use --force") !=
                           std::string::npos,
                       r.err);
            BOOST_TEST(r.err.find("not loaded") == std::string::npos, r.err);
        }
    }
    BOOST_TEST(read_text(existing) == "keep me\n");
    // So is an --exec-on-alert program that cannot run.
    r = run_kisctl({"monitor", "--exec-on-alert", dir.file("nothing-here"), "x"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("is not an executable file") != std::string::npos, r.err);
    r = run_kisctl({"monitor", "--exec-on-alert", "kis-no-such-program-anywhere"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("is not an executable file in PATH") != std::string::npos, r.err);
    // Names that cannot be cells.
    r = run_kisctl({"learn", "start", "no/such"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("no cell named \"no/such\"") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(commands_need_the_module) {
    if (module_loaded())
        return; // the rest needs the module absent
    ScratchDir dir;
    std::string db = dir.file("p.kis");
    RunResult learned = run_kisctl({"profile", "learn", "-o", db, trace("small.imsafe")});
    BOOST_TEST_REQUIRE(learned.status == 0, learned.err);
    const std::vector<std::vector<std::string>> cases = {
        {"set", "web", "--window", "3"},
        {"learn", "start", "web"},
        {"learn", "stop", "web"},
        {"learn", "status"},
        {"learn", "save", "web", "-o", dir.file("saved.kis")},
        {"profile", "load", "web", db},
        {"profile", "unload", "web"},
        {"trace", "--cell", "web", "-o", dir.file("t.trace")},
        {"trace", "--program", "httpd", "-o", dir.file("t.trace")},
        {"monitor"},
        {"monitor", "--cell", "web", "--log", dir.file("m.log")},
    };
    for (const auto &args : cases) {
        BOOST_TEST_CONTEXT(label(args)) {
            RunResult r = run_kisctl(args);
            BOOST_TEST(r.status == 1);
            BOOST_TEST(r.err == kNotLoaded);
            BOOST_TEST(r.out.empty());
        }
    }
    // Nothing was left behind.
    BOOST_TEST(!std::filesystem::exists(dir.file("saved.kis")));
    BOOST_TEST(!std::filesystem::exists(dir.file("t.trace")));
    BOOST_TEST(!std::filesystem::exists(dir.file("m.log")));
}

BOOST_AUTO_TEST_CASE(plot_reads_the_log) {
    ScratchDir dir;
    std::string log = dir.file("m.log");
    std::ofstream(log) << kLog << "1795438149900 httpd 103\n";
    RunResult r = run_kisctl({"plot", log, "-o", dir.file("x.png")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("kisctl: plot: " + log + ":6: expected 5 or 10 columns, found 3") == 0u,
               r.err);
    std::ofstream(log, std::ios::trunc) << kLog;
    r = run_kisctl({"plot", log, "-o", dir.file("x.png"), "--cell", "other"});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("no records of cell other in the log") != std::string::npos, r.err);
    r = run_kisctl({"plot", dir.file("missing.log"), "-o", dir.file("x.png")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("cannot open") != std::string::npos, r.err);
    r = run_with_path(dir.file("empty-path"), {"plot", log, "-o", dir.file("x.png")});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err == "kisctl: plot: gnuplot is not installed (not found in PATH); install "
                        "it, e.g. apt-get install gnuplot-nox\n");
    BOOST_TEST(!std::filesystem::exists(dir.file("x.png")));
}

BOOST_AUTO_TEST_CASE(plot_draws_a_png) {
    const char *path = std::getenv("PATH");
    bool have_gnuplot = false;
    std::string dirs = path ? path : "";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t colon = dirs.find(':', start);
        std::string d = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
        if (!d.empty() && access((d + "/gnuplot").c_str(), X_OK) == 0)
            have_gnuplot = true;
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    if (!have_gnuplot) {
        BOOST_TEST_MESSAGE("gnuplot is not installed: plot not drawn");
        return;
    }
    ScratchDir dir;
    std::string log = dir.file("m.log");
    std::ofstream(log) << kLog;
    std::string png = dir.file("n.png");
    std::ofstream(png) << "old";
    RunResult r = run_kisctl({"plot", log, "-o", png, "--cell", "httpd"});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out == "plotted 1 task (3 samples, 1 alert) into " + png + "\n");
    std::string bytes = read_text(png);
    BOOST_TEST(bytes.rfind("\x89PNG\r\n", 0) == 0u);
    BOOST_TEST(bytes.size() > 1000u);
    // No temporary file is left next to it.
    std::size_t files = 0;
    for (const auto &e : std::filesystem::directory_iterator(dir.file("")))
        files += e.is_regular_file();
    BOOST_TEST(files == 2u);
}

BOOST_AUTO_TEST_CASE(sequence_config_checks) {
    RunResult r = run_kisctl({"check", (config_dir() / "good/sequence.toml").string()});
    BOOST_TEST(r.status == 0, r.err);
    BOOST_TEST(r.out.find(": ok (3 cells)") != std::string::npos, r.out);
    r = run_kisctl({"check", (config_dir() / "bad/sequence.toml").string()});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("sequence.toml:16: k 1 in [cell.sequence] of cell \"a\" is out of "
                          "range; use 2..16") != std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
