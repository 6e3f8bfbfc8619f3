#include "trace_file.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "text.hpp"

namespace kis {

namespace {

constexpr std::size_t kReadChunk = 1 << 20;
constexpr std::size_t kWriteChunk = 1 << 16;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The start of a bad line, printable, for messages.
std::string excerpt(std::string_view line) {
    std::string out;
    for (char c : line.substr(0, 60)) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
            out += c;
        } else {
            append_hex_escape(out, u);
        }
    }
    if (line.size() > 60)
        out += "...";
    return out;
}

// Splits text into lines and lines into traces; fed in pieces so that big (decompressed)
// files need not be held whole.
class Parser {
  public:
    explicit Parser(TraceFile &out) : out_(out) {}

    // Parses the complete lines of `text` (all of it when `last`); returns the bytes used.
    Result<std::size_t> feed(std::string_view text, bool last) {
        const char *begin = text.data();
        const char *end = begin + text.size();
        const char *p = begin;
        while (p < end) {
            const char *nl = static_cast<const char *>(std::memchr(p, '\n', end - p));
            if (!nl && !last)
                break;
            const char *eol = nl ? nl : end;
            line_++;
            if (Result<void> r = parse_line(p, eol); !r)
                return r.error();
            p = nl ? nl + 1 : end;
        }
        return static_cast<std::size_t>(p - begin);
    }

    // The error for a line of at least `limit` bytes, the one after the last parsed.
    Error line_too_long(std::size_t limit) {
        line_++;
        return error("a line of more than " + std::to_string(limit) + " bytes: not a trace file");
    }

  private:
    Error error(const std::string &message) const {
        return make_error(out_.path + ":" + std::to_string(line_) + ": " + message);
    }

    Error not_a_trace_line(const char *b, const char *e) const {
        return error("not a trace line: \"" + excerpt(std::string_view(b, e - b)) +
                     "\"; expected decimal numbers INDEX PID SYSCALL (ImSafe) or PID "
                     "SYSCALL (stide)");
    }

    Result<void> parse_line(const char *b, const char *e) {
        std::uint64_t v[3];
        int n = 0;
        const char *p = b;
        while (p < e && is_blank(*p))
            p++;
        while (p < e) {
            if (n == 3 || !is_digit(*p))
                return not_a_trace_line(b, e);
            std::uint64_t x = 0;
            for (; p < e && is_digit(*p); p++) {
                unsigned d = *p - '0';
                if (x > (UINT64_MAX - d) / 10)
                    return error("number too large: \"" + excerpt(std::string_view(b, e - b)) +
                                 "\"");
                x = x * 10 + d;
            }
            v[n++] = x;
            if (p < e && !is_blank(*p))
                return not_a_trace_line(b, e);
            while (p < e && is_blank(*p))
                p++;
        }
        if (n == 0)
            return {}; // blank line
        if (out_.format == TraceFormat::empty) {
            if (n == 1)
                return not_a_trace_line(b, e);
            out_.format = n == 3 ? TraceFormat::imsafe : TraceFormat::stide;
            columns_ = n;
            format_line_ = line_;
        } else if (n != columns_) {
            return error(std::to_string(n) + (n == 1 ? " column" : " columns") +
                         ", but the file is in the " + std::string(trace_format_name(out_.format)) +
                         " format (" + std::to_string(columns_) + " columns, from line " +
                         std::to_string(format_line_) + ")");
        }
        std::uint64_t pid = v[n - 2], call = v[n - 1];
        if (pid > UINT32_MAX)
            return error("PID " + std::to_string(pid) + " is out of range (0..4294967295)");
        if (call > 0xffff)
            return error("system call number " + std::to_string(call) +
                         " is out of range (0..65535)");
        trace_of(static_cast<std::uint32_t>(pid)).calls.push_back(static_cast<std::uint16_t>(call));
        out_.calls++;
        return {};
    }

