// kis_glob_match and kis_glob_check: the matching code the module runs, built into libkiscore.
#include <boost/test/unit_test.hpp>

#include <string>

#include "kis_match.h"

namespace {

struct GlobCase {
    const char *pattern;
    const char *text;
    bool match;
};

void check_cases(std::initializer_list<GlobCase> cases) {
    for (const GlobCase &c : cases)
        BOOST_TEST(kis_glob_match(c.pattern, c.text) == c.match,
                   "kis_glob_match(\"" << c.pattern << "\", \"" << c.text << "\") should be "
                                       << c.match);
}

} // namespace

BOOST_AUTO_TEST_SUITE(glob_match)

BOOST_AUTO_TEST_CASE(literals) {
    check_cases({
        {"", "", true},
        {"", "a", false},
        {"a", "", false},
        {"abc", "abc", true},
        {"abc", "abd", false},
        {"abc", "ab", false},
        {"ab", "abc", false},
        {"httpd", "HTTPD", false},
        {"/usr/sbin/httpd", "/usr/sbin/httpd", true},
    });
}

BOOST_AUTO_TEST_CASE(star) {
    check_cases({
        {"*", "", true},
        {"*", "anything at all", true},
        {"**", "x", true},
        {"a*", "a", true},
        {"a*", "abc", true},
        {"a*", "ba", false},
        {"*c", "abc", true},
        {"*c", "abcd", false},
        {"a*c", "abbbc", true},
        {"a*c", "abbb", false},
        {"a*b*c", "aXbYc", true},
        {"a*b*c", "aXcYb", false},
        {"*.conf", "x.conf", true},
        {"*.conf", "x.conf.bak", false},
        // '*' also matches '/': paths and arguments are plain text.
        {"/usr/*", "/usr/local/bin/x", true},
        {"*/httpd", "/usr/sbin/httpd", true},
    });
}

BOOST_AUTO_TEST_CASE(question_mark) {
    check_cases({
        {"?", "a", true},
        {"?", "", false},
        {"?", "ab", false},
        {"??", "a", false},
        {"a?c", "abc", true},
        {"a?c", "ac", false},
        {"?*", "", false},
        {"*?", "x", true},
    });
}

BOOST_AUTO_TEST_CASE(classes) {
    check_cases({
        {"[abc]", "a", true},
        {"[abc]", "c", true},
        {"[abc]", "d", false},
        {"[abc]", "", false},
        {"[abc]x", "bx", true},
        // ']' first in a class is a member.
        {"[]]", "]", true},
        {"[]a]", "a", true},
        {"[!]]", "]", false},
        {"[!]]", "a", true},
        // '-' last is a member.
        {"[a-]", "-", true},
        {"[a-]", "b", false},
    });
}

BOOST_AUTO_TEST_CASE(negated_classes) {
    check_cases({
        {"[!a-z]", "Q", true},
        {"[!a-z]", "q", false},
        {"[^0-9]", "a", true},
        {"[^0-9]", "5", false},
        {"[!x]sh", "bsh", true},
        {"[!x]sh", "xsh", false},
        {"[!x]sh", "sh", false},
    });
}

BOOST_AUTO_TEST_CASE(ranges) {
    check_cases({
        {"[a-z]", "m", true},
        {"[a-z]", "M", false},
        {"[0-9][0-9]", "42", true},
        {"[0-9][0-9]", "4x", false},
        {"[a-cx-z]", "y", true},
        {"[a-cx-z]", "d", false},
        // Bytes compare unsigned: high bytes are in \x80-\xff.
        {"[\x80-\xff]", "\xe9", true},
        {"[\x01-\x7f]", "\xe9", false},
    });
}

BOOST_AUTO_TEST_CASE(escapes) {
    check_cases({
        {"\\*", "*", true},
        {"\\*", "a", false},
        {"a\\?", "a?", true},
        {"a\\?", "ab", false},
        {"\\[x]", "[x]", true},
        {"\\[x]", "x", false},
        {"\\\\", "\\", true},
        {"\\a", "a", true},
        // Escapes inside a class.
        {"[\\]]", "]", true},
        {"[a\\-z]", "-", true},
        {"[a\\-z]", "b", false},
        // A trailing backslash (rejected by kis_glob_check) matches itself.
        {"a\\", "a\\", true},
    });
}

BOOST_AUTO_TEST_CASE(malformed_bracket_is_literal) {
    check_cases({
        {"[", "[", true},
        {"[abc", "[abc", true},
        {"[abc", "a", false},
        {"a[", "a[", true},
        {"[]", "[]", true},
        {"*[x", "ab[x", true},
    });
}

// Backtracking glob matchers take exponential time on these; the iterative one answers at
// once (a regression shows as this test hanging until the runner's timeout, not as a
// timing assertion).
BOOST_AUTO_TEST_CASE(pathological_patterns) {
    const std::string long_a(200000, 'a');
    BOOST_TEST(!kis_glob_match("*a*a*a*a*b", long_a.c_str()));
    BOOST_TEST(kis_glob_match("*a*a*a*a*a", long_a.c_str()));
    BOOST_TEST(!kis_glob_match("*?*?*?*?*?*?*b", long_a.c_str()));
    BOOST_TEST(!kis_glob_match("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c", long_a.c_str()));
    BOOST_TEST(!kis_glob_match("*[!a]*", long_a.c_str()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(glob_check)

BOOST_AUTO_TEST_CASE(good_patterns) {
    for (const char *p : {"", "abc", "*", "?", "[abc]", "[!a-z]", "[]]", "[!]]", "\\[", "\\\\",
                          "a\\*b", "/usr/sbin/*", "[\\]]", "[a-]"}) {
        size_t pos = 12345;
        BOOST_TEST(kis_glob_check(p, &pos) == 0, p);
        BOOST_TEST(pos == 12345u, p); // untouched on success
    }
}

BOOST_AUTO_TEST_CASE(errors_with_positions) {
    struct Bad {
        const char *pattern;
        size_t pos;
    };
    for (Bad b :
         {Bad{"[", 0}, Bad{"[abc", 0}, Bad{"ab[c", 2}, Bad{"[a-z]x[", 6}, Bad{"[]", 0},
          Bad{"a\\", 1}, Bad{"abc\\", 3}, Bad{"[a\\", 0}, Bad{"x[y\\]", 1}, Bad{"\\\\\\", 2}}) {
        size_t pos = 999;
        BOOST_TEST(kis_glob_check(b.pattern, &pos) == -EINVAL, b.pattern);
        BOOST_TEST(pos == b.pos, b.pattern);
    }
}

BOOST_AUTO_TEST_CASE(null_position_is_allowed) {
    BOOST_TEST(kis_glob_check("[", nullptr) == -EINVAL);
    BOOST_TEST(kis_glob_check("ok", nullptr) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
