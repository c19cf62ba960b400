#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>  // tests only: pipeline/ writes its JSON by hand
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/json_text.h"
#include "pipeline/latency_recorder.h"
#include "pipeline/latency_report.h"

namespace spikevid {
namespace {

constexpr std::int64_t kMs = 1'000'000;  // ns

// The summary's percentiles come from log histograms: within 1 % (0.5 % by
// design) of numpy's; counts, means, maxima and frames per second are exact.
Approx Within1(double v) { return Approx(v).epsilon(0.01); }

TEST_CASE("percentile interpolates linearly between closest ranks, as numpy", "[recorder]") {
  const std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // np.percentile(range(1, 11), [0, 50, 90, 99, 99.9, 100])
  CHECK(percentile(ten, 0.0) == Approx(1.0));
  CHECK(percentile(ten, 0.5) == Approx(5.5));
  CHECK(percentile(ten, 0.9) == Approx(9.1));
  CHECK(percentile(ten, 0.99) == Approx(9.91));
  CHECK(percentile(ten, 0.999) == Approx(9.991));
  CHECK(percentile(ten, 1.0) == Approx(10.0));
  const std::vector<double> five = {15, 20, 35, 40, 50};
  CHECK(percentile(five, 0.4) == Approx(29.0));   // h = 1.6: 20 + 0.6 * 15
  CHECK(percentile(five, 0.05) == Approx(16.0));  // h = 0.2: 15 + 0.2 * 5
  CHECK(percentile({7}, 0.99) == Approx(7.0));
  CHECK_THROWS_AS(percentile({}, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(percentile(ten, 1.5), std::invalid_argument);
}

TEST_CASE("compute_latency_stats sorts and summarizes", "[recorder]") {
  const LatencyStats s = compute_latency_stats({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
  CHECK(s.count == 10);
  CHECK(s.p50_ms == Approx(5.5));
  CHECK(s.p90_ms == Approx(9.1));
  CHECK(s.max_ms == Approx(10.0));
  CHECK(s.mean_ms == Approx(5.5));
  CHECK(compute_latency_stats({}).count == 0);
}

// Three stages, kWarmup warm-up frames then ten frames 10 ms apart. After
// warm-up, frame k spends k + 1 ms in "work" and the sink always leaves 22.5 ms
// after capture; the warm-up frames spend 1000 ms in "work".
constexpr std::size_t kWarmup = 3;
constexpr std::size_t kFrames = kWarmup + 10;

LatencyRecorder recorded(std::size_t warmup) {
  LatencyRecorder recorder({"capture", "work", "sink"}, warmup);
  for (std::size_t i = 0; i < kFrames; ++i) {
    const bool warm = i >= kWarmup;
    const std::int64_t base = static_cast<std::int64_t>(i) * 10 * kMs;
    const std::int64_t work = warm ? static_cast<std::int64_t>(i - kWarmup + 1) * kMs : 1000 * kMs;
    FrameMeta m;
    m.seq = i;
    m.enter_ns[0] = base - kMs;
    m.leave_ns[0] = base;
    m.capture_ns = base;
    m.enter_ns[1] = base + 2 * kMs;
    m.leave_ns[1] = m.enter_ns[1] + work;
    m.enter_ns[2] = warm ? base + 22 * kMs : m.leave_ns[1] + kMs;
    m.leave_ns[2] = m.enter_ns[2] + kMs / 2;
    recorder.record(m);
  }
  ChannelStats edge;
  edge.capacity = 1;
  edge.overflow = Overflow::keep_latest;
  edge.pushed = 20;
  edge.popped = 13;
  edge.dropped = 7;
  edge.high_water = 1;
  recorder.set_edges({{"capture->work", edge}, {"work->sink", ChannelStats{}}});
  return recorder;
}

TEST_CASE("the summary leaves out warm-up and matches hand-computed numbers", "[recorder]") {
  const LatencySummary s = recorded(kWarmup).summary();
  CHECK(s.frames == 10);
  CHECK(s.warmup_frames == kWarmup);
  CHECK(s.fps == Approx(100.0));  // 9 intervals of 10 ms
  REQUIRE(s.stages.size() == 3);
  CHECK(s.stages[0].name == "capture");
  CHECK(s.stages[0].service.p50_ms == Within1(1.0));
  CHECK(s.stages[0].queue_wait.count == 0);
  const LatencyStats& work = s.stages[1].service;  // 1..10 ms
  CHECK(work.count == 10);
  CHECK(work.p50_ms == Within1(5.5));
  CHECK(work.p90_ms == Within1(9.1));
  CHECK(work.p99_ms == Within1(9.91));
  CHECK(work.p999_ms == Within1(9.991));
  CHECK(work.max_ms == Approx(10.0));
  CHECK(work.mean_ms == Approx(5.5));
  CHECK(s.stages[1].queue_wait.max_ms == Approx(2.0));
  const LatencyStats& sink_wait = s.stages[2].queue_wait;  // 20 - (1..10) ms
  CHECK(sink_wait.p50_ms == Within1(14.5));
  CHECK(sink_wait.p90_ms == Within1(18.1));
  CHECK(sink_wait.max_ms == Approx(19.0));
  CHECK(s.end_to_end.p50_ms == Within1(22.5));
  CHECK(s.end_to_end.max_ms == Approx(22.5));
  REQUIRE(s.edges.size() == 2);
  CHECK(s.edges[0].stats.dropped == 7);
}

TEST_CASE("without warm-up every frame counts", "[recorder]") {
  const LatencySummary s = recorded(0).summary();
  CHECK(s.frames == kFrames);
  CHECK(s.stages[1].service.max_ms == Approx(1000.0));
  CHECK(recorded(100).summary().frames == 0);
}

TEST_CASE("the trace is JSON with one named slice per frame and stage", "[recorder]") {
  std::ostringstream text;
  recorded(kWarmup).write_trace(text);
  const nlohmann::json trace = nlohmann::json::parse(text.str());
  const nlohmann::json& events = trace.at("traceEvents");
  std::map<std::string, int> slices;
  std::map<std::string, int> tid_of;
  std::map<int, std::string> track_name;
  for (const nlohmann::json& e : events) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") {
      track_name[e.at("tid").get<int>()] = e.at("args").at("name").get<std::string>();
    }
    if (e.at("ph") != "X") continue;
    const std::string name = e.at("name").get<std::string>();
    ++slices[name];
    tid_of[name] = e.at("tid").get<int>();
    if (name == "work" && e.at("args").at("seq") == kWarmup) {
      CHECK(e.at("ts").get<double>() == Approx(33000.0));  // 32 ms after the origin at -1 ms
      CHECK(e.at("dur").get<double>() == Approx(1000.0));
    }
  }
  CHECK(slices == std::map<std::string, int>{{"capture", 13}, {"work", 13}, {"sink", 13}});
  for (const auto& [name, tid] : tid_of) CHECK(track_name[tid] == name);
  CHECK(tid_of.size() == 3);
}

TEST_CASE("the JSON summary parses and holds the numbers", "[recorder]") {
  std::ostringstream text;
  write_json(text, recorded(kWarmup).summary());
  const nlohmann::json j = nlohmann::json::parse(text.str());
  CHECK(j.at("frames") == 10);
  CHECK(j.at("fps").get<double>() == Approx(100.0));
  CHECK(j.at("end_to_end").at("p99_ms").get<double>() == Within1(22.5));
  CHECK(j.at("stages").at(1).at("name") == "work");
  CHECK(j.at("stages").at(1).at("service").at("p90_ms").get<double>() == Within1(9.1));
  CHECK(j.at("edges").at(0).at("overflow") == "keep_latest");
  CHECK(j.at("edges").at(0).at("dropped") == 7);
}

TEST_CASE("the CSV has one row per stage measure and per edge", "[recorder]") {
  std::ostringstream text;
  write_csv(text, recorded(kWarmup).summary());
  std::istringstream lines(text.str());
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    rows.push_back(fields);
  }
  // header, capture service, work wait + service, sink wait + service, end to end, 2 edges
  REQUIRE(rows.size() == 9);
  for (const auto& row : rows) CHECK(row.size() == 13);
  CHECK(rows[3][0] == "service");
  CHECK(rows[3][1] == "work");
  CHECK(std::stod(rows[3][3]) == Within1(5.5));
  CHECK(rows[7][0] == "edge");
  CHECK(rows[7][11] == "7");
}

TEST_CASE("JSON strings are escaped and numbers are valid JSON", "[recorder]") {
  const std::string name = "a \"quoted\" \\ name\nwith\ttabs \x01 and \xc3\xa9";
  const nlohmann::json parsed = nlohmann::json::parse(json_string(name));
  CHECK(parsed.get<std::string>() == name);
  CHECK(json_number(0.5) == "0.5");
  CHECK(json_number(std::numeric_limits<double>::infinity()) == "null");
  CHECK(nlohmann::json::parse(json_number(1e-7)).get<double>() == Approx(1e-7));
}

TEST_CASE("log histogram: percentiles within 1 % of numpy's on a wide spread", "[recorder]") {
  // 10,000 samples from 0.01 ms to 10 s, log-uniform, and their exact percentiles.
  LogHistogram h;
  std::vector<double> ms;
  std::uint64_t x = 12345;
  for (int i = 0; i < 10000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(x >> 11) / 9007199254740992.0;
    const double v = std::pow(10.0, -2 + 6 * u);  // ms
    ms.push_back(v);
    h.add(static_cast<std::int64_t>(v * 1e6));
  }
  const LatencyStats exact = compute_latency_stats(ms), s = h.stats();
  CHECK(s.count == 10000);
  CHECK(s.p50_ms == Within1(exact.p50_ms));
  CHECK(s.p90_ms == Within1(exact.p90_ms));
  CHECK(s.p99_ms == Within1(exact.p99_ms));
  CHECK(s.p999_ms == Within1(exact.p999_ms));
  CHECK(s.max_ms == Approx(exact.max_ms).epsilon(1e-9));
  CHECK(s.mean_ms == Approx(exact.mean_ms).epsilon(1e-6));
  CHECK(h.quantile_ms(0) == Approx(*std::min_element(ms.begin(), ms.end())).epsilon(1e-4));
  CHECK_THROWS_AS(LogHistogram().quantile_ms(0.5), std::invalid_argument);
  CHECK_THROWS_AS(h.quantile_ms(1.5), std::invalid_argument);
}

TEST_CASE("a long run keeps constant memory: the trace holds its first and last frames",
          "[recorder]") {
  LatencyRecorder recorder({"capture", "sink"}, 0);
  const std::size_t n = 5 * LatencyRecorder::kTraceFrames + 17;
  for (std::size_t i = 0; i < n; ++i) {
    FrameMeta m;
    m.seq = i;
    m.enter_ns[0] = static_cast<std::int64_t>(i) * kMs;
    m.leave_ns[0] = m.capture_ns = m.enter_ns[0] + kMs;
    m.enter_ns[1] = m.leave_ns[0];
    m.leave_ns[1] = m.enter_ns[1] + 2 * kMs;
    recorder.record(m);
  }
  CHECK(recorder.summary().frames == n);
  CHECK(recorder.summary().end_to_end.max_ms == Approx(2.0));
  std::ostringstream text;
  recorder.write_trace(text);
  std::vector<std::uint64_t> seqs;
  const auto trace = nlohmann::json::parse(text.str());
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "X" && e.at("name") == "sink") seqs.push_back(e.at("args").at("seq"));
  REQUIRE(seqs.size() == 2 * LatencyRecorder::kTraceFrames);
  CHECK(seqs.front() == 0);
  CHECK(seqs[LatencyRecorder::kTraceFrames - 1] == LatencyRecorder::kTraceFrames - 1);
  CHECK(seqs[LatencyRecorder::kTraceFrames] == n - LatencyRecorder::kTraceFrames);
  CHECK(seqs.back() == n - 1);
  CHECK(std::is_sorted(seqs.begin(), seqs.end()));
}

TEST_CASE("a recorder needs 1 to kMaxStages stage names", "[recorder]") {
  CHECK_THROWS_AS(LatencyRecorder({}, 0), std::invalid_argument);
  CHECK_THROWS_AS(LatencyRecorder(std::vector<std::string>(kMaxStages + 1, "s"), 0),
                  std::invalid_argument);
}

}  // namespace
}  // namespace spikevid
