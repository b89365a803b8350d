#include "value/cdnow.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace cairn::value {
namespace {

std::vector<std::string_view> Fields(std::string_view line, bool csv) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    if (csv) {
      size_t j = line.find(',', i);
      if (j == std::string_view::npos) j = line.size();
      out.push_back(line.substr(i, j - i));
      i = j + 1;
      if (j == line.size()) break;
    } else {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) out.push_back(line.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// YYYYMMDD → day number with 1997-01-01 = 1.
bool ParseDay(std::string_view s, int64_t* out_day) {
  int64_t v = 0;
  if (s.size() != 8 || !ParseNumber(s, &v)) return false;
  using namespace std::chrono;
  const year_month_day ymd{year{static_cast<int>(v / 10000)}, month{static_cast<unsigned>(v / 100 % 100)},
                           std::chrono::day{static_cast<unsigned>(v % 100)}};
  if (!ymd.ok()) return false;
  constexpr year_month_day kOrigin{year{1997}, January, std::chrono::day{1}};
  *out_day = (sys_days{ymd} - sys_days{kOrigin}).count() + 1;
  return true;
}

}  // namespace

Result<std::vector<CdnowRow>> ParseCdnow(std::string_view text) {
  std::vector<CdnowRow> rows;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool csv = line.find(',') != std::string_view::npos;
    auto f = Fields(line, csv);
    if (f.empty()) continue;
    // Headers: lifetimes' " customer_id date ..." and BTYD's "masterid,sampleid,...".
    if (line_no == 1 && !f[0].empty() && !std::isdigit(static_cast<unsigned char>(f[0][0]))) continue;
    if (f.size() != 4 && f.size() != 5)
      return InvalidArgument(fmt::format("cdnow line {}: expected 4 fields (id date cds dollars) or 5 "
                                         "(master id, sample id, date, cds, dollars), got {}", line_no, f.size()));
    const size_t o = f.size() - 4;  // 5 fields: skip the sample id
    CdnowRow r;
    if (!ParseNumber(f[0], &r.customer) || r.customer == 0)
      return InvalidArgument(fmt::format("cdnow line {}: customer id '{}' is not a positive integer", line_no, f[0]));
    if (!ParseDay(f[1 + o], &r.day))
      return InvalidArgument(fmt::format("cdnow line {}: date '{}' is not a YYYYMMDD date", line_no, f[1 + o]));
    if (!ParseNumber(f[2 + o], &r.cds))
      return InvalidArgument(fmt::format("cdnow line {}: number of CDs '{}' is not an integer", line_no, f[2 + o]));
    if (!ParseNumber(f[3 + o], &r.dollars) || !std::isfinite(r.dollars) || r.dollars < 0)
      return InvalidArgument(fmt::format("cdnow line {}: dollar value '{}' is not a non-negative number", line_no, f[3 + o]));
    rows.push_back(r);
  }
  if (rows.empty()) return InvalidArgument("cdnow: no transactions in the file");
  return rows;
}

Result<std::vector<CdnowRow>> ReadCdnowFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError(fmt::format("cdnow: cannot open '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = ParseCdnow(ss.str());
  if (!rows.ok()) return rows.status().WithContext(path);
  return rows;
}

RfmOptions CdnowRfmOptions() {
  RfmOptions o;
  o.days_per_unit = 7;
  o.calibration_end_day = 273;
  o.holdout_end_day = 546;
  return o;
}

SummaryTable SummarizeCdnow(const std::vector<CdnowRow>& rows, const RfmOptions& options) {
  std::vector<CdnowRow> sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(), [](const CdnowRow& a, const CdnowRow& b) { return a.customer < b.customer; });
  SummaryTable t;
  std::vector<Purchase> purchases;
  for (size_t i = 0; i < sorted.size();) {
    const uint64_t id = sorted[i].customer;
    purchases.clear();
    for (; i < sorted.size() && sorted[i].customer == id; ++i) purchases.push_back({sorted[i].day, sorted[i].dollars});
    if (auto s = Summarize(purchases, options)) {
      t.ids.push_back(id);
      t.rows.push_back(*s);
    }
  }
  return t;
}

}  // namespace cairn::value