    Trace &trace_of(std::uint32_t pid) {
        if (last_ != SIZE_MAX && out_.traces[last_].pid == pid)
            return out_.traces[last_];
        auto [it, fresh] = index_.try_emplace(pid, out_.traces.size());
        if (fresh)
            out_.traces.push_back(Trace{out_.path, pid, {}});
        last_ = it->second;
        return out_.traces[last_];
    }

    TraceFile &out_;
    std::uint64_t line_ = 0;
    int columns_ = 0;
    std::uint64_t format_line_ = 0;
    std::unordered_map<std::uint32_t, std::size_t> index_;
    std::size_t last_ = SIZE_MAX;
};

// zlib's message without the "<fd:N>: " it puts first for gzdopen'ed files.
std::string zlib_message(const char *msg) {
    std::string m = msg ? msg : "unknown error";
    if (m.rfind("<fd:", 0) == 0)
        if (std::size_t colon = m.find(": "); colon != std::string::npos)
            m.erase(0, colon + 2);
    return m;
}

void append_number(std::string &out, std::uint64_t n) {
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
    (void)ec; // 20 digits hold every 64-bit number
    out.append(digits, end);
}

Error io_error(const std::string &path, const std::string &what, int err) {
    return make_error(path + ": " + what + ": " + std::strerror(err));
}

} // namespace

std::string_view trace_format_name(TraceFormat format) {
    switch (format) {
    case TraceFormat::imsafe:
        return "ImSafe (INDEX PID SYSCALL)";
    case TraceFormat::stide:
        return "stide (PID SYSCALL)";
    case TraceFormat::empty:
        break;
    }
    return "empty";
}

Result<TraceFile> parse_traces(std::string_view text, const std::string &path) {
    TraceFile out;
    out.path = path;
    Parser parser(out);
    if (Result<std::size_t> r = parser.feed(text, true); !r)
        return r.error();
    return out;
}

Result<TraceFile> read_trace_file(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(path, "cannot open", errno);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return make_error(path + ": is a directory, not a trace file");
    }
    // zlib reads plain files unchanged: gzip is told by content, whatever the name.
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        ::close(fd);
        return make_error(path + ": cannot open: out of memory");
    }
    gzbuffer(gz, 1 << 18);

    TraceFile out;
    out.path = path;
    Parser parser(out);
    std::string buf;
    std::size_t have = 0;
    for (;;) {
        buf.resize(have + kReadChunk);
        int n = gzread(gz, buf.data() + have, static_cast<unsigned>(kReadChunk));
        if (n < 0) {
            int zerr = 0;
            const char *msg = gzerror(gz, &zerr);
            Error e =
                zerr == Z_ERRNO
                    ? io_error(path, "cannot read", errno)
                    : make_error(path + ": the gzip data is damaged (" + zlib_message(msg) + ")");
            gzclose(gz);
            return e;
        }
        if (n == 0) {
            // A gzip stream cut short reads as far as it goes, then says so here.
            int zerr = Z_OK;
            gzerror(gz, &zerr);
            if (zerr == Z_BUF_ERROR) {
                gzclose(gz);
                return make_error(path + ": the gzip data is truncated");
            }
        }
        have += static_cast<std::size_t>(n);
        bool last = n == 0;
        Result<std::size_t> used = parser.feed(std::string_view(buf.data(), have), last);
        if (!used) {
            gzclose(gz);
            return used.error();
        }
        if (last)
            break;
        if (have - *used >= kReadChunk) {
            // No line of a trace is that long: do not read a whole binary file into memory.
            gzclose(gz);
            return parser.line_too_long(kReadChunk);
        }
        std::memmove(buf.data(), buf.data() + *used, have - *used);
        have -= *used;
    }
    gzclose(gz);
    return out;
}

Result<std::vector<TraceFile>> read_trace_files(const std::vector<std::string> &paths) {
    std::vector<TraceFile> files;
    files.reserve(paths.size());
    for (const std::string &path : paths) {
        Result<TraceFile> f = read_trace_file(path);
        if (!f)
            return f.error();
        files.push_back(std::move(*f));
    }
    return files;
}

