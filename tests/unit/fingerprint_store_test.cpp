// The fingerprint store and content hashes of incremental runs: records survive any name,
// a torn or edited line is ignored (its node just runs again), the last record of a node
// wins, appending after a torn line starts a fresh one, file hashes are streamed the same
// whatever the buffer boundaries, and a file is hashed only when its size or mtime changed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "incremental/content_hash.hpp"
#include "incremental/fingerprint_store.hpp"
#include "incremental/node_fingerprint.hpp"
#include "test_support.hpp"

using namespace kiln::core;
using kiln::test::read_text;
using kiln::test::TempDir;
namespace fs = std::filesystem;

namespace fingerprint_store_test_cases {

namespace {

NodeRecord sample_record(const std::string& node, const std::string& fingerprint) {
    NodeRecord r;
    r.node = node;
    r.fingerprint = fingerprint;
    r.run_id = "2026-11-29T10.00.00.000Z";
    r.signature = "t.add(a: f64, b: f64) -> c: f64 [kiln.JsonDataset 1a2b3c4d]";
    r.code = "version 2";
    r.inputs.push_back({"a", InputPart::Kind::file, "0123456789abcdef0123456789abcdef", "data/a\tb.json",
                        {12, 1700000000123456789, 0}, "kiln.JsonDataset 00ff00ff"});
    r.inputs.push_back({"params:k", InputPart::Kind::parameter, "ffff", "", {}, "{\"x\": \"line\\nbreak\"}"});
    r.inputs.push_back({"m", InputPart::Kind::node, "abcd", "ns.producer", {}, ""});
    r.outputs.push_back({"c", "data/c.json", {3, -5, 0}, "feedfeed"});
    r.outputs.push_back({"mem", "", {}, ""});
    return r;
}

}  // namespace

TEST_CASE("fingerprint_store.records_round_trip_with_any_characters") {
    NodeRecord r = sample_record("odd\tname\nwith \\ backslash", "fp1");
    const std::string line = FingerprintStore::encode(r);
    CHECK(line.back() == '\n');
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    NodeRecord back;
    REQUIRE(FingerprintStore::decode(std::string_view(line).substr(0, line.size() - 1), back));
    CHECK(back.node == r.node);
    CHECK(back.fingerprint == "fp1");
    CHECK(back.signature == r.signature);
    CHECK(back.code == r.code);
    REQUIRE(back.inputs.size() == 3);
    CHECK(back.inputs[0] == r.inputs[0]);
    CHECK(back.inputs[1] == r.inputs[1]);
    CHECK(back.inputs[2] == r.inputs[2]);
    REQUIRE(back.outputs.size() == 2);
    CHECK(back.outputs[0].stamp == FileStamp{3, -5, 0});
    CHECK(back.outputs[0].hash == "feedfeed");
    CHECK(back.outputs[1].path.empty());
}

TEST_CASE("fingerprint_store.a_torn_or_edited_line_is_ignored") {
    const std::string line = FingerprintStore::encode(sample_record("n", "fp"));
    const std::string body = line.substr(0, line.size() - 1);
    NodeRecord r;
    for (std::size_t cut = 0; cut < body.size(); cut += 7) CHECK_FALSE(FingerprintStore::decode(body.substr(0, cut), r));
    std::string edited = body;
    edited[20] = edited[20] == '0' ? '1' : '0';
    CHECK_FALSE(FingerprintStore::decode(edited, r));
    CHECK_FALSE(FingerprintStore::decode("kiln-fingerprint-0\tn\tfp", r));
    CHECK_FALSE(FingerprintStore::decode("", r));
}

TEST_CASE("fingerprint_store.the_last_record_wins_and_a_torn_line_does_not_swallow_the_next") {
    TempDir dir;
    {
        FingerprintStore store(dir.path());
        CHECK(store.load().empty());  // no file yet
        store.append(sample_record("a", "old"));
        store.append(sample_record("b", "b1"));
        store.append(sample_record("a", "new"));
    }
    const fs::path file = dir / ".kiln/fingerprints";
    {
        FingerprintStore store(dir.path());
        auto records = store.load();
        REQUIRE(records.size() == 2);
        CHECK(records.at("a").fingerprint == "new");
    }
    // A crash in the middle of a write leaves half a line.
    const std::string torn = FingerprintStore::encode(sample_record("c", "torn"));
    std::ofstream(file, std::ios::app) << torn.substr(0, torn.size() / 2);
    {
        FingerprintStore store(dir.path());
        auto records = store.load();
        CHECK(records.size() == 2);
        store.append(sample_record("d", "after"));
    }
    FingerprintStore store(dir.path());
    auto records = store.load();
    CHECK(records.size() == 3);
    CHECK(records.at("d").fingerprint == "after");
    CHECK_FALSE(records.count("c"));
}

TEST_CASE("fingerprint_store.a_store_of_many_pieces_is_read_on_several_threads_in_file_order") {
    // Over 1 MiB: decoded in pieces of whole lines on several threads. Every node recorded
    // in the first half and again in the second keeps its second record, wherever the
    // pieces are cut; a torn line costs only its own node, which keeps its first record.
    TempDir dir;
    std::string text;
    std::size_t torn_at = 0;
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 3000; ++i) {
            if (round == 1 && i == 1500) torn_at = text.size();
            text += FingerprintStore::encode(sample_record("n" + std::to_string(i), "r" + std::to_string(round)));
        }
    REQUIRE(text.size() > (2u << 20));
    text.erase(torn_at + 40, 30);
    dir.write(".kiln/fingerprints", text);
    FingerprintStore store(dir.path());
    const NodeRecords records = store.load();
    REQUIRE(records.size() == 3000);
    std::size_t second = 0;
    for (const auto& [name, r] : records) second += r.fingerprint == "r1";
    CHECK(second == 2999);
    CHECK(records.at("n1500").fingerprint == "r0");
    CHECK(records.at("n2999").fingerprint == "r1");
    CHECK(records.at("n0").inputs.size() == 3);
}

