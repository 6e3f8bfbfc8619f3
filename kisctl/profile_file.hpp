// Profiles: the sequence model of the portable core (kernel/kis/core/kis_seq.h) in memory
// and in a file. The file (Documentation/file-formats.md) is versioned and checksummed and
// holds the core's exchange blob in canonical order, so that the same k-grams and counts give
// the same bytes however they were learned (in the kernel or offline, in any order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kis_seq.h"
#include "result.hpp"
#include "trace_file.hpp"

namespace kis {

// The profile file layout (all numbers little-endian).
inline constexpr char kProfileMagic[8] = {'K', 'I', 'S', 'P', 'R', 'O', 'F', '\n'};
inline constexpr std::uint32_t kProfileVersion = 1;
inline constexpr std::size_t kProfileHeaderSize = 32;
inline constexpr std::size_t kProfileSectionHeaderSize = 16;
// Section types. A reader skips a section type it does not know unless the section is
// marked required.
inline constexpr std::uint32_t kSectionSequence = 1; // the core's blob, canonical order
// The resource statistics and file tree: the core's statistics blob (kis_stat.h). Optional.
inline constexpr std::uint32_t kSectionStatistics = 2;
inline constexpr std::uint32_t kSectionRequired = 0x1;
// Most distinct prefixes or k-grams a model holds (the core's KIS_SEQ_CAP_MAX, the
// module's KIS_LEARN_CAP_MAX).
inline constexpr std::uint32_t kProfileCapMax = 0x400000;

// One prefix of a profile with its next calls, for display. Canonical order: prefixes by
// their calls (lexicographically), next calls by call.
struct ProfileEntry {
    struct Next {
        std::uint16_t call;
        std::uint32_t count;
        std::uint16_t score; // 0..1000, as kis_seq_score returns it
    };
    std::vector<std::uint16_t> prefix; // k-1 calls, oldest first
    std::uint32_t total = 0;
    std::vector<Next> next;
};

// What a statistics blob (kis_stat_blob_write) holds, for people.
struct StatsSummary {
    struct Param {
        std::uint32_t id = 0; // enum kis_param
        std::string name;     // kis_stat_param()
        std::string unit;
        bool per_conn = false; // a sample is one connection, not one interval
        std::uint64_t samples = 0;
        double mean = 0; // in the unit (the blob keeps sixteenths)
        double dev = 0;  // mean absolute deviation, in the unit
        std::uint64_t max = 0;
    };
    std::vector<Param> params; // every parameter, by enum kis_param
    // The file tree: entries by kind (KIS_FTREE_FILE, _DIR, _DIR_ALL).
    std::uint32_t tree_entries = 0;
    std::uint32_t tree_files = 0;
    std::uint32_t tree_dirs = 0;
    std::uint32_t tree_dirs_all = 0;
};

// Checks a statistics blob completely (kis_stat_blob_check) and summarizes it. Untrusted:
// `what` names the source in messages.
Result<StatsSummary> summarize_stats(std::span<const std::uint8_t> blob, const std::string &what);

// A sequence model that owns its memory and grows as it learns.
class Profile {
  public:
    // An empty profile of sequence length k (KIS_SEQ_K_MIN..KIS_SEQ_K_MAX).
    static Result<Profile> create(std::uint32_t k);
    // From the core's exchange blob (any order), e.g. as the module sends it. Untrusted:
    // checked completely. `what` names the source in messages.
    static Result<Profile> from_blob(std::span<const std::uint8_t> blob, const std::string &what);
    // From the bytes of a profile file; `what` names the file in messages.
    static Result<Profile> parse(std::span<const std::uint8_t> file, const std::string &what);
    // Reads a profile file.
    static Result<Profile> read(const std::string &path);

    Profile(Profile &&) noexcept;
    Profile &operator=(Profile &&) noexcept;
    Profile(const Profile &) = delete;
    Profile &operator=(const Profile &) = delete;
    ~Profile();

    // Counts the k-grams of one task's calls (kis_seq_learn, from a fresh start), adding to
    // what is there. Grows the model as needed; fails only when a profile would have to hold
    // more than kProfileCapMax prefixes or k-grams.
    Result<void> learn(std::span<const std::uint16_t> calls);
    Result<void> learn(const Trace &trace) { return learn(trace.calls); }
    Result<void> learn(const std::vector<TraceFile> &files);
    // Adds the counts of another profile of the same k.
    Result<void> merge(const Profile &other);

    std::uint32_t k() const { return m_.k; }
    std::uint32_t prefixes() const { return m_.nprefix; }
    std::uint32_t kgrams() const { return m_.nnext; }
    // Sum of all counts: the k-grams learned (calls that had k-1 predecessors).
    std::uint64_t total() const;

    // The model, finished (scores up to date), for kis_seq_score.
    const kis_seq_model &model() const;

    // The core's exchange blob in canonical order: what is sent to the module.
    std::vector<std::uint8_t> blob() const;
    // The whole profile file.
    std::vector<std::uint8_t> file_bytes() const;
    // Writes the profile file, atomically (a temporary file renamed into place). Refuses an
    // existing file unless `overwrite`.
    Result<void> write(const std::string &path, bool overwrite = false) const;

    // Every prefix with its next calls, in canonical order.
    std::vector<ProfileEntry> entries() const;

    // The resource statistics (section 2, the core's blob), when the profile has them. The
    // sequence model does not depend on them: learn and merge leave them as they are.
    const std::optional<std::vector<std::uint8_t>> &stats() const { return stats_; }
    // Sets the statistics after checking them (summarize_stats); `what` names the source.
    Result<void> set_stats(std::vector<std::uint8_t> blob, const std::string &what);
    void clear_stats() { stats_.reset(); }

  private:
    Profile() = default;
    static Result<Profile> with_room(std::uint32_t k, std::uint32_t prefixes, std::uint32_t kgrams);
    Result<void> make_room();

    std::unique_ptr<std::uint64_t[]> mem_;
    kis_seq_model m_{};
    mutable bool finished_ = true;
    std::optional<std::vector<std::uint8_t>> stats_;
};

// The scores of one trace, as the module computes them for a task: kis_seq_score, then
// kis_seq_smooth over `window` calls; an alert when the smoothed score rises above
// `threshold`, one per excursion.
struct TraceScore {
    std::uint64_t calls = 0;       // calls in the trace
    std::uint64_t scored = 0;      // calls with k-1 predecessors
    std::uint32_t max = 0;         // highest smoothed score, 0..1000
    std::uint64_t max_at = 0;      // 1-based index of the call where it was reached (0: none)
    std::uint64_t alerts = 0;      // excursions above the threshold
    std::uint64_t first_alert = 0; // 1-based index of the call of the first alert (0: none)
};

TraceScore score_trace(const Profile &profile, std::span<const std::uint16_t> calls,
                       std::uint32_t window = KIS_SEQ_WINDOW_DEFAULT,
                       std::uint32_t threshold = KIS_SEQ_THRESHOLD_DEFAULT);

} // namespace kis
