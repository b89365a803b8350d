#include "value/online_retail.h"

#include <zlib.h>

#include <chrono>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

namespace cairn::value {
namespace {

// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

bool ParseDouble(const std::string& s, double* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// "YYYY-MM-DD ..." → days since 1970-01-01.
bool ParseDay(const std::string& s, int64_t* day) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (s.size() < 10 || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return false;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return false;
  *day = std::chrono::sys_days(ymd).time_since_epoch().count();
  return true;
}

bool IsProductCode(const std::string& code) {
  if (code.size() < 5) return false;
  for (size_t i = 0; i < 5; ++i)
    if (code[i] < '0' || code[i] > '9') return false;
  return true;
}

}  // namespace

Result<OnlineRetailData> ReadOnlineRetail(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently too
  if (!f) return NotFound("online retail: cannot open " + path);
  OnlineRetailData out;
  std::string line;
  char buf[1 << 16];
  int64_t line_no = 0;
  Status status = Status::Ok();
  auto handle = [&](const std::string& l) -> Status {
    ++line_no;
    if (line_no == 1) {
      if (l.rfind("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID", 0) != 0)
        return InvalidArgument("online retail: line 1: unexpected header");
      return Status::Ok();
    }
    if (l.empty()) return Status::Ok();
    auto f = SplitCsv(l);
    if (f.size() != 8) return InvalidArgument(fmt::format("online retail: line {}: {} fields, 8 expected", line_no, f.size()));
    ++out.rows;
    double qty = 0, price = 0, cust = 0;
    int64_t day = 0;
    if (!ParseDouble(f[3], &qty)) return InvalidArgument(fmt::format("online retail: line {}: Quantity '{}'", line_no, f[3]));
    if (!ParseDouble(f[5], &price)) return InvalidArgument(fmt::format("online retail: line {}: UnitPrice '{}'", line_no, f[5]));
    if (!ParseDay(f[4], &day)) return InvalidArgument(fmt::format("online retail: line {}: InvoiceDate '{}'", line_no, f[4]));
    if (f[6].empty()) return ++out.dropped_no_customer, Status::Ok();
    if (!ParseDouble(f[6], &cust)) return InvalidArgument(fmt::format("online retail: line {}: CustomerID '{}'", line_no, f[6]));
    if ((!f[0].empty() && f[0][0] == 'C') || qty <= 0) return ++out.dropped_cancelled, Status::Ok();
    if (price <= 0) return ++out.dropped_price, Status::Ok();
    if (!IsProductCode(f[1])) return ++out.dropped_non_product, Status::Ok();
    out.names.try_emplace(f[1], f[2]);
    out.lines.push_back({static_cast<uint64_t>(cust), f[1], day});
    return Status::Ok();
  };
  int n = 0;
  while (status.ok() && (n = gzread(f, buf, sizeof buf)) > 0) {
    for (int i = 0; i < n && status.ok(); ++i) {
      if (buf[i] == '\n') {
        status = handle(line);
        line.clear();
      } else {
        line += buf[i];
      }
    }
  }
  if (status.ok() && n < 0) status = Corruption("online retail: " + path + ": gzip stream is corrupt");
  if (status.ok() && !line.empty()) status = handle(line);
  gzclose(f);
  RETURN_IF_ERROR(status);
  return out;
}

Result<HoldoutResult> EvaluateOffersOnHoldout(const std::vector<ItemPurchase>& purchases, int64_t split_day,
                                              int64_t end_day, size_t k, const OfferOptions& options) {
  if (k == 0) return InvalidArgument("holdout evaluation: k must be ≥ 1");
  std::vector<ItemPurchase> train;
  std::map<uint64_t, std::set<std::string>> owned, later;
  for (const auto& p : purchases) {
    if (p.day < split_day) {
      train.push_back(p);
      owned[p.customer].insert(p.item);
    } else if (p.day <= end_day) {
      later[p.customer].insert(p.item);
    }
  }
  HoldoutResult r;
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto model, OfferModel::Build(train, options));
  r.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.rules = model.rules();
  double hits = 0, prec = 0, bhits = 0, bprec = 0;
  for (const auto& [customer, items] : owned) {
    auto it = later.find(customer);
    if (it == later.end()) continue;
    std::unordered_set<std::string> fresh;
    for (const auto& item : it->second)
      if (!items.count(item)) fresh.insert(item);
    if (fresh.empty()) continue;
    ++r.customers;
    const std::vector<std::string> have(items.begin(), items.end());
    int found = 0;
    for (const auto& o : model.Recommend(have, k)) found += fresh.count(o.item) ? 1 : 0;
    hits += found > 0;
    prec += found / static_cast<double>(k);
    int bfound = 0;
    for (const auto& item : model.Popular(have, k)) bfound += fresh.count(item) ? 1 : 0;
    bhits += bfound > 0;
    bprec += bfound / static_cast<double>(k);
  }
  if (r.customers == 0) return FailedPrecondition("holdout evaluation: no customer bought in both periods");
  const double n = static_cast<double>(r.customers);
  r.hit_rate = hits / n;
  r.precision = prec / n;
  r.baseline_hit_rate = bhits / n;
  r.baseline_precision = bprec / n;
  return r;
}

}  // namespace cairn::value
