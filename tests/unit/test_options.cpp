// The option parser of the subcommands with values (options.hpp).
#include <boost/test/unit_test.hpp>

#include <iostream>
#include <sstream>

#include "options.hpp"

namespace kis::test {

namespace {

// Usage errors go to stderr; the tests keep them out of the test log.
struct QuietStderr {
    QuietStderr() : old(std::cerr.rdbuf(sink.rdbuf())) {}
    ~QuietStderr() { std::cerr.rdbuf(old); }
    std::ostringstream sink;
    std::streambuf *old;
};

std::optional<Options> parse(const Args &args, std::size_t first = 0) {
    QuietStderr quiet;
    return parse_options("test", args,
                         {{"--output", "-o", OptionSpec::value},
                          {"--force", "-f"},
                          {"--exec", "-e", OptionSpec::rest}},
                         first);
}

} // namespace

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(values_flags_operands) {
    auto o = parse({"a", "-o", "x.kis", "b", "--force", "--output=y", "--", "-f"});
    // --output twice is an error; check the rest without it.
    BOOST_TEST(!o.has_value());
    o = parse({"a", "-o", "x.kis", "b", "--force", "--", "-f", "--output"});
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST(*o->value("--output") == "x.kis");
    BOOST_TEST(o->has("--force"));
    BOOST_TEST((o->operands == std::vector<std::string>{"a", "b", "-f", "--output"}));
    BOOST_TEST(!o->help);
    o = parse({"--output=", "-h"});
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST(o->value("--output")->empty());
    BOOST_TEST(o->help);
    // A lone "-" is an operand (standard input, by convention).
    o = parse({"-"});
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST((o->operands == std::vector<std::string>{"-"}));
}

BOOST_AUTO_TEST_CASE(rest_takes_everything_after_it) {
    auto o = parse({"cell", "-e", "prog", "-o", "--force", "x y"});
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST((o->rest == std::vector<std::string>{"prog", "-o", "--force", "x y"}));
    BOOST_TEST(!o->has("--force"));
    BOOST_TEST(!o->value("--output"));
    BOOST_TEST((o->operands == std::vector<std::string>{"cell"}));
    o = parse({"--exec=prog", "arg"});
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST((o->rest == std::vector<std::string>{"prog", "arg"}));
}

BOOST_AUTO_TEST_CASE(errors) {
    BOOST_TEST(!parse({"--bogus"}).has_value());
    BOOST_TEST(!parse({"-o"}).has_value());          // needs a value
    BOOST_TEST(!parse({"--force=yes"}).has_value()); // takes none
    BOOST_TEST(!parse({"-e"}).has_value());
    // Parsing starts at `first`: an action name before it is not an operand.
    auto o = parse({"save", "cell"}, 1);
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST((o->operands == std::vector<std::string>{"cell"}));
}

BOOST_AUTO_TEST_CASE(numbers) {
    BOOST_TEST(parse_number("0", 0, 10).value() == 0u);
    BOOST_TEST(parse_number("10", 0, 10).value() == 10u);
    BOOST_TEST(!parse_number("11", 0, 10));
    BOOST_TEST(!parse_number("", 0, 10));
    BOOST_TEST(!parse_number("-1", 0, 10));
    BOOST_TEST(!parse_number("1x", 0, 10));
    BOOST_TEST(!parse_number(" 1", 0, 10));
    BOOST_TEST(!parse_number("99999999999999999999", 0, UINT64_MAX));
    QuietStderr quiet;
    Options o;
    o.values["--window"] = "0";
    BOOST_TEST(!number_option("test", o, "--window", 20, 1, 128));
    BOOST_TEST(number_option("test", o, "--threshold", 300, 0, 1000).value() == 300u);
}

BOOST_AUTO_TEST_CASE(seconds) {
    BOOST_TEST(parse_seconds_ms("10", 100000).value() == 10000u);
    BOOST_TEST(parse_seconds_ms("0.5", 100000).value() == 500u);
    BOOST_TEST(parse_seconds_ms("1.25", 100000).value() == 1250u);
    BOOST_TEST(parse_seconds_ms("0.001", 100000).value() == 1u);
    BOOST_TEST(!parse_seconds_ms("0", 100000));
    BOOST_TEST(!parse_seconds_ms("0.0001", 100000));
    BOOST_TEST(!parse_seconds_ms("1.", 100000));
    BOOST_TEST(!parse_seconds_ms(".5", 100000));
    BOOST_TEST(!parse_seconds_ms("1e3", 100000));
    BOOST_TEST(!parse_seconds_ms("101", 100000));
    BOOST_TEST(!parse_seconds_ms("-1", 100000));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
