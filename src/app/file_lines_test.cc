// FileLines: `cairn import`'s reader of plain and gzip JSON Lines files. The gzip side is checked
// against zlib's own output (single and multiple members, a member boundary inside a line, a
// member's magic split across the reader's 1 MiB blocks) and against damaged files: each is refused
// with a message naming what is wrong, and never yields a partial line.

#include "app/file_lines.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "testutil/gzip.h"
#include "testutil/temp_dir.h"

namespace cairn::app {
namespace {

using testutil::Gzip;

std::string Write(const testutil::TempDir& tmp, const std::string& name, const std::string& bytes) {
  const std::string path = tmp.Sub(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

struct ReadAll {
  std::vector<std::string> lines;
  Status status;
  bool gzip = false;
  double fraction = 0;
};

ReadAll Read(const std::string& path) {
  ReadAll r;
  auto f = FileLines::Open(path);
  if (!f.ok()) {
    r.status = f.status();
    return r;
  }
  std::string line;
  while ((*f)->Next(&line)) r.lines.push_back(line);
  r.status = (*f)->status();
  r.gzip = (*f)->gzip();
  r.fraction = (*f)->Fraction();
  return r;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::vector<std::string> SomeLines(int n, size_t width = 100) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    std::string l = "{\"i\":" + std::to_string(i) + ",\"pad\":\"";
    l.append(width - l.size() % width, static_cast<char>('a' + i % 26));
    v.push_back(l + "\"}");
  }
  return v;
}

TEST(FileLinesTest, PlainLinesWithAndWithoutTheLastNewline) {
  testutil::TempDir tmp;
  auto r = Read(Write(tmp, "a.jsonl", "one\ntwo\r\n\nthree"));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.gzip);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"one", "two\r", "", "three"}));
  EXPECT_DOUBLE_EQ(r.fraction, 1.0);

  auto empty = Read(Write(tmp, "empty.jsonl", ""));
  ASSERT_TRUE(empty.status.ok());
  EXPECT_TRUE(empty.lines.empty());
}

TEST(FileLinesTest, LinesLongerThanTheBlockAndAcrossBlocks) {
  testutil::TempDir tmp;
  auto lines = SomeLines(30000, 97);           // ~3 MiB: lines cross the 1 MiB block edges
  lines.insert(lines.begin() + 7, std::string(3 << 20, 'x'));  // one line of 3 MiB
  const std::string text = Join(lines);
  auto plain = Read(Write(tmp, "p.jsonl", text));
  ASSERT_TRUE(plain.status.ok()) << plain.status.ToString();
  EXPECT_EQ(plain.lines, lines);
  auto gz = Read(Write(tmp, "p.jsonl.gz", Gzip(text)));
  ASSERT_TRUE(gz.status.ok()) << gz.status.ToString();
  EXPECT_TRUE(gz.gzip);
  EXPECT_EQ(gz.lines, lines);
  EXPECT_DOUBLE_EQ(gz.fraction, 1.0);
}

TEST(FileLinesTest, GzipIsToldByItsMagicNotByTheName) {
  testutil::TempDir tmp;
  auto r = Read(Write(tmp, "named-plain.jsonl", Gzip("a\nb\n")));
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.gzip);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"a", "b"}));
}

TEST(FileLinesTest, SeveralMembersOneAfterAnotherEvenInsideALine) {
  testutil::TempDir tmp;
  const auto lines = SomeLines(5000);
  const std::string text = Join(lines);
  // Cut the text inside a line: the first member ends mid-line, the second finishes it.
  const size_t cut = text.size() / 3 + 17;
  ASSERT_NE(text[cut - 1], '\n');
  const std::string two = Gzip(text.substr(0, cut)) + Gzip(text.substr(cut), 1);
  auto r = Read(Write(tmp, "two.gz", two));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.lines, lines);
  // An empty member is a member too.
  auto e = Read(Write(tmp, "empty-member.gz", Gzip("") + Gzip("x\n")));
  ASSERT_TRUE(e.status.ok()) << e.status.ToString();
  EXPECT_EQ(e.lines, (std::vector<std::string>{"x"}));
}

