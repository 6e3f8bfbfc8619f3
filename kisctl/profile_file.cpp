#include "profile_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/crc.hpp>

#include "kis_stat.h"

namespace kis {

namespace {

// The core's exchange blob starts with a 20-byte header (magic, version, k, prefixes,
// k-grams); kis_seq_blob_write() writes it.
constexpr std::size_t kBlobHeaderSize = 20;
// The statistics blob (kis_stat_blob_write): a header of five u32 (magic, version, header
// size, parameters, tree entries), then 32 bytes per parameter and 16 per tree entry.
constexpr std::uint32_t kStatsMagic = 0x4154534b; // "KSTA"
constexpr std::uint32_t kStatsVersion = 1;
constexpr std::size_t kStatsHeaderSize = 20;
constexpr std::size_t kStatsParamSize = 32;
constexpr std::size_t kStatsFileSize = 16;
// Room of a new, empty profile; it grows by doubling.
constexpr std::uint32_t kInitialPrefixes = 256;
constexpr std::uint32_t kInitialKgrams = 1024;

void put16(std::uint8_t *p, std::uint32_t v) {
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
}
void put32(std::uint8_t *p, std::uint32_t v) {
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}
void put64(std::uint8_t *p, std::uint64_t v) {
    put32(p, static_cast<std::uint32_t>(v));
    put32(p + 4, static_cast<std::uint32_t>(v >> 32));
}
std::uint32_t get32(const std::uint8_t *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint64_t get64(const std::uint8_t *p) {
    return get32(p) | static_cast<std::uint64_t>(get32(p + 4)) << 32;
}

std::uint32_t crc32(const std::uint8_t *p, std::size_t n) {
    boost::crc_32_type crc;
    crc.process_bytes(p, n);
    return crc.checksum();
}

std::size_t pad8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

const std::uint16_t *prefix_calls(const kis_seq_model &m, std::uint32_t i) {
    return &m.calls[static_cast<std::size_t>(i) * (m.k - 1)];
}

// Prefix indices in canonical order: by their calls, lexicographically.
std::vector<std::uint32_t> canonical_prefixes(const kis_seq_model &m) {
    std::vector<std::uint32_t> order(m.nprefix);
    std::iota(order.begin(), order.end(), 0u);
    std::uint32_t n = m.k - 1;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const std::uint16_t *x = prefix_calls(m, a), *y = prefix_calls(m, b);
        return std::lexicographical_compare(x, x + n, y, y + n);
    });
    return order;
}

// The next-call entries of a prefix, sorted by call.
std::vector<const kis_seq_next *> canonical_nexts(const kis_seq_model &m, const kis_seq_prefix &p) {
    std::vector<const kis_seq_next *> v;
    v.reserve(p.nnext);
    for (std::uint32_t j = p.head; j != KIS_SEQ_NONE; j = m.nexts[j].link)
        v.push_back(&m.nexts[j]);
    std::sort(v.begin(), v.end(),
              [](const kis_seq_next *a, const kis_seq_next *b) { return a->call < b->call; });
    return v;
}

std::string errno_text(int err) { return std::strerror(err); }

std::string k_range() {
    return std::to_string(KIS_SEQ_K_MIN) + ".." + std::to_string(KIS_SEQ_K_MAX);
}

} // namespace

Profile::Profile(Profile &&other) noexcept
    : mem_(std::move(other.mem_)), m_(other.m_), finished_(other.finished_),
      stats_(std::move(other.stats_)) {
    other.m_ = {};
    other.stats_.reset();
}

Profile &Profile::operator=(Profile &&other) noexcept {
    if (this != &other) {
        mem_ = std::move(other.mem_);
        m_ = other.m_;
        finished_ = other.finished_;
        stats_ = std::move(other.stats_);
        other.m_ = {};
        other.stats_.reset();
    }
    return *this;
}

