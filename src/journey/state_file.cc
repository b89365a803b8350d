// state.bin: the journey engine's persisted states. Byte layout: docs/format/journey-state.md.
#include <chrono>
#include <cstring>
#include <thread>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/logging.h"
#include "journey/engine.h"

namespace cairn::journey {

namespace {
constexpr char kMagic[8] = {'C', 'R', 'N', 'J', 'S', 'T', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 4 + 8 + 8;  // magic, version, state size, fingerprint, applied_seq, count
}  // namespace

std::string JourneyEngine::EncodeStateFile(uint32_t fingerprint, uint64_t applied_seq,
                                           const std::vector<std::pair<const CustomerState*, const History*>>& states) {
  // Sized exactly (varints at their widest) so the buffer — tens of MB with millions of
  // customers — is allocated once, not regrown and copied while the engine lock is held.
  size_t bound = kHeaderSize + 4;
  for (const auto& [s, h] : states)
    bound += sizeof(CustomerState) + 2 * 10 + h->transitions.size() * (10 + 10 + 3) + h->emotion.size() * (10 + 4 + 10);
  std::string out;
  out.reserve(bound);
  out.append(kMagic, 8);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, sizeof(CustomerState));
  PutFixed32(&out, fingerprint);
  PutFixed64(&out, applied_seq);
  PutFixed64(&out, states.size());
  for (const auto& [s, h] : states) {
    out.append(reinterpret_cast<const char*>(s), sizeof(CustomerState));
    PutVarint64(&out, h->transitions.size());
    for (const Transition& t : h->transitions) {
      PutVarsint64(&out, t.at_ms);
      PutVarint64(&out, t.seq);
      out.push_back(static_cast<char>(t.view));
      out.push_back(static_cast<char>(t.from));
      out.push_back(static_cast<char>(t.to));
    }
    PutVarint64(&out, h->emotion.size());
    for (const EmotionPoint& p : h->emotion) {
      PutVarsint64(&out, p.at_ms);
      char f[4];
      std::memcpy(f, &p.score, 4);
      out.append(f, 4);
      PutVarsint64(&out, p.cause);
    }
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

Result<JourneyEngine::Loaded> JourneyEngine::DecodeStateFile(std::string_view data) {
  if (data.size() < kHeaderSize + 4) return Corruption("journey state.bin: shorter than its header");
  if (std::memcmp(data.data(), kMagic, 8) != 0) return Corruption("journey state.bin: bad magic");
  uint32_t stored = crc32c::Unmask(DecodeFixed32(data.data() + data.size() - 4));
  if (stored != crc32c::Value(data.data(), data.size() - 4)) return Corruption("journey state.bin: checksum mismatch");
  const char* p = data.data() + 8;
  if (DecodeFixed32(p) != kVersion) return Corruption("journey state.bin: unsupported version " + std::to_string(DecodeFixed32(p)));
  if (DecodeFixed32(p + 4) != sizeof(CustomerState))
    return Corruption("journey state.bin: state size " + std::to_string(DecodeFixed32(p + 4)) + " (this build: " +
                      std::to_string(sizeof(CustomerState)) + ")");
  Loaded l;
  l.fingerprint = DecodeFixed32(p + 8);
  l.applied_seq = DecodeFixed64(p + 12);
  uint64_t n = DecodeFixed64(p + 20);
  p = data.data() + kHeaderSize;
  const char* limit = data.data() + data.size() - 4;
  if (n > static_cast<uint64_t>(limit - p) / sizeof(CustomerState)) return Corruption("journey state.bin: customer count too large");
  l.states.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    auto bad = [&](const char* what) { return Corruption("journey state.bin: record " + std::to_string(i) + ": " + what); };
    if (static_cast<size_t>(limit - p) < sizeof(CustomerState)) return bad("truncated state");
    std::pair<CustomerState, History> e;
    std::memcpy(static_cast<void*>(&e.first), p, sizeof(CustomerState));
    p += sizeof(CustomerState);
    for (int v = 0; v < kViewCount; ++v)
      if (e.first.stage[v] >= kMaxStages) return bad("stage out of range");
    uint64_t nt = 0;
    if (!GetVarint64(p, limit, &nt) || nt > static_cast<uint64_t>(limit - p)) return bad("transition count");
    e.second.transitions.resize(nt);
    for (Transition& t : e.second.transitions) {
      if (!GetVarsint64(p, limit, &t.at_ms) || !GetVarint64(p, limit, &t.seq) || limit - p < 3) return bad("transition");
      t.view = static_cast<uint8_t>(p[0]);
      t.from = static_cast<uint8_t>(p[1]);
      t.to = static_cast<uint8_t>(p[2]);
      p += 3;
      if (t.view >= kViewCount || t.from >= kMaxStages || t.to >= kMaxStages) return bad("transition out of range");
    }
    uint64_t ne = 0;
    if (!GetVarint64(p, limit, &ne) || ne > static_cast<uint64_t>(limit - p)) return bad("emotion point count");
    e.second.emotion.resize(ne);
    for (EmotionPoint& ep : e.second.emotion) {
      int64_t cause = 0;
      if (!GetVarsint64(p, limit, &ep.at_ms) || limit - p < 4) return bad("emotion point");
      std::memcpy(&ep.score, p, 4);
      p += 4;
      if (!GetVarsint64(p, limit, &cause)) return bad("emotion point cause");
      ep.cause = static_cast<int16_t>(cause);
    }
    l.states.push_back(std::move(e));
  }
  if (p != limit) return Corruption("journey state.bin: trailing bytes after the last record");
  return l;
}

Status JourneyEngine::LoadState() {
  std::string path = io::JoinPath(options_.dir, "state.bin");
  if (!options_.env->FileExists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string data, io::ReadFileToString(options_.env, path));
  ASSIGN_OR_RETURN(Loaded l, DecodeStateFile(data));
  if (l.fingerprint != deriver_->map().fingerprint()) {
    LOG_INFO("journey: state.bin was derived with another journey map; re-deriving");
    return Status::Ok();
  }
  const JourneyMap& m = deriver_->map();
  for (auto& [s, h] : l.states) {
    for (int v = 0; v < kViewCount; ++v)
      if (s.stage[v] >= m.view(static_cast<View>(v)).stages.size()) return Corruption("journey state.bin: stage beyond the map");
    Entry& e = states_[s.customer];
    e.s = s;
    e.h = std::move(h);
  }
  ReindexLocked();
  applied_seq_ = persisted_seq_ = l.applied_seq;
  generation_ = persisted_generation_ = 0;
  LOG_INFO("journey: loaded {} customer states up to seq {}", states_.size(), applied_seq_);
  return Status::Ok();
}

Status JourneyEngine::Persist() {
  if (options_.dir.empty()) return Status::Ok();
  std::string data;
  uint64_t seq, gen;
  {
    std::lock_guard lock(mu_);
    // The file must hold every state exactly as of `seq` (recovery replays from there), which
    // does not hold while re-derivations are pending: try again next time.
    if (generation_ == persisted_generation_ || !pending_.empty() || rebuilding_) return Status::Ok();
    seq = applied_seq_;
    gen = generation_;
    std::vector<std::pair<const CustomerState*, const History*>> v;
    v.reserve(states_.size());
    for (const auto& [id, e] : states_) v.emplace_back(&e.s, &e.h);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first->customer < b.first->customer; });
    data = EncodeStateFile(deriver_->map().fingerprint(), seq, v);
  }
  RETURN_IF_ERROR(io::WriteFileAtomic(options_.env, data, io::JoinPath(options_.dir, "state.bin")));
  std::lock_guard lock(mu_);
  persisted_seq_ = std::max(persisted_seq_, seq);
  persisted_generation_ = std::max(persisted_generation_, gen);
  return Status::Ok();
}

Status JourneyEngine::EraseCustomers(const std::vector<store::CustomerId>& ids, int64_t timeout_ms) {
  uint64_t gen;
  {
    std::lock_guard lock(mu_);
    for (store::CustomerId id : ids) {
      states_.erase(id);
      segments_.Erase(id);
      pending_.erase(id);
      pending_live_seq_.erase(id);
      touched_while_rebuilding_.erase(id);
    }
    RebuildTimersLocked();
    gen = ++generation_;
  }
  // Persist() writes only with nothing pending (the file must be exact as of its seq).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    Drain(std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()).count()));
    RETURN_IF_ERROR(Persist());
    {
      std::lock_guard lock(mu_);
      bool back = false;  // a re-derivation queued before the erasure may have recreated one
      for (store::CustomerId id : ids) {
        back |= states_.erase(id) > 0;
        segments_.Erase(id);
      }
      if (back) {
        RebuildTimersLocked();
        gen = ++generation_;
      } else if (persisted_generation_ >= gen) {
        return Status::Ok();
      }
    }
    if (std::chrono::steady_clock::now() > deadline)
      return Unavailable("journey: state.bin not rewritten yet (re-derivations pending); retry");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace cairn::journey
