// The recovery-time report on a real store filled with a known series
// (report_series.h): the rules, golden renderings, `history show`,
// `report` and `metrics` as users run them, and the textfile checked by
// promtool.

#include "standby/report/report.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/base/subprocess.h"
#include "standby/report/metrics.h"
#include "standby/report/report_render.h"
#include "tests/report/report_series.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::report {
namespace {

using nlohmann::json;
using sb::testing::kSeriesNow;
using sb::testing::ReadWholeFile;
using sb::testing::TempDir;

// Compares `actual` with tests/report/golden/NAME; SB_UPDATE_GOLDEN=1
// rewrites the file instead (then review the diff).
void Golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(SOURCE_DIR) + "/tests/report/golden/" + name;
  if (const char* update = std::getenv("SB_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    REQUIRE(base::WriteFileAtomically(path, actual, 0644).ok());
    return;
  }
  base::Result<std::string> expected = base::ReadFile(path);
  INFO(path << " (SB_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE(expected.ok());
  CHECK(actual == *expected);
}

// The report of a series at its "now".
Report Build(testing::Series& series) {
  base::Result<Report> r = BuildReport(*series.store, series.config, {}, kSeriesNow);
  INFO((r.ok() ? "" : r.status().message()));
  REQUIRE(r.ok());
  return std::move(*r);
}

const DrillRow& RowOn(const Report& r, const std::string& standby, const std::string& rfc3339) {
  for (const DrillRow& row : r.drills) {
    if (row.d.record.start.standby == standby &&
        Rfc3339(row.d.record.start.at.wall_ms) == rfc3339) {
      return row;
    }
  }
  FAIL("no drill of " << standby << " at " << rfc3339);
  return r.drills.front();
}

const StandbyStatus& StatusOf(const Report& r, const std::string& standby) {
  for (const StandbyStatus& s : r.standbys) {
    if (s.name == standby) return s;
  }
  FAIL("no status of " << standby);
  return r.standbys.front();
}

TEST_CASE("report: compliance, rolling medians and regressions follow the stated rules",
          "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  REQUIRE(r.drills.size() == 22);

  // The RTO runs from power on through smoke: 5 + 120 + 1 + 360 + 120 s.
  const DrillRow& first = RowOn(r, "web1-standby", "2026-06-01T03:00:00Z");
  CHECK(first.d.record.outcome.rto_ms == 606'000);
  CHECK(first.phase_ms.at("restore") == 360'000);
  CHECK(first.rto.compliance == Compliance::kMet);
  CHECK(first.regression.empty());
  CHECK_FALSE(first.current_config);

  // 846 s against the median 606 s of the 5 drills before that measured an
  // RTO (failed ones that got past smoke count; the prep counts): 1.40x.
  const DrillRow& aug = RowOn(r, "web1-standby", "2026-08-01T03:00:00Z");
  CHECK(aug.previous_rto_median_ms == 606'000);
  CHECK(aug.regression == "RTO 14m6s is 1.40x the median 10m6s of the 5 drills before");
  CHECK(aug.rto.compliance == Compliance::kMet);

  const DrillRow& sep = RowOn(r, "web1-standby", "2026-09-01T03:00:00Z");
  CHECK(sep.rto.compliance == Compliance::kExceeded);
  CHECK(sep.rto.ratio == Approx(1200.0 / 900.0));
  CHECK(sep.regression.find("RTO 20m is over the target 15m") != std::string::npos);

  const DrillRow& oct = RowOn(r, "web1-standby", "2026-10-01T03:00:00Z");
  CHECK(oct.rto.compliance == Compliance::kSeverelyExceeded);
  CHECK(oct.bytes_restored == 900 << 20);

  // A drill without an RTO is neither a regression nor in the medians.
  const DrillRow& boot = RowOn(r, "web1-standby", "2026-06-21T03:00:00Z");
  CHECK(boot.rto.compliance == Compliance::kNotMeasured);
  CHECK_FALSE(boot.rto_median_ms);
  CHECK(boot.regression.empty());

  const DrillRow& nov = RowOn(r, "web1-standby", "2026-11-01T03:00:00Z");
  CHECK(nov.drift_total == 4);
  CHECK(nov.rpo.compliance == Compliance::kMet);
  CHECK(nov.current_config);
  // The rolling median of the last 6 RTOs: 600 626 846 1200 2100 600.
  CHECK(nov.rto_median_ms == 846'000);
}

TEST_CASE("report: a standby is verified only by a recent pass under today's configuration",
          "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  REQUIRE(r.standbys.size() == 5);

  const StandbyStatus& web = StatusOf(r, "web1-standby");
  CHECK(web.verification == Verification::kVerified);
  CHECK(web.age_ms == (19LL * 24 + 9) * 3'600'000);  // from 2026-11-01T03:00Z
  // Nine drills measured an RTO (failures in compare and shutdown did), two
  // exceeded the target.
  CHECK(web.rto_measured == 9);
  CHECK(web.rto_met == 7);
  CHECK(web.failed == 8);
  CHECK(web.aborted == 1);

  const StandbyStatus& files = StatusOf(r, "files-standby");
  CHECK(files.verification == Verification::kStale);
  CHECK(files.why.find("over verify_within 35d") != std::string::npos);

  const StandbyStatus& db = StatusOf(r, "db-standby");
  CHECK(db.verification == Verification::kStale);
  CHECK(db.why.find("the configuration changed after drill") != std::string::npos);
  CHECK(db.why.find("over verify_within") == std::string::npos);

  const StandbyStatus& fresh = StatusOf(r, "new-standby");
  CHECK(fresh.verification == Verification::kNever);
  CHECK(fresh.why == "no drill recorded");

  const StandbyStatus& gone = StatusOf(r, "old-standby");
  CHECK_FALSE(gone.configured);
  CHECK(gone.verification == Verification::kStale);
}

TEST_CASE("report: golden text, JSON and CSV of the series and of an empty store", "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  Golden("series.txt", RenderText(r));
  Golden("series.json", ReportJson(r).dump(2) + "\n");
  Golden("series.csv", RenderCsv(r));
  Golden("series.html", RenderHtml(r));

  ReportQuery since;
  since.standby = "web1-standby";
  since.since_wall_ms = kSeriesNow - 60LL * 86'400'000;
  base::Result<Report> recent = BuildReport(*series.store, series.config, since, kSeriesNow);
  REQUIRE(recent.ok());
  CHECK(recent->drills.size() == 2);  // October and November
  // The trend still sees the drills before the period.
  CHECK(recent->drills.front().previous_rto_median_ms);
  Golden("series-web1-since.txt", RenderText(*recent));

  TempDir empty_dir;
  testing::Series empty = testing::MakeEmptySeries(empty_dir);
  base::Result<Report> none = BuildReport(*empty.store, empty.config, {}, kSeriesNow);
  REQUIRE(none.ok());
  Golden("empty.txt", RenderText(*none));
  Golden("empty.json", ReportJson(*none).dump(2) + "\n");
  Golden("empty.csv", RenderCsv(*none));
  Golden("empty.html", RenderHtml(*none));
}

TEST_CASE("report: the CSV has one header and one row per drill, fields quoted as RFC 4180 says",
          "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  const std::string csv = RenderCsv(r);
  size_t lines = 0;
  bool quoted = false;
  for (char c : csv) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) ++lines;
  }
  CHECK(lines == 1 + r.drills.size());
  // A reason with a comma and quotes: on_slower = "fail".
  CHECK(csv.find(R"csv("home: standby-slower (on_slower = ""fail"")")csv") != std::string::npos);
}

TEST_CASE("report: metrics pass promtool and name each standby once per series", "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  const std::string text = RenderMetrics(r, "0.1.0");
  Golden("series.prom", text);
  base::ProcessSpec spec;
  spec.argv = {"promtool", "check", "metrics"};
  spec.stdin_data = text;
  base::Result<base::ProcessResult> checked = base::RunProcess(spec);
  REQUIRE(checked.ok());
  INFO(checked->out << checked->err);
  CHECK(checked->exit_code == 0);
  CHECK(checked->err.empty());
  CHECK(text.find("standbyctl_verification_stale{standby=\"db-standby\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("standbyctl_verification_stale{standby=\"web1-standby\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("standbyctl_rto_seconds{standby=\"web1-standby\",phase=\"total\"} 600\n") !=
        std::string::npos);
  // Never drilled: no made-up timestamps, but stale.
  CHECK(text.find("last_run_timestamp_seconds{standby=\"new-standby\"}") == std::string::npos);
  CHECK(text.find("standbyctl_verification_stale{standby=\"new-standby\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("report: the README's alert rules pass promtool and name metrics that exist",
          "[report]") {
  const std::string readme = ReadWholeFile(std::string(SOURCE_DIR) + "/README.md");
  const size_t start = readme.find("```yaml\ngroups:\n  - name: standbyctl\n");
  REQUIRE(start != std::string::npos);
  const size_t end = readme.find("```\n", start + 8);
  REQUIRE(end != std::string::npos);
  const std::string rules = readme.substr(start + 8, end - start - 8);
  TempDir dir;
  base::ProcessSpec spec;
  spec.argv = {"promtool", "check", "rules", dir.Write("rules.yml", rules)};
  base::Result<base::ProcessResult> checked = base::RunProcess(spec);
  REQUIRE(checked.ok());
  INFO(checked->out << checked->err);
  CHECK(checked->exit_code == 0);
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  const std::string metrics = RenderMetrics(r, "0.1.0");
  // Every metric a rule names is one standbyctl writes.
  int named = 0;
  for (size_t at = rules.find("standbyctl_"); at != std::string::npos;
       at = rules.find("standbyctl_", at + 1)) {
    size_t stop = at;
    while (stop < rules.size() &&
           (std::islower(static_cast<unsigned char>(rules[stop])) || rules[stop] == '_')) {
      ++stop;
    }
    const std::string name = rules.substr(at, stop - at);
    if (name == "standbyctl") continue;  // the group's name
    INFO(name);
    CHECK(metrics.find("\n" + name + "{") != std::string::npos);
    ++named;
  }
  CHECK(named >= 4);
}

TEST_CASE("report: the metrics file is replaced atomically, mode 0644, under a reader",
          "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  const std::string expected = RenderMetrics(r, "0.1.0");
  const std::string textfile = dir.Sub("textfile");
  std::filesystem::create_directory(textfile);
  const mode_t old_umask = ::umask(077);
  REQUIRE(WriteMetricsFile(textfile, r, "0.1.0").ok());
  ::umask(old_umask);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread reader([&] {
    while (!done.load()) {
      base::Result<std::string> seen = base::ReadFile(textfile + "/standbyctl.prom");
      if (seen.ok()) {
        ++reads;
        if (*seen != expected) ++torn;
      }
    }
  });
  for (int i = 0; i < 200; ++i) REQUIRE(WriteMetricsFile(textfile, r, "0.1.0").ok());
  done = true;
  reader.join();
  CHECK(reads.load() > 0);
  CHECK(torn.load() == 0);
  struct stat st {};
  REQUIRE(::stat((textfile + "/standbyctl.prom").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  // Nothing but the file is left in the directory.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(textfile)) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("report: history show gives each outcome in full, as text and JSON", "[report][cli]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  base::Result<std::vector<store::DrillRecord>> drills = series.store->ListDrills({"", 1000});
  REQUIRE(drills.ok());
  for (const store::DrillRecord& d : *drills) {
    INFO("drill " << d.id << " " << store::DrillResultName(d.outcome.result) << " "
                  << d.outcome.failed_phase);
    base::ProcessResult text = testing::RunStandbyctl(
        {"--config", series.config_path, "history", "show", std::to_string(d.id)});
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find(fmt::format("drill {}: {} of {}, {}", d.id, d.start.kind, d.start.standby,
                                    store::DrillResultName(d.outcome.result))) == 0);
    base::ProcessResult js = testing::RunStandbyctl(
        {"--config", series.config_path, "history", "show", std::to_string(d.id), "--json"});
    REQUIRE(js.exit_code == 0);
    json j = json::parse(js.out);
    CHECK(j["id"] == d.id);
    CHECK(j["result"] == store::DrillResultName(d.outcome.result));
    if (d.outcome.failed_phase.empty()) {
      CHECK(j["failed_phase"].is_null());
    } else {
      CHECK(j["failed_phase"] == d.outcome.failed_phase);
      bool found = false;
      for (const json& p : j["phases"]) {
        if (p["name"] == d.outcome.failed_phase) {
          found = true;
          CHECK(p["outcome"] != "passed");
        }
      }
      CHECK(found);
    }
  }
  const store::DrillRecord* slower = nullptr;
  for (const store::DrillRecord& d : *drills) {
    if (d.outcome.failed_phase == "compare") slower = &d;
  }
  REQUIRE(slower);
  base::ProcessResult compare = testing::RunStandbyctl(
      {"--config", series.config_path, "history", "show", std::to_string(slower->id)});
  CHECK(compare.out.find("  home: standby-slower: ") != std::string::npos);
  CHECK(compare.out.find("    cpu-steal (standby, supports): steal 31% of the CPU") !=
        std::string::npos);

  base::ProcessResult missing =
      testing::RunStandbyctl({"--config", series.config_path, "history", "show", "9999"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no drill 9999") != std::string::npos);
  base::ProcessResult bad =
      testing::RunStandbyctl({"--config", series.config_path, "history", "show", "x"});
  CHECK(bad.exit_code == 2);
}

TEST_CASE("report: the command writes each format and refuses bad input", "[report][cli]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  base::ProcessResult js =
      testing::RunStandbyctl({"--config", series.config_path, "report", "--format", "json"});
  REQUIRE(js.exit_code == 0);
  CHECK(json::parse(js.out)["drills"].size() == 22);

  const std::string out = dir.Sub("report.csv");
  base::ProcessResult csv = testing::RunStandbyctl(
      {"--config", series.config_path, "report", "--format", "csv", "-o", out});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out == "wrote the report (22 drills, csv) to " + out + "\n");
  CHECK(ReadWholeFile(out).rfind("id,standby,kind,", 0) == 0);

  base::ProcessResult since =
      testing::RunStandbyctl({"--config", series.config_path, "report", "--standby", "db-standby",
                              "--since", "2026-11-01", "--format", "json"});
  REQUIRE(since.exit_code == 0);
  CHECK(json::parse(since.out)["drills"].size() == 1);

  struct Bad {
    std::vector<std::string> args;
    const char* says;
  } bad[] = {
      {{"report", "--since", "last tuesday"}, "--since \"last tuesday\": expected a date"},
      {{"report", "--standby", "nope"}, "no standby \"nope\""},
      {{"report", "--format", "pdf"}, "pdf"},
      {{"metrics", "--textfile", dir.Sub("absent")}, "absent"},
  };
  for (const Bad& b : bad) {
    std::vector<std::string> args = {"--config", series.config_path};
    args.insert(args.end(), b.args.begin(), b.args.end());
    base::ProcessResult r = testing::RunStandbyctl(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(b.says) != std::string::npos);
  }

  const std::string textfile = dir.Sub("textfile");
  std::filesystem::create_directory(textfile);
  base::ProcessResult metrics =
      testing::RunStandbyctl({"--config", series.config_path, "metrics", "--textfile", textfile});
  REQUIRE(metrics.exit_code == 0);
  CHECK(ReadWholeFile(textfile + "/standbyctl.prom").find("standbyctl_build_info{version=\"") !=
        std::string::npos);
}

// Runs headless Chromium (the Debian package) on `url` with a fresh profile.
base::ProcessResult Chromium(const TempDir& dir, const std::vector<std::string>& args,
                             const std::string& url) {
  base::ProcessSpec spec;
  spec.argv = {"chromium",
               "--headless",
               "--no-sandbox",
               "--disable-gpu",
               "--user-data-dir=" + dir.Sub("profile"),
               "--window-size=1280,1600"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back(url);
  spec.timeout = std::chrono::seconds(90);
  spec.max_output_bytes = 8 << 20;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  INFO((r.ok() ? "" : r.status().message()));
  REQUIRE(r.ok());
  INFO(r->Describe() << "\n" << r->err);
  REQUIRE(r->exit_code == 0);
  return *r;
}

TEST_CASE("report: the HTML is self-contained and renders in headless Chromium",
          "[report][chromium]") {
  TempDir dir;
  testing::Series series = testing::MakeSeries(dir);
  const Report r = Build(series);
  const std::string html = RenderHtml(r);
  // Nothing to fetch and nothing to run.
  for (const char* absent : {"<script", "src=", "href=", "url(", "@import", "<link"}) {
    INFO(absent);
    CHECK(html.find(absent) == std::string::npos);
  }
  const std::string page = dir.Write("report.html", html);
  const std::string blank = dir.Write("blank.html", "<!DOCTYPE html><html><body></body></html>");

  Chromium(dir, {"--screenshot=" + dir.Sub("report.png")}, "file://" + page);
  Chromium(dir, {"--screenshot=" + dir.Sub("blank.png")}, "file://" + blank);
  const std::string shot = ReadWholeFile(dir.Sub("report.png"));
  const std::string empty = ReadWholeFile(dir.Sub("blank.png"));
  REQUIRE(shot.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
  // A blank page of the same size compresses to almost nothing; the
  // report's text, cards and charts do not.
  INFO("report.png " << shot.size() << " bytes, blank.png " << empty.size() << " bytes");
  CHECK(shot.size() > 5 * empty.size());

  base::ProcessResult dom = Chromium(dir, {"--dump-dom"}, "file://" + page);
  CHECK(dom.out.find("<span id=\"drill-count\" data-count=\"22\">22 drills</span>") !=
        std::string::npos);
  // The latest RTO measured: db-standby's drill of 2026-11-15, 306 s.
  CHECK(dom.out.find("<span id=\"latest-rto\" data-seconds=\"306.000\">5m6s</span>") !=
        std::string::npos);
  CHECK(dom.out.find("data-standby=\"db-standby\" data-state=\"stale\"") != std::string::npos);
  CHECK(dom.out.find("data-standby=\"web1-standby\" data-state=\"verified\"") != std::string::npos);
  size_t rows = 0;
  for (size_t at = dom.out.find(" data-drill=\""); at != std::string::npos;
       at = dom.out.find(" data-drill=\"", at + 1)) {
    ++rows;
  }
  CHECK(rows == 22);
}

TEST_CASE("report: one drill and 500 drills render in every format", "[report]") {
  TempDir dir;
  testing::Series series = testing::MakeEmptySeries(dir);
  {
    DrillDetails one;
    one.record.id = 1;
    one.record.start.standby = "web1-standby";
    one.record.start.at = {kSeriesNow - 86'400'000, 0};
    one.record.outcome.result = store::DrillResult::kPassed;
    one.record.outcome.rto_ms = 700'000;
    Report r = Analyze({one}, series.config, {}, kSeriesNow);
    REQUIRE(r.drills.size() == 1);
    CHECK_FALSE(r.drills[0].previous_rto_median_ms);  // nothing before it to regress from
    CHECK(r.drills[0].rto_median_ms == 700'000);
    // Without a configuration digest it cannot vouch for today's configuration.
    CHECK(r.standbys[0].verification == Verification::kStale);
    CHECK(RenderText(r).find("\n 1  web1-standby  drill") != std::string::npos);
    CHECK(ReportJson(r)["drills"].size() == 1);
    CHECK(RenderHtml(r).find("data-count=\"1\">1 drill<") != std::string::npos);
  }
  std::vector<DrillDetails> drills;
  for (int i = 0; i < 500; ++i) {
    DrillDetails d;
    d.record.id = i + 1;
    d.record.start.standby = i % 2 ? "web1-standby" : "db-standby";
    d.record.start.at = {kSeriesNow - (500 - i) * 86'400'000LL, 0};
    d.record.start.config_digest = series.config.FindStandby(d.record.start.standby)->digest;
    d.record.outcome.result = i % 7 ? store::DrillResult::kPassed : store::DrillResult::kFailed;
    if (i % 7) d.record.outcome.rto_ms = 600'000 + (i % 13) * 20'000;
    drills.push_back(std::move(d));
  }
  Report r = Analyze(std::move(drills), series.config, {}, kSeriesNow);
  CHECK(r.drills.size() == 500);
  CHECK(RenderText(r).find("Drills, oldest first") != std::string::npos);
  CHECK(ReportJson(r)["drills"].size() == 500);
  const std::string csv = RenderCsv(r);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 501);
  CHECK(RenderHtml(r).find("data-count=\"500\"") != std::string::npos);
}

}  // namespace
}  // namespace sb::report