TEST_CASE("fingerprint_store.compacts_only_when_mostly_superseded") {
    TempDir dir;
    FingerprintStore store(dir.path());
    for (int i = 0; i < 1500; ++i)
        store.append(sample_record("n" + std::to_string(i % 10), "fp" + std::to_string(i)), i % 2 == 0);
    store.sync();
    NodeRecords latest = FingerprintStore(dir.path()).load();
    REQUIRE(latest.size() == 10);
    store.compact(latest);
    const std::string text = read_text(dir / ".kiln/fingerprints");
    CHECK(std::count(text.begin(), text.end(), '\n') == 10);
    CHECK(FingerprintStore(dir.path()).load().at("n9").fingerprint == "fp1499");
    // A few lines more: left alone.
    store.append(sample_record("n0", "x"));
    store.compact(FingerprintStore(dir.path()).load());
    const std::string after = read_text(dir / ".kiln/fingerprints");
    CHECK(std::count(after.begin(), after.end(), '\n') == 11);
}

TEST_CASE("content_hash.files_are_hashed_streamed_and_folders_by_names_and_contents") {
    TempDir dir;
    std::string big(3 * (1 << 20) + 12345, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
    dir.write("big.bin", big);
    ContentHasher whole;
    whole.add_raw(big.data(), big.size());
    CHECK(hash_file(dir / "big.bin") == whole.hex());
    CHECK(hash_file(dir / "big.bin").size() == 32);
    // Framed pieces: ("ab", "c") is not ("a", "bc").
    ContentHasher h1, h2;
    h1.add("ab");
    h1.add("c");
    h2.add("a");
    h2.add("bc");
    CHECK(h1.hex() != h2.hex());

    dir.write("folder/x.txt", "1");
    dir.write("folder/sub/y.txt", "2");
    const std::string before = hash_file(dir / "folder");
    const FileState state = file_state(dir / "folder");
    CHECK(state.present);
    CHECK(state.stamp.files == 2);
    CHECK(state.stamp.size == 2);
    fs::rename(dir / "folder/x.txt", dir / "folder/z.txt");  // same bytes, another name
    CHECK(hash_file(dir / "folder") != before);
    CHECK_FALSE(file_state(dir / "missing").present);
    CHECK(kiln::test::error_of([&] { hash_file(dir / "missing"); }).find("cannot read") != std::string::npos);
}

TEST_CASE("file_hashes.hash_only_what_changed_and_look_at_many_files_on_several_threads") {
    TempDir dir;
    dir.write("data/a.txt", "alpha");
    // What a record vouches for is not read again while size and mtime match.
    const FileState state = file_state(dir / "data/a.txt");
    NodeRecord r = sample_record("n", "fp");
    r.outputs = {{"a", "data/a.txt", state.stamp, "not-really-the-hash"}};
    NodeRecords records{{"n", r}};
    FileHashes files(records, dir.path());
    const std::string a = (dir / "data/a.txt").string();
    CHECK(files.look(a).hash == "not-really-the-hash");
    CHECK(files.hashed() == 0);
    // A touch: hashed again, the real content hash.
    fs::last_write_time(dir / "data/a.txt", fs::last_write_time(dir / "data/a.txt") + std::chrono::seconds(3));
    CHECK(files.look(a).hash == hash_file(dir / "data/a.txt"));
    CHECK(files.hashed() == 1);
    CHECK_FALSE(files.look((dir / "data/none").string()).present);

    std::vector<std::string> many;
    for (int i = 0; i < 600; ++i) {
        dir.write("many/f" + std::to_string(i), std::to_string(i));
        many.push_back((dir / ("many/f" + std::to_string(i))).string());
    }
    many.push_back((dir / "many/missing").string());
    std::vector<FileHashes::Slot*> slots;
    for (const std::string& file : many) slots.push_back(&files.slot(file));
    files.look_all(slots);
    CHECK(files.hashed() == 601);
    // Looked at once: the same answers without another stat, and no new hash.
    const std::string f7 = files.look(many[7], true).hash;
    dir.write("many/f7", "changed after the look");
    CHECK(files.look(many[7], true).hash == f7);
    CHECK(files.look(many[7], true).stamp.size == 1);
    CHECK(files.look(many[7]).stamp.size == std::string("changed after the look").size());
    CHECK(files.hashed() == 602);
}

}  // namespace fingerprint_store_test_cases
