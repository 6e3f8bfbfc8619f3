// kisctl sig check|test: signature files, offline. check validates files and compiles each
// cell's signatures into its automaton; test matches data against a file's signatures with
// the portable core's kis_dfa_feed and kis_dfa_accepts, the same code the module runs.
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "kis_dfa.h"
#include "options.hpp"
#include "sig_file.hpp"
#include "text.hpp"
#include "toml_util.hpp"

namespace kis {

namespace {

std::string plural(std::uint64_t n, const char *one, const char *many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

void print_errors(const SigFile &file) {
    std::cout << std::flush;
    for (const ConfigError &e : file.errors)
        std::cerr << e.str() << "\n";
}

// The line of the first signature of `sigs`, for errors about the whole set.
int first_line(const std::vector<const Signature *> &sigs) {
    return sigs.empty() ? 0 : sigs.front()->line;
}

// ---- check ---------------------------------------------------------------------------------

const char kCheckHelp[] =
    "usage: kisctl sig check FILE...\n"
    "\n"
    "Validates signature files (TOML, [[signature]] tables; Documentation/signatures.md) and\n"
    "compiles, for every cell a file names, that cell's signatures (those naming it or \"*\")\n"
    "into one automaton, as loading them would. Every error is printed as FILE:LINE: message.\n"
    "A good file prints FILE: ok (N signatures) and, per cell,\n"
    "  cell NAME: N signatures, S states, C byte classes, B bytes\n"
    "where \"cell *\" stands for any cell the file does not name (its \"*\" signatures only).\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 all files are good, 1 some file has errors, 2 usage error.\n";

int run_check(const Args &args) {
    auto o = parse_options("sig check", args, {}, 1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kCheckHelp;
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error("sig check", "no signature file given");

    std::size_t errors = 0;
    for (const std::string &path : o->operands) {
        SigFile file = read_sig_file(path);
        if (!file.ok()) {
            print_errors(file);
            errors += file.errors.size();
            continue;
        }
        std::vector<std::string> cells = file.named_cells();
        // The "*" signatures alone: what a cell the file does not name gets.
        std::vector<const Signature *> star;
        for (const Signature &s : file.signatures)
            if (s.all_cells())
                star.push_back(&s);
        if (!star.empty())
            cells.push_back(kSigAllCells);
        std::string report;
        std::vector<ConfigError> compile_errors;
        for (const std::string &cell : cells) {
            std::vector<const Signature *> sigs = cell == kSigAllCells ? star : file.for_cell(cell);
            Result<SigAutomaton> a = compile_sig_set(sigs, cell);
            if (!a) {
                compile_errors.push_back({path, first_line(sigs), a.error().message});
                continue;
            }
            report += "  cell " + cell + ": " + plural(sigs.size(), "signature", "signatures") +
                      ", " + plural(a->nstates, "state", "states") + ", " +
                      plural(a->nclasses, "byte class", "byte classes") + ", " +
                      plural(a->blob.size(), "byte", "bytes") + "\n";
        }
        if (!compile_errors.empty()) {
            file.errors = std::move(compile_errors);
            print_errors(file);
            errors += file.errors.size();
            continue;
        }
        std::cout << path << ": ok (" << plural(file.signatures.size(), "signature", "signatures")
                  << ")\n"
                  << report;
    }
    std::cout << std::flush;
    return errors ? kExitFailure : kExitOk;
}

// ---- test ----------------------------------------------------------------------------------

const char kTestHelp[] =
    "usage: kisctl sig test FILE [--cell NAME] (--data STRING | --input PATH) [--chunk N]\n"
    "\n"
    "Matches data against the signatures of FILE offline, with the portable core's automaton\n"
    "code (kis_dfa_feed, kis_dfa_accepts), the same the module runs. The signatures are those\n"
    "of cell NAME (naming it or \"*\"), or with no --cell all of the file's signatures. The\n"
    "data is one message; matching goes on after a match to its end. Each match prints\n"
    "  match ID at offset E (type T, response R)\n"
    "where E is the number of bytes up to the match's end, for every signature whose match ends\n"
    "there, in order of offset, then of the file; nothing matched prints \"no match\".\n"
    "\n"
    "options:\n"
    "  --cell NAME      the signatures of this cell only\n"
    "  --data STRING    the data, with the escapes \\r \\n \\t \\xHH and \\\\\n"
    "  --input PATH     the data: the bytes of a file\n"
    "  --chunk N        feed the data in chunks of N bytes, as a connection would deliver it\n"
    "                   (default: all at once); the matches are the same\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 something matched, 1 no match or failure (e.g. errors in FILE), 2 usage\n"
    "error.\n";

// The bytes of --data; nothing after a usage error.
std::optional<std::string> unescape(const std::string &s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); i++) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (i + 1 >= s.size()) {
            usage_error("sig test", "--data ends with a lone backslash; write \\\\ for one");
            return std::nullopt;
        }
        char c = s[++i];
        switch (c) {
        case 'r':
            out += '\r';
            break;
        case 'n':
            out += '\n';
            break;
        case 't':
            out += '\t';
            break;
        case '\\':
            out += '\\';
            break;
        case 'x': {
            int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                usage_error("sig test", "--data has \\x at offset " + std::to_string(i - 1) +
                                            " without two hex digits; write \\xHH");
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            usage_error("sig test", "--data has an unknown escape \\" + std::string(1, c) +
                                        " at offset " + std::to_string(i - 1) +
                                        "; the escapes are \\r \\n \\t \\xHH and \\\\");
            return std::nullopt;
        }
    }
    return out;
}

int run_test(const Args &args) {
    auto o = parse_options("sig test", args,
                           {{"--cell", "", OptionSpec::value},
                            {"--data", "", OptionSpec::value},
                            {"--input", "", OptionSpec::value},
                            {"--chunk", "", OptionSpec::value}},
                           1);
    if (!o)
        return kExitUsage;
    if (o->help) {
        std::cout << kTestHelp;
        return kExitOk;
    }
    if (o->operands.empty())
        return usage_error("sig test", "no signature file given");
    if (o->operands.size() > 1)
        return usage_error("sig test",
                           "one signature file only, not " + std::to_string(o->operands.size()));
    const std::string *data_arg = o->value("--data");
    const std::string *input = o->value("--input");
    if (!data_arg && !input)
        return usage_error("sig test", "no data: give --data STRING or --input PATH");
    if (data_arg && input)
        return usage_error("sig test", "give --data or --input, not both");
    auto chunk = number_option("sig test", *o, "--chunk", 0, 1, UINT32_MAX);
    if (!chunk)
        return kExitUsage;
    std::string cell;
    if (const std::string *c = o->value("--cell")) {
        if (auto e = check_cell_name(*c))
            return usage_error("sig test", "--cell: " + *e);
        cell = *c;
    }
    std::string data;
    if (data_arg) {
        auto d = unescape(*data_arg);
        if (!d)
            return kExitUsage;
        data = std::move(*d);
    }

    const std::string &path = o->operands[0];
    SigFile file = read_sig_file(path);
    if (!file.ok()) {
        print_errors(file);
        return kExitFailure;
    }
    if (input) {
        Result<std::string> text = read_text_file(*input, "input");
        if (!text) {
            print_error(*input + ": " + text.error().message);
            return kExitFailure;
        }
        data = std::move(*text);
    }
    std::vector<const Signature *> sigs = file.for_cell(cell);
    if (sigs.empty()) {
        print_error("no signature of " + path + " applies to cell " + cell);
        return kExitFailure;
    }
    Result<SigAutomaton> a = compile_sig_set(sigs, cell.empty() ? "(all)" : cell);
    if (!a) {
        print_error(path + ": " + a.error().message);
        return kExitFailure;
    }

    size_t mem_bytes = 0;
    if (kis_dfa_check(a->blob.data(), a->blob.size(), &mem_bytes) != 0) {
        print_error("the core refuses the automaton kisctl compiled (a bug in kisctl)");
        return kExitFailure;
    }
    std::vector<std::uint32_t> mem(mem_bytes / 4 + 1);
    kis_dfa d{};
    if (kis_dfa_load(&d, mem.data(), mem.size() * 4, a->blob.data(), a->blob.size()) != 0) {
        print_error("the core cannot load the automaton kisctl compiled (a bug in kisctl)");
        return kExitFailure;
    }

    const auto *bytes = reinterpret_cast<const std::uint8_t *>(data.data());
    std::size_t step = *chunk ? *chunk : (data.empty() ? 1 : data.size());
    std::uint32_t state = d.start;
    std::uint64_t matches = 0;
    for (std::size_t pos = 0; pos < data.size(); pos += step) {
        std::size_t end = std::min(data.size(), pos + step);
        std::size_t at = pos;
        while (at < end) {
            std::size_t n = kis_dfa_feed(&d, &state, bytes + at, end - at);
            if (n == 0)
                break;
            at += n;
            std::uint32_t count = 0;
            const std::uint32_t *acc = kis_dfa_accepts(&d, state, &count);
            for (std::uint32_t i = 0; i < count; i++) {
                const Signature &s = *sigs[acc[i]];
                std::cout << "match " << s.id << " at offset " << at << " (type " << s.type
                          << ", response " << sig_response_name(s.response) << ")\n";
                matches++;
            }
        }
    }
    if (!matches)
        std::cout << "no match\n";
    std::cout << std::flush;
    return matches ? kExitOk : kExitFailure;
}

// ---- the command ---------------------------------------------------------------------------

constexpr Action kActions[] = {
    {"check", run_check},
    {"test", run_test},
};

int run_sig(const Args &args) { return run_action(kSigCommand, kActions, args); }

} // namespace

const Command kSigCommand = {
    "sig",
    "check signature files and test them on data (no module needed)",
    "usage: kisctl sig check FILE...\n"
    "       kisctl sig test FILE [--cell NAME] (--data STRING | --input PATH) [--chunk N]\n"
    "\n"
    "Signature files (TOML, [[signature]] tables; Documentation/signatures.md), offline:\n"
    "  check   validate files and compile each cell's signatures into its automaton\n"
    "  test    match data against a file's signatures, with the module's matching code\n"
    "Run `kisctl sig ACTION --help` for the options of an action.\n"
    "\n"
    "options:\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 success (test: something matched), 1 failure (test: also no match),\n"
    "2 usage error.\n",
    run_sig,
};

} // namespace kis