Result<StatsSummary> summarize_stats(std::span<const std::uint8_t> blob, const std::string &what) {
    const std::uint8_t *b = blob.data();
    // The header first, for messages that say more than "malformed".
    if (blob.size() >= kStatsHeaderSize && get32(b) == kStatsMagic) {
        std::uint32_t version = get32(b + 4), nparams = get32(b + 12);
        if (version != kStatsVersion)
            return make_error(what + ": statistics format version " + std::to_string(version) +
                              " is not supported (this kisctl reads version " +
                              std::to_string(kStatsVersion) + ")");
        if (nparams != KIS_PARAM_COUNT)
            return make_error(what + ": the statistics have " + std::to_string(nparams) +
                              " parameters, this kisctl knows " + std::to_string(KIS_PARAM_COUNT) +
                              "; use the kisctl built with the module that learned them");
    }
    std::uint32_t nfiles = 0;
    if (kis_stat_blob_check(b, blob.size(), &nfiles) != 0)
        return make_error(what + ": the statistics are malformed (sizes, counts or version do "
                                 "not add up)");
    StatsSummary out;
    const std::uint8_t *p = b + kStatsHeaderSize;
    for (std::uint32_t i = 0; i < KIS_PARAM_COUNT; i++, p += kStatsParamSize) {
        const kis_stat_param_info *info = kis_stat_param(i);
        StatsSummary::Param s;
        s.id = i;
        s.name = info ? info->name : "param" + std::to_string(i);
        s.unit = info ? info->unit : "";
        s.per_conn = info && info->per_conn;
        s.samples = get64(p);
        s.mean = static_cast<double>(get64(p + 8)) / KIS_STAT_SCALE;
        s.dev = static_cast<double>(get64(p + 16)) / KIS_STAT_SCALE;
        s.max = get64(p + 24);
        out.params.push_back(std::move(s));
    }
    out.tree_entries = nfiles;
    for (std::uint32_t i = 0; i < nfiles; i++, p += kStatsFileSize) {
        switch (get32(p + 8)) {
        case KIS_FTREE_FILE:
            out.tree_files++;
            break;
        case KIS_FTREE_DIR:
            out.tree_dirs++;
            break;
        case KIS_FTREE_DIR_ALL:
            out.tree_dirs_all++;
            break;
        }
    }
    return out;
}

Result<void> Profile::set_stats(std::vector<std::uint8_t> blob, const std::string &what) {
    if (Result<StatsSummary> s = summarize_stats(blob, what); !s)
        return s.error();
    stats_ = std::move(blob);
    return {};
}

Profile::~Profile() = default;

Result<Profile> Profile::with_room(std::uint32_t k, std::uint32_t prefixes, std::uint32_t kgrams) {
    std::size_t bytes = kis_seq_model_bytes(k, prefixes, kgrams);
    if (!bytes)
        return make_error("cannot make a profile with k=" + std::to_string(k) + ", " +
                          std::to_string(prefixes) + " prefixes and " + std::to_string(kgrams) +
                          " k-grams (k must be " + k_range() + ", at most " +
                          std::to_string(kProfileCapMax) + " of each)");
    Profile p;
    p.mem_.reset(new std::uint64_t[(bytes + 7) / 8]);
    if (kis_seq_model_init(&p.m_, p.mem_.get(), bytes, k, prefixes, kgrams) != 0)
        return make_error("cannot lay out a profile of " + std::to_string(bytes) + " bytes");
    p.finished_ = true;
    return p;
}

Result<Profile> Profile::create(std::uint32_t k) {
    if (k < KIS_SEQ_K_MIN || k > KIS_SEQ_K_MAX)
        return make_error("k must be " + k_range() + ", not " + std::to_string(k));
    return with_room(k, kInitialPrefixes, kInitialKgrams);
}

// Makes room for one more prefix and one more k-gram: a model twice as big where full, the
// counts carried over.
Result<void> Profile::make_room() {
    std::uint32_t pcap = m_.prefix_cap, ncap = m_.next_cap;
    if (m_.nprefix == pcap) {
        if (pcap >= kProfileCapMax)
            return make_error("more than " + std::to_string(kProfileCapMax) +
                              " distinct runs of k-1 calls, the most a profile holds: learn "
                              "from fewer traces or use a smaller k");
        pcap = std::min(pcap * 2, kProfileCapMax);
    }
    if (m_.nnext == ncap) {
        if (ncap >= kProfileCapMax)
            return make_error("more than " + std::to_string(kProfileCapMax) +
                              " distinct k-grams, the most a profile holds: learn from fewer "
                              "traces or use a smaller k");
        ncap = std::min(ncap * 2, kProfileCapMax);
    }
    Result<Profile> bigger = with_room(m_.k, pcap, ncap);
    if (!bigger)
        return bigger.error();
    for (std::uint32_t i = 0; i < m_.nprefix; i++) {
        const kis_seq_prefix &p = m_.prefixes[i];
        for (std::uint32_t j = p.head; j != KIS_SEQ_NONE; j = m_.nexts[j].link)
            kis_seq_add(&bigger->m_, prefix_calls(m_, i), m_.nexts[j].call, m_.nexts[j].count);
    }
    bigger->m_.dropped = m_.dropped;
    bigger->stats_ = std::move(stats_);
    *this = std::move(*bigger);
    finished_ = false;
    return {};
}