// The second member's magic bytes 1f 8b fall on both sides of the reader's 1 MiB block: the first
// member is stored (level 0), so its size can be steered to exactly 1 MiB - 1 bytes.
TEST(FileLinesTest, AMembersMagicSplitAcrossBlocks) {
  testutil::TempDir tmp;
  constexpr size_t kBlock = 1 << 20;
  std::string first;
  size_t raw = kBlock - 200;
  for (int i = 0; i < 50; ++i) {
    std::string text(raw, 'y');
    text.back() = '\n';
    first = Gzip(text, 0);
    if (first.size() == kBlock - 1) break;
    raw += (kBlock - 1) - first.size();
  }
  ASSERT_EQ(first.size(), kBlock - 1);
  auto r = Read(Write(tmp, "split.gz", first + Gzip("after\n")));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0].size(), raw - 1);
  EXPECT_EQ(r.lines[1], "after");
}

// Every cut of a two-member file that does not fall on the member boundary or the end is refused
// as truncated, and every line read before the refusal is one of the file's lines, whole.
TEST(FileLinesTest, EveryTruncationIsRefusedWithoutAPartialLine) {
  testutil::TempDir tmp;
  const auto lines = SomeLines(40, 20);
  const std::string m1 = Gzip(Join({lines.begin(), lines.begin() + 25}));
  const std::string m2 = Gzip(Join({lines.begin() + 25, lines.end()}));
  const std::string whole = m1 + m2;
  for (size_t len = 2; len < whole.size(); ++len) {  // one byte is not gzip's magic: a plain file
    auto r = Read(Write(tmp, "t.gz", whole.substr(0, len)));
    ASSERT_LE(r.lines.size(), lines.size());
    for (size_t i = 0; i < r.lines.size(); ++i) ASSERT_EQ(r.lines[i], lines[i]) << "cut at " << len;
    if (len == m1.size()) {
      EXPECT_TRUE(r.status.ok()) << "a cut on the member boundary is a whole file";
      EXPECT_EQ(r.lines.size(), 25u);
      continue;
    }
    ASSERT_FALSE(r.status.ok()) << "cut at " << len << " of " << whole.size();
    EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
    EXPECT_NE(r.status.message().find("t.gz"), std::string_view::npos) << r.status.ToString();
    if (len != m1.size() + 1) {  // one byte of a member's magic is not a member at all
      EXPECT_NE(r.status.message().find("truncated"), std::string_view::npos) << len << ": " << r.status.ToString();
    }
  }
}

TEST(FileLinesTest, ADamagedTrailerOrTrailingGarbageIsRefused) {
  testutil::TempDir tmp;
  const std::string text = Join(SomeLines(100));
  std::string gz = Gzip(text);
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x01;  // the CRC-32 in the trailer
  auto r = Read(Write(tmp, "crc.gz", bad_crc));
  EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
  EXPECT_NE(r.status.message().find("CRC32"), std::string_view::npos) << r.status.ToString();

  auto g = Read(Write(tmp, "garbage.gz", gz + "not gzip\n"));
  EXPECT_EQ(g.status.code(), Code::kInvalidArgument);
  EXPECT_NE(g.status.message().find("not another member"), std::string_view::npos) << g.status.ToString();
  EXPECT_EQ(g.lines.size(), 100u) << "the member before the garbage is read whole";

  std::string bad_data = gz;
  bad_data[gz.size() / 2] ^= 0x55;
  auto d = Read(Write(tmp, "data.gz", bad_data));
  EXPECT_EQ(d.status.code(), Code::kInvalidArgument) << d.status.ToString();
  EXPECT_NE(d.status.message().find("damaged"), std::string_view::npos) << d.status.ToString();
  EXPECT_NE(d.status.message().find("compressed byte"), std::string_view::npos) << d.status.ToString();
}

TEST(FileLinesTest, AMissingFileIsNotFoundNamingIt) {
  testutil::TempDir tmp;
  auto r = Read(tmp.Sub("nope.jsonl"));
  EXPECT_EQ(r.status.code(), Code::kNotFound);
  EXPECT_NE(r.status.message().find("nope.jsonl"), std::string_view::npos);
}

}  // namespace
}  // namespace cairn::app
