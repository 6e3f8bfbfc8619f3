#include "sig_file.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <toml++/toml.h>

#include "text.hpp"
#include "toml_util.hpp"

namespace kis {

namespace {

constexpr std::array<std::string_view, 7> kSigKeys = {"id",       "pattern", "type",       "cells",
                                                      "response", "nocase",  "description"};

constexpr std::array<std::pair<std::string_view, SigResponse>, 5> kResponses = {{
    {"deny", SigResponse::deny},
    {"drop", SigResponse::drop},
    {"delay", SigResponse::delay},
    {"kill", SigResponse::kill},
    {"log", SigResponse::log},
}};

std::optional<std::string> check_sig_id(std::string_view id) {
    if (id.empty())
        return "id must not be empty";
    if (id.size() > kSigIdMax)
        return "id " + quoted(id) + " is " + std::to_string(id.size()) + " bytes long; at most " +
               std::to_string(kSigIdMax) + " are allowed";
    for (std::size_t i = 0; i < id.size(); i++) {
        char c = id[i];
        bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
        if (!good)
            return "id " + quoted(id) + " has a bad character " +
                   quoted(std::string_view(&id[i], 1)) + " at offset " + std::to_string(i) +
                   "; use only letters, digits, '_', '.' and '-'";
    }
    return std::nullopt;
}

class SigParser {
  public:
    SigParser(SigFile &out, const toml::table &table, int header_line)
        : out_(out), table_(table), header_line_(header_line) {}

    // Appends the signature if it has no error. `ids` maps the ids seen so far to their
    // lines, for the duplicate check.
    void parse(std::map<std::string, int, std::less<>> &ids) {
        std::size_t errors_before = out_.errors.size();
        Signature sig;
        sig.line = header_line_;
        parse_id(sig, ids);
        parse_type(sig);
        parse_cells(sig);
        parse_response(sig);
        parse_nocase(sig);
        parse_description(sig);
        parse_pattern(sig); // after nocase: the pattern is checked with the flag
        check_unknown_keys();
        if (out_.errors.size() == errors_before)
            out_.signatures.push_back(std::move(sig));
    }

  private:
    void error(int line, std::string message) {
        out_.errors.push_back({out_.path, line, std::move(message)});
    }

    std::string label() const {
        if (id_.empty())
            return "the signature at line " + std::to_string(header_line_);
        return "signature " + quoted(id_);
    }

    // The node of a key and its line, or nothing.
    const toml::node *find(std::string_view key, int &line) const {
        auto it = table_.find(key);
        if (it == table_.end())
            return nullptr;
        line = line_of(it->first, it->second);
        return &it->second;
    }

    void wrong_type(std::string_view key, const toml::node &node, int line, std::string_view want) {
        error(line, std::string(key) + " of " + label() + " must be " + std::string(want) +
                        ", not " + std::string(type_phrase(node.type())));
    }

    void parse_id(Signature &sig, std::map<std::string, int, std::less<>> &ids) {
        int line = header_line_;
        const toml::node *node = find("id", line);
        if (!node) {
            error(header_line_, "the signature at line " + std::to_string(header_line_) +
                                    " has no id; give it one, e.g. id = \"cmd-injection\"");
            return;
        }
        const toml::value<std::string> *v = node->as_string();
        if (!v) {
            error(line, "id must be a string, not " + std::string(type_phrase(node->type())));
            return;
        }
        const std::string &id = v->get();
        if (auto e = check_sig_id(id)) {
            error(line, *e);
            return;
        }
        auto [it, inserted] = ids.try_emplace(id, line);
        if (!inserted) {
            error(line, "signature id " + quoted(id) + " is already used at line " +
                            std::to_string(it->second) + "; ids must be unique in a file");
            return;
        }
        sig.id = id;
        id_ = id;
    }

    void parse_pattern(Signature &sig) {
        int line = header_line_;
        const toml::node *node = find("pattern", line);
        if (!node) {
            error(header_line_, label() + " has no pattern");
            return;
        }
        sig.pattern_line = line;
        const toml::value<std::string> *v = node->as_string();
        if (!v) {
            wrong_type("pattern", *node, line, "a string");
            return;
        }
        sig.pattern.text = v->get();
        Result<ParsedPattern> p = parse_sig_pattern(sig.pattern, label());
        if (!p)
            error(line, p.error().message);
    }

