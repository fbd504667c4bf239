// The --cache entry's container (src/cli/cache.cpp): what encode_entry writes decode_entry reads
// back, and every damaged entry (truncated anywhere, a byte changed anywhere, another layout,
// blob lengths that do not add up) is an error saying what is wrong, never a wrong blob.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "../../src/cli/cache.hpp"
#include "analyze_logs/util.hpp"

using alog::cli::decode_entry;
using alog::cli::DecodedEntry;
using alog::cli::encode_entry;
using alog::cli::EntryBlob;
using ojson = nlohmann::ordered_json;

namespace {

std::string error_of(std::string_view bytes) {
  try {
    decode_entry(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Overwrites the u32 at `at` (the entry's fields: layout at 8, meta length at 12).
void set_u32(std::string& s, size_t at, uint32_t v) {
  std::string le;
  alog::put_u32le(le, v);
  s.replace(at, 4, le);
}

// An entry whose meta is `meta` as given (its "blobs" list included) and whose body is `rest`,
// with a checksum that matches: what only a bug or a hand could make.
std::string forged(const ojson& meta, const std::string& rest) {
  const std::vector<uint8_t> m = ojson::to_cbor(meta);
  std::string s = "ALOGCACH";
  s.append(8, '\0');
  set_u32(s, 8, 2);
  set_u32(s, 12, static_cast<uint32_t>(m.size()));
  s.append(m.begin(), m.end());
  s += rest;
  const uint32_t crc =
      static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(s.data()), s.size()));
  s.append(4, '\0');
  set_u32(s, s.size() - 4, crc);
  return s;
}

}  // namespace

TEST(CacheEntry, RoundTripKeepsMetaAndEveryBlobByteForByte) {
  const std::string html(300000, 'h');
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const ojson meta = {
      {"settings", "v0.1.0 --max-updates=0"}, {"identity", "srtctl\njob\n"}, {"listing", "a\t1\n"}};
  const std::vector<EntryBlob> blobs = {
      {"html", html}, {"empty", ""}, {"srtctl", binary}, {"text", "a line\n"}};
  const std::string bytes = encode_entry(meta, blobs);
  EXPECT_EQ(bytes.substr(0, 8), "ALOGCACH");
  const DecodedEntry d = decode_entry(bytes);
  EXPECT_EQ(d.meta, meta);  // the blob list is the container's, not the meta's
  ASSERT_EQ(d.blobs.size(), blobs.size());
  for (size_t i = 0; i < blobs.size(); ++i) {
    EXPECT_EQ(d.blobs[i].name, blobs[i].name);
    EXPECT_EQ(d.blobs[i].bytes, blobs[i].bytes) << blobs[i].name;
    EXPECT_EQ(d.blob(blobs[i].name), blobs[i].bytes);
  }
  EXPECT_EQ(d.blob("fleet_element"), std::nullopt);
  // The blobs are views into the bytes decoded, not copies.
  EXPECT_GE(d.blob("html")->data(), bytes.data());
  EXPECT_LE(d.blob("html")->data() + html.size(), bytes.data() + bytes.size());
  // No blobs at all.
  EXPECT_TRUE(decode_entry(encode_entry(ojson{{"k", 1}}, {})).blobs.empty());
}

TEST(CacheEntry, EveryTruncationAndEveryChangedByteIsAnError) {
  const std::string binary("\x00\x01\x02", 3);  // a blob views its bytes: they outlive it
  const std::vector<EntryBlob> blobs = {{"markdown", "## job\n\ntext\n"}, {"srtctl", binary}};
  const std::string good = encode_entry(ojson{{"kind", "srtctl"}, {"name", "4459"}}, blobs);
  ASSERT_EQ(error_of(good), "");
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_NE(error_of(good.substr(0, n)), "") << "cut at " << n;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_NE(error_of(bad), "") << "byte " << i << " changed";
  }
  EXPECT_NE(error_of(good + "x"), "");
  EXPECT_EQ(error_of(""), "not a cache entry");
  EXPECT_EQ(error_of("not cbor, not an entry at all"), "not a cache entry");
  // The CBOR map of the first layout (its entries were CBOR documents) is not this one.
  const std::vector<uint8_t> v1 = ojson::to_cbor(ojson{{"format", 1}, {"settings", "x"}});
  EXPECT_EQ(error_of(std::string(v1.begin(), v1.end())), "not a cache entry");
  EXPECT_NE(error_of(good.substr(0, good.size() - 1)).find("checksum"), std::string::npos);
}

TEST(CacheEntry, AnotherLayoutIsNamed) {
  std::string other = encode_entry(ojson{{"k", 1}}, {});
  set_u32(other, 8, 3);
  EXPECT_EQ(error_of(other), "an entry of layout 3, not 2");
}

TEST(CacheEntry, BlobLengthsThatDoNotAddUpAreErrors) {
  // The checksum matches: the lengths themselves are checked against the bytes there are.
  EXPECT_EQ(
      error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"html", 10})})}}, "0123456789")),
      "");
  EXPECT_EQ(
      error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"html", 11})})}}, "0123456789")),
      "a blob runs past the end");
  EXPECT_EQ(error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"html", UINT64_MAX})})}},
                            "0123456789")),
            "a blob runs past the end");
  EXPECT_EQ(
      error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"html", 9})})}}, "0123456789")),
      "bytes after the last blob");
  EXPECT_EQ(error_of(forged(ojson{{"no blobs", 1}}, "")), "its meta is not a map with its blobs");
  EXPECT_EQ(error_of(forged(ojson::array({1, 2}), "")), "its meta is not a map with its blobs");
  // A malformed blob list (a name that is not a string, a length that is not a number).
  EXPECT_NE(error_of(forged(ojson{{"blobs", ojson::array({ojson::array({1, 1})})}}, "x")), "");
  EXPECT_NE(error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"x", "1"})})}}, "x")), "");
  EXPECT_NE(error_of(forged(ojson{{"blobs", ojson::array({ojson::array({"x"})})}}, "x")), "");
  // A meta length past the end of the file.
  std::string bad = encode_entry(ojson{{"k", 1}}, {});
  set_u32(bad, 12, 0xffffffffu);
  EXPECT_EQ(error_of(bad), "truncated");
}
