#include "toml_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kis {

std::variant<toml::table, TomlSyntaxError> parse_toml(std::string_view text,
                                                      const std::string &path) {
    toml::parse_result result = toml::parse(text, path);
    if (!result) {
        const toml::parse_error &err = result.error();
        int line = static_cast<int>(err.source().begin.line);
        return TomlSyntaxError{line > 0 ? line : 1,
                               "TOML syntax error: " + std::string(err.description())};
    }
    return std::move(result).table();
}

int line_of(const toml::node &node) { return static_cast<int>(node.source().begin.line); }

int line_of(const toml::key &key, const toml::node &node) {
    int line = static_cast<int>(key.source().begin.line);
    return line > 0 ? line : line_of(node);
}

std::string_view type_phrase(toml::node_type type) {
    switch (type) {
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); j++)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); i++) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); j++) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string did_you_mean(std::string_view best) {
    return " (did you mean \"" + std::string(best) + "\"?)";
}

Result<std::string> read_text_file(const std::string &path, std::string_view what) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return make_error("is a directory; give the " + std::string(what) + " files in it, e.g. " +
                          path + "/*.toml");
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            ::close(fd);
            return make_error(std::string("cannot read: ") + std::strerror(saved));
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

} // namespace kis