    void parse_type(Signature &sig) {
        int line = 0;
        const toml::node *node = find("type", line);
        if (!node)
            return;
        const toml::value<std::int64_t> *v = node->as_integer();
        if (!v) {
            wrong_type("type", *node, line, "1 or 2");
            return;
        }
        if (v->get() != 1 && v->get() != 2) {
            error(line, "type of " + label() + " is " + std::to_string(v->get()) +
                            "; it must be 1 (acts only under danger signal 1) or 2 (acts "
                            "always)");
            return;
        }
        sig.type = static_cast<std::uint32_t>(v->get());
    }

    void parse_cells(Signature &sig) {
        int line = header_line_;
        const toml::node *node = find("cells", line);
        if (!node) {
            error(header_line_, label() + " has no cells; name the cells it applies to, e.g. "
                                          "cells = [\"httpd\"], or cells = [\"*\"] for all");
            return;
        }
        const toml::array *arr = node->as_array();
        if (!arr) {
            wrong_type("cells", *node, line, "an array of cell names");
            return;
        }
        if (arr->empty()) {
            error(line, "cells of " + label() +
                            " is empty; name the cells it applies to, or \"*\" for all");
            return;
        }
        std::set<std::string, std::less<>> seen;
        for (const toml::node &element : *arr) {
            int eline = line_of(element) > 0 ? line_of(element) : line;
            const toml::value<std::string> *v = element.as_string();
            if (!v) {
                error(eline, "cells of " + label() + " must hold cell names (strings), not " +
                                 std::string(type_phrase(element.type())));
                continue;
            }
            const std::string &name = v->get();
            if (name != kSigAllCells) {
                if (auto e = check_cell_name(name)) {
                    error(eline, "cells of " + label() + ": " + *e);
                    continue;
                }
            }
            if (!seen.insert(name).second) {
                error(eline, "cells of " + label() + " names " + quoted(name) + " twice");
                continue;
            }
            sig.cells.push_back(name);
        }
        if (seen.count(kSigAllCells) && seen.size() > 1)
            error(line, "cells of " + label() +
                            " holds \"*\" and cell names; \"*\" alone already means every cell");
    }

    void parse_response(Signature &sig) {
        int line = 0;
        const toml::node *node = find("response", line);
        if (!node)
            return;
        const toml::value<std::string> *v = node->as_string();
        if (!v) {
            wrong_type("response", *node, line, "a string");
            return;
        }
        for (const auto &[name, r] : kResponses) {
            if (name == v->get()) {
                sig.response = r;
                return;
            }
        }
        error(line, "response of " + label() + " is " + quoted(v->get()) +
                        "; it must be one of \"deny\", \"drop\", \"delay\", \"kill\" and \"log\"");
    }

    void parse_nocase(Signature &sig) {
        int line = 0;
        const toml::node *node = find("nocase", line);
        if (!node)
            return;
        const toml::value<bool> *v = node->as_boolean();
        if (!v) {
            wrong_type("nocase", *node, line, "a boolean (true or false)");
            return;
        }
        sig.pattern.nocase = v->get();
    }

    void parse_description(Signature &sig) {
        int line = 0;
        const toml::node *node = find("description", line);
        if (!node)
            return;
        const toml::value<std::string> *v = node->as_string();
        if (!v) {
            wrong_type("description", *node, line, "a string");
            return;
        }
        sig.description = v->get();
    }

    void check_unknown_keys() {
        for (auto &&[key, node] : table_) {
            std::string_view k = key.str();
            if (std::find(kSigKeys.begin(), kSigKeys.end(), k) != kSigKeys.end())
                continue;
            std::string_view best = closest(k, kSigKeys);
            std::string hint = best.empty()
                                   ? " (a signature has the keys id, pattern, type, cells, "
                                     "response, nocase and description)"
                                   : did_you_mean(best);
            error(line_of(key, node), "unknown key " + quoted(k) + " in " + label() + hint);
        }
    }

