// Trace files: the ImSafe and stide formats, plain and gzip, errors with line numbers, and the
// ImSafe writer.
#include <boost/test/unit_test.hpp>

#include <map>
#include <random>

#include <zlib.h>

#include "test_profile_util.hpp"
#include "trace_file.hpp"

namespace kis::test {

namespace {

using Calls = std::vector<std::uint16_t>;

// The traces of tests/unit/data/traces/small.*: PID 100 then PID 200, interleaved.
const Calls kPid100 = {1, 2, 3, 1, 2, 4, 1, 2, 3};
const Calls kPid200 = {5, 6, 7, 5, 6, 7};

void check_small(const TraceFile &f) {
    BOOST_TEST_REQUIRE(f.traces.size() == 2u);
    BOOST_TEST(f.traces[0].pid == 100u);
    BOOST_TEST(f.traces[0].calls == kPid100, boost::test_tools::per_element());
    BOOST_TEST(f.traces[1].pid == 200u);
    BOOST_TEST(f.traces[1].calls == kPid200, boost::test_tools::per_element());
    BOOST_TEST(f.calls == 15u);
    BOOST_TEST(f.traces[0].file == f.path);
}

std::string error_of(std::string_view text, const std::string &path = "t.trace") {
    Result<TraceFile> r = parse_traces(text, path);
    BOOST_TEST_REQUIRE(!r.ok(), "accepted: " << text);
    return r.error().message;
}

std::vector<std::uint8_t> gzip(const std::string &text) {
    uLongf len = compressBound(text.size()) + 64;
    std::vector<std::uint8_t> out(len);
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(trace_file)

BOOST_AUTO_TEST_CASE(reads_both_formats) {
    Result<TraceFile> imsafe = read_trace_file(trace("small.imsafe"));
    BOOST_TEST_REQUIRE(imsafe.ok(), why(imsafe));
    BOOST_TEST((imsafe->format == TraceFormat::imsafe));
    check_small(*imsafe);
    Result<TraceFile> stide = read_trace_file(trace("small.stide"));
    BOOST_TEST_REQUIRE(stide.ok(), why(stide));
    BOOST_TEST((stide->format == TraceFormat::stide));
    check_small(*stide);
    BOOST_TEST(trace_format_name(TraceFormat::stide) == "stide (PID SYSCALL)");
}

BOOST_AUTO_TEST_CASE(reads_gzip_by_content) {
    Result<TraceFile> gz = read_trace_file(trace("small.stide.gz"));
    BOOST_TEST_REQUIRE(gz.ok(), why(gz));
    check_small(*gz);
    // The name does not matter: gzip data in a file called .trace, text in a file called .gz.
    ScratchDir dir;
    write_bytes(dir.file("z.trace"), read_bytes(trace("small.stide.gz")));
    write_bytes(dir.file("plain.gz"), read_bytes(trace("small.imsafe")));
    Result<TraceFile> a = read_trace_file(dir.file("z.trace"));
    BOOST_TEST_REQUIRE(a.ok(), why(a));
    check_small(*a);
    Result<TraceFile> b = read_trace_file(dir.file("plain.gz"));
    BOOST_TEST_REQUIRE(b.ok(), why(b));
    check_small(*b);
}

BOOST_AUTO_TEST_CASE(gzip_damage_is_reported) {
    ScratchDir dir;
    std::vector<std::uint8_t> gz = read_bytes(trace("small.stide.gz"));
    std::vector<std::uint8_t> cut(gz.begin(), gz.begin() + gz.size() / 2);
    write_bytes(dir.file("cut.gz"), cut);
    Result<TraceFile> r = read_trace_file(dir.file("cut.gz"));
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == dir.file("cut.gz") + ": the gzip data is truncated");
    std::vector<std::uint8_t> bad = gz;
    bad[bad.size() - 8] ^= 0x55; // the CRC-32 of the data
    write_bytes(dir.file("bad.gz"), bad);
    r = read_trace_file(dir.file("bad.gz"));
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message.find(dir.file("bad.gz") + ": the gzip data is damaged (") == 0u,
               r.error().message);
}

BOOST_AUTO_TEST_CASE(blank_lines_and_line_ends) {
    Result<TraceFile> f = read_trace_file(trace("crlf.stide"));
    BOOST_TEST_REQUIRE(f.ok(), why(f));
    BOOST_TEST_REQUIRE(f->traces.size() == 2u);
    BOOST_TEST(f->traces[0].calls == (Calls{1, 2, 3}), boost::test_tools::per_element());
    BOOST_TEST(f->traces[1].calls == (Calls{4}), boost::test_tools::per_element());
    // No final newline, blank lines first, tabs.
    Result<TraceFile> g = parse_traces("\n\n \t\n1\t7\t9\n2 7 10", "x");
    BOOST_TEST_REQUIRE(g.ok(), why(g));
    BOOST_TEST((g->format == TraceFormat::imsafe));
    BOOST_TEST(g->traces[0].calls == (Calls{9, 10}), boost::test_tools::per_element());
    // Nothing at all is an empty file, not an error.
    Result<TraceFile> e = parse_traces("\n  \n", "x");
    BOOST_TEST_REQUIRE(e.ok());
    BOOST_TEST((e->format == TraceFormat::empty));
    BOOST_TEST(e->traces.empty());
}

BOOST_AUTO_TEST_CASE(first_seen_order_of_pids) {
    Result<TraceFile> f = parse_traces("9 1\n3 1\n9 2\n5 1\n3 2\n9 3\n", "x");
    BOOST_TEST_REQUIRE(f.ok());
    std::vector<std::uint32_t> pids;
    for (const Trace &t : f->traces)
        pids.push_back(t.pid);
    BOOST_TEST(pids == (std::vector<std::uint32_t>{9, 3, 5}), boost::test_tools::per_element());
    BOOST_TEST(f->traces[0].calls == (Calls{1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_line) {
    BOOST_TEST(error_of("1 100 5\n2 100 6\n\n3 100 read\n") ==
               "t.trace:4: not a trace line: \"3 100 read\"; expected decimal numbers INDEX PID "
               "SYSCALL (ImSafe) or PID SYSCALL (stide)");
    BOOST_TEST(error_of("100 5\n100 6\n3 100 7\n") ==
               "t.trace:3: 3 columns, but the file is in the stide (PID SYSCALL) format (2 "
               "columns, from line 1)");
    BOOST_TEST(error_of("\n1 100 5\n100 6\n") ==
               "t.trace:3: 2 columns, but the file is in the ImSafe (INDEX PID SYSCALL) format "
               "(3 columns, from line 2)");
    BOOST_TEST(error_of("1 100 5\n2 100 65536\n") ==
               "t.trace:2: system call number 65536 is out of range (0..65535)");
    BOOST_TEST(error_of("4294967296 5\n") ==
               "t.trace:1: PID 4294967296 is out of range (0..4294967295)");
    BOOST_TEST(error_of("1 99999999999999999999999 5\n").find("t.trace:1: number too large") == 0u);
    BOOST_TEST(error_of("17\n").find("t.trace:1: not a trace line: \"17\"") == 0u);
    BOOST_TEST(error_of("1 2 3 4\n").find("t.trace:1: not a trace line") == 0u);
    BOOST_TEST(error_of("1 -2\n").find("t.trace:1: not a trace line") == 0u);
    BOOST_TEST(error_of("1 2x\n").find("t.trace:1: not a trace line") == 0u);
    BOOST_TEST(error_of("# comment\n").find("t.trace:1: not a trace line") == 0u);
    BOOST_TEST(error_of(std::string("1 2\n\0\n", 6)) ==
               "t.trace:2: not a trace line: \"\\x00\"; expected decimal numbers INDEX PID "
               "SYSCALL (ImSafe) or PID SYSCALL (stide)");
    std::string long_line = "1 " + std::string(100, 'x');
    BOOST_TEST(error_of(long_line).find("xxx...\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(binary_files_are_refused_early) {
    // A long file without newlines is refused after its first MiB, not read whole.
    ScratchDir dir;
    write_text(dir.file("bin"), "1 2\n" + std::string(3 << 20, '7'));
    Result<TraceFile> r = read_trace_file(dir.file("bin"));
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message ==
               dir.file("bin") + ":2: a line of more than 1048576 bytes: not a trace file");
}

BOOST_AUTO_TEST_CASE(file_errors) {
    Result<TraceFile> r = read_trace_file("/nonexistent/t.trace");
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == "/nonexistent/t.trace: cannot open: No such file or directory");
    r = read_trace_file(traces_dir().string());
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == traces_dir().string() + ": is a directory, not a trace file");
    r = read_trace_file(trace("bad_range.trace"));
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == trace("bad_range.trace") +
                                        ":2: system call number 65536 is out of range (0..65535)");
    Result<std::vector<TraceFile>> several =
        read_trace_files({trace("small.stide"), trace("bad_text.trace"), trace("small.imsafe")});
    BOOST_TEST_REQUIRE(!several.ok());
    BOOST_TEST(several.error().message.find(trace("bad_text.trace") + ":4: ") == 0u);
}

BOOST_AUTO_TEST_CASE(big_files_read_in_pieces) {
    // Bigger than the reader's 1 MiB pieces, lines cut at the piece boundaries; plain and
    // gzip give what parsing the whole text gives.
    std::mt19937 rng(5);
    std::string text;
    std::vector<Calls> want(4);
    for (int i = 0; i < 300000; i++) {
        std::uint32_t pid = 1000 + rng() % 4;
        std::uint16_t call = static_cast<std::uint16_t>(rng() % 400);
        want[pid - 1000].push_back(call);
        text += std::to_string(i + 1) + " " + std::to_string(pid) + " " + std::to_string(call) +
                (i % 1000 == 0 ? "\r\n\n" : "\n");
    }
    BOOST_TEST_REQUIRE(text.size() > (3u << 20));
    ScratchDir dir;
    write_text(dir.file("big.trace"), text);
    write_bytes(dir.file("big.trace.gz"), gzip(text));
    Result<TraceFile> whole = parse_traces(text, "big");
    BOOST_TEST_REQUIRE(whole.ok());
    for (const std::string &path : {dir.file("big.trace"), dir.file("big.trace.gz")}) {
        Result<TraceFile> f = read_trace_file(path);
        BOOST_TEST_REQUIRE(f.ok(), why(f));
        BOOST_TEST(f->calls == 300000u);
        BOOST_TEST_REQUIRE(f->traces.size() == whole->traces.size());
        for (std::size_t t = 0; t < f->traces.size(); t++) {
            BOOST_TEST(f->traces[t].pid == whole->traces[t].pid);
            BOOST_TEST(f->traces[t].calls == want[f->traces[t].pid - 1000]);
        }
    }
    // An error far into the file still names its line.
    text += "oops\n";
    write_bytes(dir.file("bad.gz"), gzip(text));
    Result<TraceFile> bad = read_trace_file(dir.file("bad.gz"));
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(bad.error().message.find(dir.file("bad.gz") + ":300301: not a trace line") == 0u,
               bad.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(trace_writer)

BOOST_AUTO_TEST_CASE(writes_imsafe_counting_from_1) {
    ScratchDir dir;
    std::string path = dir.file("out.trace");
    {
        Result<TraceWriter> w = TraceWriter::open(path);
        BOOST_TEST_REQUIRE(w.ok(), why(w));
        BOOST_TEST(w->write(100, 5).ok());
        BOOST_TEST(w->write(200, 65535).ok());
        BOOST_TEST(w->write(100, 0).ok());
        Result<void> bad = w->write(100, 65536);
        BOOST_TEST_REQUIRE(!bad.ok());
        BOOST_TEST(bad.error().message == path + ": system call number 65536 is out of range "
                                                 "(0..65535)");
        BOOST_TEST(w->written() == 3u);
        BOOST_TEST(w->close().ok());
        BOOST_TEST(!w->write(1, 1).ok());
        BOOST_TEST(w->close().ok()); // closing twice is harmless
    }
    BOOST_TEST(read_text(path) == "1 100 5\n2 200 65535\n3 100 0\n");
    Result<TraceFile> back = read_trace_file(path);
    BOOST_TEST_REQUIRE(back.ok());
    BOOST_TEST((back->format == TraceFormat::imsafe));
    BOOST_TEST(back->traces.size() == 2u);
}

BOOST_AUTO_TEST_CASE(refuses_to_overwrite_unless_forced) {
    ScratchDir dir;
    std::string path = dir.file("out.trace");
    write_text(path, "keep me\n");
    Result<TraceWriter> w = TraceWriter::open(path);
    BOOST_TEST_REQUIRE(!w.ok());
    BOOST_TEST(w.error().message ==
               path + ": the file already exists; choose another name or use --force to "
                      "overwrite it");
    BOOST_TEST(read_text(path) == "keep me\n");
    Result<TraceWriter> f = TraceWriter::open(path, true);
    BOOST_TEST_REQUIRE(f.ok());
    BOOST_TEST(f->write(1, 2).ok());
    BOOST_TEST(f->close().ok());
    BOOST_TEST(read_text(path) == "1 1 2\n");
    Result<TraceWriter> none = TraceWriter::open(dir.file("no/such/dir.trace"));
    BOOST_TEST_REQUIRE(!none.ok());
    BOOST_TEST(none.error().message.find("cannot create: No such file or directory") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(round_trip_many_calls_plain_and_gzip) {
    ScratchDir dir;
    std::mt19937 rng(11);
    std::vector<std::pair<std::uint32_t, std::uint16_t>> calls;
    for (int i = 0; i < 100000; i++)
        calls.emplace_back(rng() % 5 + 1, static_cast<std::uint16_t>(rng() % 500));
    for (std::string name : {"t.trace", "t.trace.gz"}) {
        std::string path = dir.file(name);
        {
            Result<TraceWriter> w = TraceWriter::open(path);
            BOOST_TEST_REQUIRE(w.ok());
            for (std::size_t i = 0; i < calls.size(); i++) {
                BOOST_TEST_REQUIRE(w->write(calls[i].first, calls[i].second).ok());
                if (i == 5000)
                    BOOST_TEST_REQUIRE(w->flush().ok());
            }
            // Moved writers keep working; the destructor closes.
            TraceWriter moved = std::move(*w);
            BOOST_TEST(moved.write(9, 9).ok());
            BOOST_TEST(moved.path() == path);
        }
        std::vector<std::uint8_t> head = read_bytes(path);
        BOOST_TEST((head.size() > 2 && head[0] == 0x1f && head[1] == 0x8b) ==
                   (name == std::string("t.trace.gz")));
        Result<TraceFile> back = read_trace_file(path);
        BOOST_TEST_REQUIRE(back.ok(), why(back));
        BOOST_TEST(back->calls == calls.size() + 1);
        std::map<std::uint32_t, Calls> want;
        for (auto [pid, call] : calls)
            want[pid].push_back(call);
        want[9].push_back(9);
        for (const Trace &t : back->traces)
            BOOST_TEST(t.calls == want[t.pid]);
    }
}

BOOST_AUTO_TEST_CASE(move_assignment_finishes_the_old_file) {
    ScratchDir dir;
    Result<TraceWriter> a = TraceWriter::open(dir.file("a.trace"));
    Result<TraceWriter> b = TraceWriter::open(dir.file("b.trace"));
    BOOST_TEST_REQUIRE((a.ok() && b.ok()));
    BOOST_TEST(a->write(1, 1).ok());
    BOOST_TEST(b->write(2, 2).ok());
    *a = std::move(*b); // a.trace is written out and closed
    BOOST_TEST(read_text(dir.file("a.trace")) == "1 1 1\n");
    BOOST_TEST(a->write(2, 3).ok());
    BOOST_TEST(a->close().ok());
    BOOST_TEST(read_text(dir.file("b.trace")) == "1 2 2\n2 2 3\n");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kis::test