Result<void> Profile::learn(std::span<const std::uint16_t> calls) {
    kis_seq_recent r{};
    finished_ = false;
    for (std::uint16_t c : calls) {
        // One call adds at most one prefix and one k-gram.
        if (m_.nprefix == m_.prefix_cap || m_.nnext == m_.next_cap) [[unlikely]] {
            if (Result<void> room = make_room(); !room)
                return room;
        }
        kis_seq_learn(&m_, &r, c);
    }
    return {};
}

Result<void> Profile::learn(const std::vector<TraceFile> &files) {
    for (const TraceFile &f : files)
        for (const Trace &t : f.traces)
            if (Result<void> r = learn(t.calls); !r)
                return r;
    return {};
}

Result<void> Profile::merge(const Profile &other) {
    if (other.k() != k())
        return make_error("cannot merge a profile of k=" + std::to_string(other.k()) +
                          " into one of k=" + std::to_string(k()));
    finished_ = false;
    const kis_seq_model &o = other.m_;
    for (std::uint32_t i = 0; i < o.nprefix; i++) {
        const kis_seq_prefix &p = o.prefixes[i];
        for (std::uint32_t j = p.head; j != KIS_SEQ_NONE; j = o.nexts[j].link) {
            if (m_.nprefix == m_.prefix_cap || m_.nnext == m_.next_cap) {
                if (Result<void> room = make_room(); !room)
                    return room;
            }
            kis_seq_add(&m_, prefix_calls(o, i), o.nexts[j].call, o.nexts[j].count);
        }
    }
    return {};
}

std::uint64_t Profile::total() const {
    std::uint64_t sum = 0;
    for (std::uint32_t i = 0; i < m_.nprefix; i++)
        sum += m_.prefixes[i].total;
    return sum;
}

const kis_seq_model &Profile::model() const {
    if (!finished_) {
        // Only the scores, in memory the profile owns, change: the struct is copied.
        kis_seq_model m = m_;
        kis_seq_finish(&m);
        finished_ = true;
    }
    return m_;
}

std::vector<std::uint8_t> Profile::blob() const {
    std::size_t size = kis_seq_blob_size(&m_);
    std::vector<std::uint8_t> buf(size);
    // The core writes the header (and the entries in its own order, rewritten below).
    kis_seq_blob_write(&m_, buf.data(), size);
    std::uint32_t n = m_.k - 1;
    std::uint8_t *p = buf.data() + kBlobHeaderSize;
    for (std::uint32_t i : canonical_prefixes(m_)) {
        const std::uint16_t *calls = prefix_calls(m_, i);
        for (std::uint32_t c = 0; c < n; c++, p += 2)
            put16(p, calls[c]);
        put32(p, m_.prefixes[i].nnext);
        p += 4;
        for (const kis_seq_next *x : canonical_nexts(m_, m_.prefixes[i])) {
            put16(p, x->call);
            put32(p + 2, x->count);
            p += 6;
        }
    }
    return buf;
}

std::vector<std::uint8_t> Profile::file_bytes() const {
    // The sections kisctl knows, in type order.
    struct Section {
        std::uint32_t type;
        std::uint32_t flags;
        const std::vector<std::uint8_t> *payload;
    };
    std::vector<std::uint8_t> seq = blob();
    std::vector<Section> sections = {{kSectionSequence, kSectionRequired, &seq}};
    if (stats_)
        sections.push_back({kSectionStatistics, 0, &*stats_});
    std::size_t body = 0;
    for (const Section &sec : sections)
        body += kProfileSectionHeaderSize + pad8(sec.payload->size());
    std::vector<std::uint8_t> out(kProfileHeaderSize + body, 0);
    std::uint8_t *b = out.data() + kProfileHeaderSize;
    std::uint8_t *s = b;
    for (const Section &sec : sections) {
        put32(s, sec.type);
        put32(s + 4, sec.flags);
        put64(s + 8, sec.payload->size());
        std::memcpy(s + kProfileSectionHeaderSize, sec.payload->data(), sec.payload->size());
        s += kProfileSectionHeaderSize + pad8(sec.payload->size());
    }

    std::uint8_t *h = out.data();
    std::memcpy(h, kProfileMagic, sizeof(kProfileMagic));
    put32(h + 8, kProfileVersion);
    put32(h + 12, m_.k);
    put64(h + 16, body);
    put32(h + 24, crc32(b, body));
    put32(h + 28, static_cast<std::uint32_t>(sections.size()));
    return out;
}