    SigFile &out_;
    const toml::table &table_;
    int header_line_;
    std::string id_;
};

void parse_signatures_node(SigFile &out, const toml::key &key, const toml::node &node) {
    int line = line_of(key, node);
    if (node.is_table()) {
        out.errors.push_back({out.path, line,
                              "\"signature\" must be an array of tables: write [[signature]], "
                              "not [signature]"});
        return;
    }
    const toml::array *sigs = node.as_array();
    if (!sigs) {
        out.errors.push_back({out.path, line,
                              "\"signature\" must be an array of tables, not " +
                                  std::string(type_phrase(node.type())) +
                                  "; write each signature as a [[signature]] table"});
        return;
    }
    if (sigs->empty()) {
        out.errors.push_back({out.path, line,
                              "no signatures: \"signature\" is an empty array; write each "
                              "signature as a [[signature]] table"});
        return;
    }
    std::map<std::string, int, std::less<>> ids;
    for (const toml::node &element : *sigs) {
        const toml::table *table = element.as_table();
        if (!table) {
            out.errors.push_back({out.path, line_of(element) > 0 ? line_of(element) : line,
                                  "\"signature\" must be an array of tables, but it holds " +
                                      std::string(type_phrase(element.type())) +
                                      "; write each signature as a [[signature]] table"});
            continue;
        }
        int header_line = line_of(*table);
        SigParser(out, *table, header_line > 0 ? header_line : line).parse(ids);
    }
}

} // namespace

std::string_view sig_response_name(SigResponse r) {
    for (const auto &[name, value] : kResponses)
        if (value == r)
            return name;
    return "?";
}

bool Signature::applies_to(std::string_view cell) const {
    return all_cells() || std::find(cells.begin(), cells.end(), cell) != cells.end();
}

bool Signature::all_cells() const {
    return std::find(cells.begin(), cells.end(), kSigAllCells) != cells.end();
}

std::vector<std::string> SigFile::named_cells() const {
    std::vector<std::string> names;
    for (const Signature &sig : signatures)
        for (const std::string &c : sig.cells)
            if (c != kSigAllCells && std::find(names.begin(), names.end(), c) == names.end())
                names.push_back(c);
    return names;
}

std::vector<const Signature *> SigFile::for_cell(std::string_view cell) const {
    std::vector<const Signature *> out;
    for (const Signature &sig : signatures)
        if (cell.empty() || sig.applies_to(cell))
            out.push_back(&sig);
    return out;
}

SigFile parse_sig_file(std::string_view text, const std::string &path) {
    SigFile out;
    out.path = path;

    auto parsed = parse_toml(text, path);
    if (auto *err = std::get_if<TomlSyntaxError>(&parsed)) {
        out.errors.push_back({path, err->line, err->message});
        return out;
    }
    const toml::table &root = std::get<toml::table>(parsed);
    bool saw = false;
    for (auto &&[key, node] : root) {
        if (key.str() == "signature") {
            saw = true;
            parse_signatures_node(out, key, node);
            continue;
        }
        std::string_view best = closest(key.str(), std::array<std::string_view, 1>{"signature"});
        out.errors.push_back({path, line_of(key, node),
                              "unknown top-level key " + quoted(key.str()) +
                                  (best.empty() ? std::string() : did_you_mean(best)) +
                                  "; a signature file holds only [[signature]] tables"});
    }
    if (!saw)
        out.errors.push_back({path, 1,
                              "no [[signature]] table; a signature file needs at least one "
                              "[[signature]] with an id, a pattern and cells"});

    std::stable_sort(out.errors.begin(), out.errors.end(),
                     [](const ConfigError &a, const ConfigError &b) { return a.line < b.line; });
    if (!out.errors.empty())
        out.signatures.clear(); // nothing half accepted
    return out;
}

SigFile read_sig_file(const std::string &path) {
    Result<std::string> text = read_text_file(path, "signature");
    if (!text) {
        SigFile out;
        out.path = path;
        out.errors.push_back({path, 0, text.error().message});
        return out;
    }
    return parse_sig_file(*text, path);
}

Result<SigAutomaton> compile_sig_set(const std::vector<const Signature *> &sigs,
                                     const std::string &cell, const SigCompileLimits &limits) {
    std::vector<SigPattern> patterns;
    patterns.reserve(sigs.size());
    for (const Signature *s : sigs)
        patterns.push_back(s->pattern);
    return compile_signatures(patterns, cell, limits);
}

} // namespace kis
