// The run journal's file format: what is appended reads back, from several threads at
// once and across chunks of the file; a torn or foreign record is ignored; a header that
// is not a journal is refused with the file named.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>

#include "journal/run_journal.hpp"
#include "kiln/error.hpp"
#include "test_support.hpp"

using namespace kiln;
using namespace kiln::core;

namespace run_journal_test_cases {

namespace {

nlohmann::json header_for(std::size_t nodes) {
    nlohmann::json names = nlohmann::json::array();
    for (std::size_t i = 0; i < nodes; ++i) names.push_back("n" + std::to_string(i));
    return {{"format", "kiln-journal/1"}, {"run_id", "r1"}, {"nodes", names}};
}

JournalRecord event(JournalEvent e, std::uint32_t node) {
    JournalRecord r;
    r.event = static_cast<std::uint8_t>(e);
    r.node = node;
    return r;
}

}  // namespace

TEST_CASE("journal.records_read_back") {
    test::TempDir dir;
    {
        auto journal = RunJournal::create(dir.path(), header_for(3));
        journal->append(event(JournalEvent::started, 0));
        JournalRecord out = event(JournalEvent::output, 0);
        out.a = 42;
        out.b = 7;
        out.c = 1;
        journal->append(out);
        journal->append(event(JournalEvent::done, 0));
        journal->append(event(JournalEvent::started, 1));
        journal->append(event(JournalEvent::failed, 1));
        journal->append(event(JournalEvent::started, 2));  // never finished: killed
    }
    auto state = read_journal(dir.path());
    REQUIRE(state);
    CHECK(state->header["run_id"] == "r1");
    CHECK(state->done == std::vector<char>{1, 0, 0});
    CHECK(state->failed == std::vector<char>{0, 1, 0});
    CHECK(state->started == std::vector<char>{1, 1, 1});
    REQUIRE(state->outputs[0].size() == 1);
    CHECK(state->outputs[0][0].output == 1);
    CHECK(state->outputs[0][0].size == 42);
    CHECK(state->outputs[0][0].mtime_ns == 7);
    CHECK_FALSE(state->ending.has_value());  // no "ended": the process died mid-run
}

TEST_CASE("journal.a_node_started_again_no_longer_counts_as_done") {
    test::TempDir dir;
    {
        auto journal = RunJournal::create(dir.path(), header_for(1));
        journal->append(event(JournalEvent::done, 0));     // carried from an earlier part
        journal->append(event(JournalEvent::started, 0));  // re-run, then killed
    }
    auto state = read_journal(dir.path());
    REQUIRE(state);
    CHECK(state->done[0] == 0);
}

TEST_CASE("journal.many_threads_and_many_chunks") {
    test::TempDir dir;
    constexpr std::uint32_t nodes = 40000;  // 80,000 records: several 256 KiB chunks
    {
        auto journal = RunJournal::create(dir.path(), header_for(nodes));
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (std::uint32_t i = t; i < nodes; i += 4) {
                    journal->append(event(JournalEvent::started, i));
                    journal->append(event(JournalEvent::done, i));
                }
            });
        for (auto& t : threads) t.join();
        JournalRecord end = event(JournalEvent::ended, 0);
        end.a = static_cast<std::uint64_t>(RunEnding::success);
        journal->append(end);
    }
    auto state = read_journal(dir.path());
    REQUIRE(state);
    CHECK(state->records == 2 * nodes + 1);
    CHECK(std::count(state->done.begin(), state->done.end(), 1) == nodes);
    REQUIRE(state->ending.has_value());
    CHECK(*state->ending == RunEnding::success);
}

TEST_CASE("journal.torn_record_is_ignored") {
    test::TempDir dir;
    {
        auto journal = RunJournal::create(dir.path(), header_for(2));
        journal->append(event(JournalEvent::done, 0));
        journal->append(event(JournalEvent::done, 1));
    }
    // Damage the second record (a write cut short by a power loss).
    const auto file = journal_path(dir.path());
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    std::string first_line;
    std::getline(f, first_line);
    const std::size_t header = std::stoull(first_line.substr(first_line.rfind(' ') + 1));
    f.seekp(static_cast<std::streamoff>(header + sizeof(JournalRecord) + 4));
    f.put('\x7f');
    f.close();
    auto state = read_journal(dir.path());
    REQUIRE(state);
    CHECK(state->done == std::vector<char>{1, 0});
}

TEST_CASE("journal.not_a_journal_is_refused_naming_the_file") {
    test::TempDir dir;
    dir.write(".kiln/journal", "{\"hello\": 1}\n");
    try {
        read_journal(dir.path());
        FAIL("expected ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find(".kiln/journal: not a kiln run journal") != std::string::npos);
    }
    CHECK_FALSE(read_journal(dir / "elsewhere").has_value());
}

TEST_CASE("journal.a_new_journal_replaces_the_old_one_atomically") {
    test::TempDir dir;
    {
        auto journal = RunJournal::create(dir.path(), header_for(1));
        journal->append(event(JournalEvent::done, 0));
    }
    auto second = RunJournal::create(dir.path(), header_for(2));
    auto state = read_journal(dir.path());
    REQUIRE(state);
    CHECK(state->done == std::vector<char>{0, 0});
    CHECK(state->header["nodes"].size() == 2);
    std::size_t temp_files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / ".kiln"))
        if (e.path().filename().string().find("kiln-tmp") != std::string::npos) ++temp_files;
    CHECK(temp_files == 0);
}

}  // namespace run_journal_test_cases