// ---- TraceWriter ---------------------------------------------------------------------------

struct TraceWriter::Impl {
    int fd = -1;
    gzFile gz = nullptr;

    // Closes; returns 0 or an errno value (-1 for a zlib error).
    int close() {
        int err = 0;
        if (gz) {
            int r = gzclose(gz);
            if (r == Z_ERRNO)
                err = errno;
            else if (r != Z_OK)
                err = -1;
        } else if (fd >= 0 && ::close(fd) != 0) {
            err = errno;
        }
        gz = nullptr;
        fd = -1;
        return err;
    }
    ~Impl() { close(); }
};

TraceWriter::TraceWriter(TraceWriter &&) noexcept = default;

TraceWriter &TraceWriter::operator=(TraceWriter &&other) noexcept {
    if (this != &other) {
        (void)close();
        path_ = std::move(other.path_);
        impl_ = std::move(other.impl_);
        buf_ = std::move(other.buf_);
        index_ = other.index_;
    }
    return *this;
}

// Writes what is buffered; errors go unreported (call close() to see them).
TraceWriter::~TraceWriter() { (void)close(); }

Result<TraceWriter> TraceWriter::open(const std::string &path, bool force) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return make_error(path + ": the file already exists; choose another name or "
                                     "use --force to overwrite it");
        return io_error(path, "cannot create", errno);
    }
    TraceWriter w;
    w.path_ = path;
    w.impl_ = std::make_unique<Impl>();
    w.impl_->fd = fd;
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
        // Level 1: about 6x faster than the default level for 15% more bytes (make bench).
        w.impl_->gz = gzdopen(fd, "wb1");
        if (!w.impl_->gz) {
            ::close(fd);
            w.impl_->fd = -1;
            return make_error(path + ": cannot start gzip compression: out of memory");
        }
    }
    w.buf_.reserve(kWriteChunk + 64);
    return w;
}

Result<void> TraceWriter::write(std::uint32_t pid, std::uint32_t syscall) {
    if (!impl_ || impl_->fd < 0)
        return make_error(path_ + ": the trace file is closed");
    if (syscall > 0xffff)
        return make_error(path_ + ": system call number " + std::to_string(syscall) +
                          " is out of range (0..65535)");
    append_number(buf_, ++index_);
    buf_ += ' ';
    append_number(buf_, pid);
    buf_ += ' ';
    append_number(buf_, syscall);
    buf_ += '\n';
    if (buf_.size() >= kWriteChunk)
        return drain();
    return {};
}

Result<void> TraceWriter::drain() {
    const char *p = buf_.data();
    std::size_t left = buf_.size();
    if (impl_->gz) {
        if (left && gzwrite(impl_->gz, p, static_cast<unsigned>(left)) == 0) {
            int zerr = 0;
            const char *msg = gzerror(impl_->gz, &zerr);
            return zerr == Z_ERRNO ? io_error(path_, "cannot write", errno)
                                   : make_error(path_ + ": cannot write: " + zlib_message(msg));
        }
        buf_.clear();
        return {};
    }
    while (left) {
        ssize_t n = ::write(impl_->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(path_, "cannot write", errno);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    buf_.clear();
    return {};
}

Result<void> TraceWriter::flush() {
    if (!impl_ || impl_->fd < 0)
        return make_error(path_ + ": the trace file is closed");
    if (Result<void> r = drain(); !r)
        return r;
    if (impl_->gz && gzflush(impl_->gz, Z_SYNC_FLUSH) != Z_OK)
        return make_error(path_ + ": cannot write the gzip stream");
    return {};
}

Result<void> TraceWriter::close() {
    if (!impl_ || impl_->fd < 0)
        return {};
    Result<void> r = drain();
    int err = impl_->close();
    if (!r)
        return r;
    if (err > 0)
        return io_error(path_, "cannot write", err);
    if (err < 0)
        return make_error(path_ + ": cannot finish the gzip stream");
    return {};
}

} // namespace kis