Result<Profile> Profile::from_blob(std::span<const std::uint8_t> blob, const std::string &what) {
    std::uint32_t k = 0, np = 0, nn = 0;
    if (kis_seq_blob_check(blob.data(), blob.size(), &k, &np, &nn) != 0)
        return make_error(what + ": the sequence model is malformed (sizes, counts or version "
                                 "do not add up)");
    Result<Profile> p = with_room(k, std::max(np, 1u), std::max(nn, 1u));
    if (!p)
        return make_error(what + ": " + p.error().message);
    if (kis_seq_blob_read(&p->m_, blob.data(), blob.size()) != 0)
        return make_error(what + ": the sequence model lists a run of calls or a k-gram twice");
    p->finished_ = true;
    return p;
}

Result<Profile> Profile::parse(std::span<const std::uint8_t> file, const std::string &what) {
    auto damaged = [&](const std::string &why) {
        return make_error(what + ": " + why + ": the file is damaged");
    };
    const std::uint8_t *h = file.data();
    if (file.size() < sizeof(kProfileMagic) ||
        std::memcmp(h, kProfileMagic, sizeof(kProfileMagic)) != 0)
        return make_error(what + ": not a KIS profile (it does not start with \"KISPROF\")");
    if (file.size() < kProfileHeaderSize)
        return damaged("truncated: " + std::to_string(file.size()) + " bytes, shorter than the " +
                       std::to_string(kProfileHeaderSize) + "-byte header");
    std::uint32_t version = get32(h + 8);
    if (version != kProfileVersion)
        return make_error(what + ": profile format version " + std::to_string(version) +
                          " is not supported (this kisctl reads version " +
                          std::to_string(kProfileVersion) + ")" +
                          (version > kProfileVersion ? "; use a newer kisctl" : ""));
    std::uint32_t k = get32(h + 12);
    std::uint64_t body = get64(h + 16);
    std::uint64_t have = file.size() - kProfileHeaderSize;
    if (have < body)
        return damaged("truncated: the header announces " + std::to_string(body) +
                       " bytes of data, the file has " + std::to_string(have));
    if (have > body)
        return damaged(std::to_string(have - body) + " stray bytes after the end of the profile");
    const std::uint8_t *b = h + kProfileHeaderSize;
    if (crc32(b, body) != get32(h + 24))
        return make_error(what + ": checksum mismatch: the file is damaged");

    // CRC good: what follows catches writers that got the format wrong.
    std::uint32_t nsections = get32(h + 28), seen = 0;
    std::span<const std::uint8_t> seq, stats;
    bool have_seq = false, have_stats = false;
    std::uint64_t off = 0;
    while (off < body) {
        if (body - off < kProfileSectionHeaderSize)
            return damaged("a section header runs past the end");
        std::uint32_t type = get32(b + off), flags = get32(b + off + 4);
        std::uint64_t len = get64(b + off + 8);
        off += kProfileSectionHeaderSize;
        if (len > body - off)
            return damaged("section " + std::to_string(seen + 1) + " runs past the end");
        if (type == kSectionSequence) {
            if (have_seq)
                return damaged("two sequence model sections");
            seq = std::span<const std::uint8_t>(b + off, len);
            have_seq = true;
        } else if (type == kSectionStatistics) {
            if (have_stats)
                return damaged("two statistics sections");
            stats = std::span<const std::uint8_t>(b + off, len);
            have_stats = true;
        } else if (flags & kSectionRequired) {
            return make_error(what + ": holds a section of type " + std::to_string(type) +
                              " that this kisctl does not know and the profile needs; use a "
                              "newer kisctl");
        }
        off += std::min<std::uint64_t>(pad8(len), body - off);
        seen++;
    }
    if (seen != nsections)
        return damaged("the header announces " + std::to_string(nsections) +
                       " sections, the file holds " + std::to_string(seen));
    if (!have_seq)
        return damaged("no sequence model section");
    Result<Profile> p = from_blob(seq, what);
    if (!p)
        return p;
    if (p->k() != k)
        return damaged("the header says k=" + std::to_string(k) +
                       " but the sequence model has k=" + std::to_string(p->k()));
    if (have_stats) {
        Result<void> r = p->set_stats(std::vector<std::uint8_t>(stats.begin(), stats.end()), what);
        if (!r)
            return r.error();
    }
    return p;
}

