// Word-count sample nodes. The pipeline (pipelines.json) wires them like this:
//
//   raw_text ─ normalize ─ clean_text ─ tokenize ─ words ─┬─ remove_stopwords ─ content_words ─ count_words ─ word_counts ─ top_words ─ top_words ──┐
//              params:min_word_length ───────┘            │        params:stopwords ─┘                   params:top_n ─┘                          ├─ write_report ─ report
//                                                         ├─ length_histogram ─ length_histogram (.npy)                                          │
//                                                         └─ text_stats (+ content_words) ─ text_stats (.json) ──────────────────────────────────┘
#include <algorithm>
#include <cctype>
#include <kiln/partitions.hpp>
#include <kiln/sdk.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace {

// Lower-case letters and digits; everything else separates words.
std::string normalize(const std::string& raw) {
    std::string out(raw.size(), ' ');
    std::transform(raw.begin(), raw.end(), out.begin(), [](unsigned char c) {
        return std::isalnum(c) || c == '\'' ? static_cast<char>(std::tolower(c)) : ' ';
    });
    return out;
}

std::vector<std::string> tokenize(const std::string& text, std::int64_t min_word_length) {
    if (min_word_length < 1) throw std::invalid_argument("min_word_length must be at least 1");
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        w.erase(std::remove(w.begin(), w.end(), '\''), w.end());
        if (static_cast<std::int64_t>(w.size()) >= min_word_length) words.push_back(std::move(w));
    }
    kiln::log::info("tokenize: " + std::to_string(words.size()) + " words");
    return words;
}

std::vector<std::string> remove_stopwords(const std::vector<std::string>& words, const std::vector<std::string>& stopwords) {
    std::set<std::string> stop(stopwords.begin(), stopwords.end());
    std::vector<std::string> kept;
    std::copy_if(words.begin(), words.end(), std::back_inserter(kept), [&](const std::string& w) { return !stop.count(w); });
    return kept;
}

nlohmann::json count_words(const std::vector<std::string>& words) {
    std::map<std::string, std::int64_t> counts;
    for (const auto& w : words) ++counts[w];
    return counts;
}

// The n most frequent words as rows, most frequent first (ties alphabetical).
nlohmann::json top_words(const nlohmann::json& counts, std::int64_t n) {
    std::vector<std::pair<std::string, std::int64_t>> rows;
    for (auto it = counts.begin(); it != counts.end(); ++it) rows.emplace_back(it.key(), it->get<std::int64_t>());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (n >= 0 && rows.size() > static_cast<std::size_t>(n)) rows.resize(static_cast<std::size_t>(n));
    nlohmann::json table = nlohmann::json::array();
    std::int64_t rank = 0;
    for (const auto& [word, count] : rows) table.push_back({{"rank", ++rank}, {"word", word}, {"count", count}});
    return table;
}

// histogram[k] = number of words of length k.
kiln::Tensor<std::int64_t> length_histogram(const std::vector<std::string>& words) {
    std::size_t longest = 0;
    for (const auto& w : words) longest = std::max(longest, w.size());
    kiln::Tensor<std::int64_t> histogram({longest + 1});
    for (const auto& w : words) ++histogram[w.size()];
    return histogram;
}

nlohmann::json text_stats(const std::vector<std::string>& words, const std::vector<std::string>& content_words) {
    std::set<std::string> unique(words.begin(), words.end());
    double letters = 0;
    for (const auto& w : words) letters += static_cast<double>(w.size());
    return {{"words", words.size()},
            {"unique_words", unique.size()},
            {"content_words", content_words.size()},
            {"mean_word_length", words.empty() ? 0.0 : letters / static_cast<double>(words.size())}};
}

// The word counts of every file of a folder (kiln.PartitionedDataset), a file each. Each is
// made only when its file is written, so one note at a time is in memory.
kiln::Partitions<nlohmann::json> count_each(const kiln::Partitions<std::string>& notes, std::int64_t min_word_length) {
    kiln::Partitions<nlohmann::json> counts;
    for (const auto& note : notes)
        counts.add_lazy(note.id(), [note, min_word_length] {
            return count_words(tokenize(normalize(*note.load()), min_word_length));
        });
    return counts;
}

std::string write_report(const nlohmann::json& stats, const nlohmann::json& top) {
    std::ostringstream md;
    md << "# Word count report\n\n"
       << "- words: " << stats.at("words") << "\n"
       << "- unique words: " << stats.at("unique_words") << "\n"
       << "- content words: " << stats.at("content_words") << "\n"
       << "- mean word length: " << stats.at("mean_word_length").get<double>() << "\n\n"
       << "| rank | word | count |\n|---:|---|---:|\n";
    for (const auto& row : top)
        md << "| " << row.at("rank") << " | " << row.at("word").get<std::string>() << " | " << row.at("count") << " |\n";
    return md.str();
}

}  // namespace

KILN_PLUGIN_VERSIONED(wordcount, "1.0.0") {
    reg.node("normalize", &normalize, {.doc = "lower-case, punctuation to spaces"});
    reg.node("tokenize", &tokenize, {.args = {"text", "min_word_length"}, .doc = "split into words"});
    reg.node("remove_stopwords", &remove_stopwords, {.args = {"words", "stopwords"}});
    reg.node("count_words", &count_words, {.doc = "word -> occurrences"});
    reg.node("top_words", &top_words, {.args = {"counts", "n"}, .doc = "the n most frequent words"});
    reg.node("length_histogram", &length_histogram);
    reg.node("text_stats", &text_stats, {.args = {"words", "content_words"}});
    reg.node("count_each", &count_each,
             {.args = {"notes", "min_word_length"}, .doc = "the word counts of each file of a folder"});
    reg.node("write_report", &write_report, {.args = {"stats", "top"}, .doc = "markdown summary"});
}
