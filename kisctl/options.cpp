#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>

namespace kis {

bool Options::has(std::string_view name) const {
    return std::find(flags.begin(), flags.end(), name) != flags.end();
}

const std::string *Options::value(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
}

int usage_error(std::string_view usage, const std::string &message) {
    std::cout << std::flush;
    std::cerr << "kisctl " << usage << ": " << message << "\n"
              << "Run `kisctl " << usage << " --help` for its usage.\n";
    return kExitUsage;
}

std::optional<Options> parse_options(std::string_view usage, const Args &args,
                                     std::initializer_list<OptionSpec> specs, std::size_t first) {
    Options o;
    bool done = false;
    for (std::size_t i = first; i < args.size(); i++) {
        const std::string &arg = args[i];
        if (done || arg.size() < 2 || arg[0] != '-') {
            o.operands.push_back(arg);
            continue;
        }
        if (arg == "--") {
            done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            o.help = true;
            continue;
        }
        std::string name = arg, value;
        bool inline_value = false;
        if (std::size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        const OptionSpec *spec = nullptr;
        for (const OptionSpec &s : specs)
            if (s.name == name || (!s.alias.empty() && s.alias == name))
                spec = &s;
        if (!spec) {
            usage_error(usage, "unknown option " + arg);
            return std::nullopt;
        }
        if (spec->kind == OptionSpec::flag) {
            if (inline_value) {
                usage_error(usage, "option " + name + " takes no value");
                return std::nullopt;
            }
            o.flags.emplace_back(spec->name);
            continue;
        }
        if (!inline_value) {
            if (i + 1 == args.size()) {
                usage_error(usage, "option " + name + " needs a value");
                return std::nullopt;
            }
            value = args[++i];
        }
        if (o.values.count(spec->name)) {
            usage_error(usage, "option " + std::string(spec->name) + " is given twice");
            return std::nullopt;
        }
        o.values[std::string(spec->name)] = value;
        if (spec->kind == OptionSpec::rest) {
            o.rest.push_back(value);
            o.rest.insert(o.rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                          args.end());
            break;
        }
    }
    return o;
}

std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t lo,
                                          std::uint64_t hi) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < lo || n > hi)
        return std::nullopt;
    return n;
}

std::optional<std::uint64_t> number_option(std::string_view usage, const Options &o,
                                           std::string_view name, std::uint64_t def,
                                           std::uint64_t lo, std::uint64_t hi) {
    const std::string *v = o.value(name);
    if (!v)
        return def;
    auto n = parse_number(*v, lo, hi);
    if (!n)
        usage_error(usage, std::string(name) + " must be a number from " + std::to_string(lo) +
                               " to " + std::to_string(hi) + ", not \"" + *v + "\"");
    return n;
}

std::optional<std::uint64_t> duration_option(std::string_view usage, const Options &o) {
    constexpr std::uint64_t kMaxDurationMs = 366ull * 24 * 3600 * 1000;
    const std::string *d = o.value("--duration");
    if (!d)
        return 0;
    auto ms = parse_seconds_ms(*d, kMaxDurationMs);
    if (!ms)
        usage_error(usage,
                    "--duration must be a number of seconds such as 10 or 0.5, not \"" + *d + "\"");
    return ms;
}

std::optional<std::uint64_t> parse_seconds_ms(std::string_view text, std::uint64_t max_ms) {
    std::size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || frac.size() > 3 || (dot != std::string_view::npos && frac.empty()))
        return std::nullopt;
    auto w = parse_number(whole, 0, max_ms / 1000 + 1);
    if (!w)
        return std::nullopt;
    std::uint64_t ms = *w * 1000;
    if (!frac.empty()) {
        auto f = parse_number(frac, 0, 999);
        if (!f)
            return std::nullopt;
        for (std::size_t i = frac.size(); i < 3; i++)
            *f *= 10;
        ms += *f;
    }
    if (ms == 0 || ms > max_ms)
        return std::nullopt;
    return ms;
}

} // namespace kis