Result<Profile> Profile::read(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(path + ": cannot open: " + errno_text(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(path + ": not a regular file");
    }
    std::vector<std::uint8_t> bytes;
    bytes.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t chunk[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return make_error(path + ": cannot read: " + errno_text(err));
        }
        if (n == 0)
            break;
        bytes.insert(bytes.end(), chunk, chunk + n);
    }
    ::close(fd);
    return parse(bytes, path);
}

namespace {

Result<void> write_all(int fd, const std::vector<std::uint8_t> &bytes, const std::string &path) {
    const std::uint8_t *p = bytes.data();
    std::size_t left = bytes.size();
    while (left) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(path + ": cannot write: " + errno_text(errno));
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace

Result<void> Profile::write(const std::string &path, bool overwrite) const {
    std::vector<std::uint8_t> bytes = file_bytes();
    if (!overwrite) {
        // Created here, so removing it after a failed write loses nothing.
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                return make_error(path + ": the file already exists; choose another name or "
                                         "use --force to overwrite it");
            return make_error(path + ": cannot create: " + errno_text(errno));
        }
        Result<void> r = write_all(fd, bytes, path);
        if (::close(fd) != 0 && r)
            r = make_error(path + ": cannot write: " + errno_text(errno));
        if (!r)
            ::unlink(path.c_str());
        return r;
    }
    // Replacing: a temporary file next to it, renamed over it when complete, so that a
    // failure leaves the old file as it was (it may be the input of a merge).
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return make_error(tmp + ": cannot create: " + errno_text(errno));
    Result<void> r = write_all(fd, bytes, tmp);
    if (r && ::fsync(fd) != 0)
        r = make_error(tmp + ": cannot write: " + errno_text(errno));
    if (::close(fd) != 0 && r)
        r = make_error(tmp + ": cannot write: " + errno_text(errno));
    if (r && ::rename(tmp.c_str(), path.c_str()) != 0)
        r = make_error(path + ": cannot replace: " + errno_text(errno));
    if (!r)
        ::unlink(tmp.c_str());
    return r;
}

std::vector<ProfileEntry> Profile::entries() const {
    const kis_seq_model &m = model();
    std::vector<ProfileEntry> out;
    out.reserve(m.nprefix);
    for (std::uint32_t i : canonical_prefixes(m)) {
        ProfileEntry e;
        const std::uint16_t *calls = prefix_calls(m, i);
        e.prefix.assign(calls, calls + (m.k - 1));
        e.total = m.prefixes[i].total;
        for (const kis_seq_next *x : canonical_nexts(m, m.prefixes[i]))
            e.next.push_back({x->call, x->count, x->score});
        out.push_back(std::move(e));
    }
    return out;
}

TraceScore score_trace(const Profile &profile, std::span<const std::uint16_t> calls,
                       std::uint32_t window, std::uint32_t threshold) {
    const kis_seq_model &m = profile.model();
    kis_seq_recent recent{};
    kis_seq_window win{};
    TraceScore s;
    s.calls = calls.size();
    bool above = false;
    for (std::size_t i = 0; i < calls.size(); i++) {
        std::uint32_t score = kis_seq_score(&m, &recent, calls[i]);
        if (score == KIS_SEQ_NO_SCORE)
            continue;
        s.scored++;
        score = kis_seq_smooth(&win, score, window);
        if (score > s.max) {
            s.max = score;
            s.max_at = i + 1;
        }
        if (score <= threshold) {
            above = false;
            continue;
        }
        if (above)
            continue;
        above = true;
        s.alerts++;
        if (!s.first_alert)
            s.first_alert = i + 1;
    }
    return s;
}

} // namespace kis
