#pragma once
// Reader for the CDNOW transaction files of Fader & Hardie (../shared/data/cdnow/README.md):
// CDNOW_master.txt (id date cds dollars, optional header), CDNOW_sample.txt (master id, sample id,
// date, cds, dollars) and cdnowElog.csv (masterid,sampleid,date,cds,sales). The layout is detected
// per file from the first data line.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "value/rfm.h"

namespace cairn::value {

struct CdnowRow {
  uint64_t customer = 0;  // the master-file customer id
  int64_t day = 0;        // 1 = 1997-01-01
  int64_t cds = 0;
  double dollars = 0;
};

// Parses a whole file's text. InvalidArgument naming the line and field on malformed input.
Result<std::vector<CdnowRow>> ParseCdnow(std::string_view text);
Result<std::vector<CdnowRow>> ReadCdnowFile(const std::string& path);

// The papers' conventions: weeks, calibration days 1–273 (to 1997-09-30 inclusive), holdout days
// 274–546 (to 1998-06-30).
RfmOptions CdnowRfmOptions();

// Summaries of every customer in the rows, ordered by customer id.
SummaryTable SummarizeCdnow(const std::vector<CdnowRow>& rows, const RfmOptions& options);

}  // namespace cairn::value
