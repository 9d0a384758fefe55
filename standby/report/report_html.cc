// The report as one self-contained HTML file: inline CSS (with a print
// stylesheet) and inline SVG charts, no scripts, nothing fetched. Every
// chart mark carries a <title> tooltip, and the figures a test or a
// scraper reads carry data-* attributes.

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agent/base/units.h"
#include "standby/report/report_render.h"

namespace sb::report {
namespace {

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Dur(const std::optional<int64_t>& ms) {
  return ms ? base::FormatDuration(base::Duration(*ms)) : "–";
}

std::string Size(int64_t bytes) { return base::FormatSize(static_cast<uint64_t>(bytes)); }

std::string Day(int64_t wall_ms) { return Rfc3339(wall_ms).substr(0, 10); }

constexpr const char* kStyle = R"css(
:root { --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; --muted:#57606a; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:#1f2328;
       max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: 8px 12px; }
.card.verified { border-left-color: var(--ok); } .card.stale { border-left-color: var(--warn); }
.card.never { border-left-color: var(--bad); }
.card h3 { margin: 0; font-size: 15px; } .state { font-weight: 600; text-transform: uppercase; }
.verified .state { color: var(--ok); } .stale .state { color: var(--warn); } .never .state { color: var(--bad); }
.card p { margin: 4px 0 0; color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td, tr.aborted td { background: #fff1f0; } tr.regression td.rto { color: var(--bad); font-weight: 600; }
.met { color: var(--ok); } .exceeded { color: var(--warn); } .severely-exceeded { color: var(--bad); font-weight: 600; }
svg { width: 100%; height: auto; display: block; margin: 4px 0 12px; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
.scroll { overflow-x: auto; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; } table { font-size: 8pt; }
  section { break-inside: avoid; } tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
)css";

constexpr const char* kPartColor[] = {"#4477aa", "#66ccee", "#228833", "#ccbb44", "#ee6677"};

struct Bar {
  std::string label;                                     // under the bar
  std::vector<std::pair<double, std::string>> segments;  // value, tooltip
  std::string failed;                                    // a marker's tooltip when no value
};

// Gridline steps people read at a glance: of durations (ms) and of sizes.
constexpr double kTimeSteps[] = {1e3,    2e3,    5e3,     10e3,    15e3,   30e3,
                                 60e3,   120e3,  300e3,   600e3,   900e3,  1800e3,
                                 3600e3, 7200e3, 14400e3, 43200e3, 86400e3};
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kSizeSteps[] = {1024,         10240,        102400,       kMiB,        2 * kMiB,
                                 5 * kMiB,     10 * kMiB,    20 * kMiB,    50 * kMiB,   100 * kMiB,
                                 200 * kMiB,   500 * kMiB,   1024 * kMiB,  2048 * kMiB, 5120 * kMiB,
                                 10240 * kMiB, 51200 * kMiB, 102400 * kMiB};

// The smallest step that covers `top` in at most 5 gridlines.
template <size_t N>
double NiceStep(double top, const double (&steps)[N]) {
  for (double step : steps) {
    if (top / step <= 5) return step;
  }
  return std::ceil(top / 5 / steps[N - 1]) * steps[N - 1];
}

// What a chart's values are: its gridline steps and their labels.
enum class Axis { kTime /* ms */, kSize /* bytes */ };

std::string AxisLabel(Axis axis, double v) {
  if (axis == Axis::kSize) return Size(static_cast<int64_t>(v));
  if (v == 0) return "0";
  return base::FormatDuration(base::Duration(static_cast<int64_t>(std::llround(v))));
}

// A bar chart: stacked segments coloured by `colors`, an optional dashed
// target line, a y axis from 0 in steps people read at a glance.
std::string BarChart(const std::vector<Bar>& bars, const std::vector<std::string>& colors,
                     std::optional<double> target, const std::string& target_label, Axis axis,
                     const std::string& aria) {
  constexpr double kW = 1000, kH = 220, kLeft = 80, kBottom = 28, kTop = 10;
  double top = target.value_or(0);
  for (const Bar& b : bars) {
    double sum = 0;
    for (const auto& seg : b.segments) sum += seg.first;
    top = std::max(top, sum);
  }
  if (top <= 0) top = 1;
  const double step = axis == Axis::kSize ? NiceStep(top, kSizeSteps) : NiceStep(top, kTimeSteps);
  const int lines = static_cast<int>(std::ceil(top / step));
  top = step * lines;
  const double plot_w = kW - kLeft - 8, plot_h = kH - kBottom - kTop;
  const double slot = bars.empty() ? plot_w : plot_w / static_cast<double>(bars.size());
  const double bar_w = std::clamp(slot * 0.72, 1.0, 48.0);
  auto y = [&](double v) { return kTop + plot_h - v / top * plot_h; };
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">",
      kW, kH, Esc(aria));
  for (int i = 0; i <= lines; ++i) {
    const double v = step * i;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d0d7de\" "
        "stroke-width=\"0.6\"/><text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
        kLeft, kW - 8, y(v), y(v), kLeft - 6, y(v) + 4, Esc(AxisLabel(axis, v)));
  }
  // A date label is about 64 units wide.
  const size_t label_every = static_cast<size_t>(std::max(1.0, std::ceil(72.0 / slot)));
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double x = kLeft + slot * static_cast<double>(i) + (slot - bar_w) / 2;
    double base = 0;
    for (size_t k = 0; k < b.segments.size(); ++k) {
      const auto& [v, tip] = b.segments[k];
      if (v <= 0) continue;
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}</title></rect>",
          x, y(base + v), bar_w, y(base) - y(base + v), colors[k % colors.size()], Esc(tip));
      base += v;
    }
    if (b.segments.empty() && !b.failed.empty()) {
      const double cx = x + bar_w / 2, cy = y(0) - 6;
      svg += fmt::format(
          "<path d=\"M{:.1f} {:.1f}l8 8m0 -8l-8 8\" stroke=\"#cf222e\" stroke-width=\"2\">"
          "<title>{}</title></path>",
          cx - 4, cy - 4, Esc(b.failed));
    }
    if (i % label_every == 0) {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>",
                         x + bar_w / 2, kH - 10, Esc(b.label));
    }
  }
  if (target) {
    svg += fmt::format(
        "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#cf222e\" "
        "stroke-dasharray=\"6 4\" stroke-width=\"1.5\"><title>{}</title></line>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" style=\"fill:#cf222e\">{}</text>",
        kLeft, kW - 8, y(*target), y(*target), Esc(target_label), kW - 10,
        // Above the line, or below it when the line is at the top.
        y(*target) - 4 < kTop + 8 ? y(*target) + 13 : y(*target) - 4, Esc(target_label));
  }
  svg += fmt::format(
      "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#57606a\"/></svg>\n", kLeft,
      kW - 8, y(0), y(0));
  return svg;
}

std::string Charts(const Report& report, const StandbyStatus& s) {
  std::vector<const DrillRow*> rows;
  for (const DrillRow& row : report.drills) {
    if (row.d.record.start.standby == s.name) rows.push_back(&row);
  }
  if (rows.empty()) return "";
  std::vector<Bar> rto, exposure, bytes;
  for (const DrillRow* row : rows) {
    const store::DrillRecord& r = row->d.record;
    const std::string head =
        fmt::format("drill {} ({}), {}: {}", r.id, r.start.kind, Day(r.start.at.wall_ms),
                    store::DrillResultName(r.outcome.result));
    Bar b{Day(r.start.at.wall_ms), {}, ""};
    if (r.outcome.rto_ms) {
      for (const char* part : kRtoParts) {
        const std::optional<int64_t> ms = row->PhaseMs(part);
        b.segments.emplace_back(
            ms ? static_cast<double>(*ms) : 0,
            ms ? fmt::format("{}: {} {} of RTO {}", head, part, Dur(ms), Dur(r.outcome.rto_ms))
               : "");
      }
    } else {
      b.failed = fmt::format("{}{}{}: no RTO", head,
                             r.outcome.failed_phase.empty() ? "" : " in " + r.outcome.failed_phase,
                             r.outcome.reason.empty() ? "" : " (" + r.outcome.reason + ")");
    }
    rto.push_back(std::move(b));
    Bar e{Day(r.start.at.wall_ms), {}, ""};
    if (r.outcome.exposure_ms) {
      e.segments.emplace_back(
          static_cast<double>(*r.outcome.exposure_ms),
          fmt::format("{}: powered on for {}", head, Dur(r.outcome.exposure_ms)));
    } else {
      e.failed = fmt::format(
          "{}: exposure not measured (power off not confirmed, or never "
          "powered on)",
          head);
    }
    exposure.push_back(std::move(e));
    Bar m{Day(r.start.at.wall_ms), {}, ""};
    if (!row->d.restores.empty()) {
      m.segments.emplace_back(
          static_cast<double>(row->bytes_restored),
          fmt::format("{}: {} restored in {} files, {} on the wire", head,
                      Size(row->bytes_restored), row->files_restored, Size(row->bytes_wire)));
    } else {
      m.failed = fmt::format("{}: no restore recorded", head);
    }
    bytes.push_back(std::move(m));
  }
  std::string legend = "<div class=\"legend\">";
  for (size_t i = 0; i < std::size(kRtoParts); ++i) {
    legend +=
        fmt::format("<span><i style=\"background:{}\"></i>{}</span>", kPartColor[i], kRtoParts[i]);
  }
  legend += "<span><i style=\"background:#cf222e\"></i>target; × no RTO</span></div>";
  std::optional<double> target;
  std::string target_label;
  if (s.rto_target_ms) {
    target = static_cast<double>(*s.rto_target_ms);
    target_label = "RTO target " + Dur(s.rto_target_ms);
  }
  std::vector<std::string> parts(std::begin(kPartColor), std::end(kPartColor));
  std::string out =
      fmt::format("<section><h2>{}: recovery time by phase</h2>{}", Esc(s.name), legend);
  out += BarChart(rto, parts, target, target_label, Axis::kTime,
                  "recovery time by phase of each drill of " + s.name);
  out += fmt::format("<h2>{}: exposure window (power on to confirmed off)</h2>", Esc(s.name));
  out += BarChart(exposure, {"#8250df"}, std::nullopt, "", Axis::kTime,
                  "exposure window of each drill of " + s.name);
  out += fmt::format("<h2>{}: bytes restored per drill</h2>", Esc(s.name));
  out += BarChart(bytes, {"#0969da"}, std::nullopt, "", Axis::kSize,
                  "bytes restored by each drill of " + s.name);
  return out + "</section>\n";
}

std::string FigureCell(const Figure& f) {
  if (!f.ms) return "–";
  if (!f.ratio) return Dur(f.ms);
  return fmt::format("{} <span class=\"{}\">{:.2f}x</span>", Dur(f.ms),
                     ComplianceName(f.compliance), *f.ratio);
}

}  // namespace

std::string RenderHtml(const Report& report) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out +=
      fmt::format("<title>standbyctl recovery report, {}</title><style>{}</style></head><body>\n",
                  Day(report.generated_wall_ms), kStyle);
  std::string scope = report.query.standby.empty() ? "all standbys" : report.query.standby;
  if (report.query.since_wall_ms != 0) {
    scope += ", drills since " + Rfc3339(report.query.since_wall_ms);
  }
  const DrillRow* latest = nullptr;  // the latest drill that measured an RTO
  for (const DrillRow& row : report.drills) {
    if (row.d.record.outcome.rto_ms) latest = &row;
  }
  std::optional<int64_t> latest_rto;
  std::string latest_of;
  if (latest) {
    latest_rto = latest->d.record.outcome.rto_ms;
    latest_of =
        fmt::format(" ({}, drill {})", Esc(latest->d.record.start.standby), latest->d.record.id);
  }
  out += fmt::format(
      "<h1>Recovery report</h1><p class=\"meta\">Generated {} for {}. "
      "<span id=\"drill-count\" data-count=\"{}\">{} drill{}</span>; latest RTO "
      "<span id=\"latest-rto\" data-seconds=\"{}\">{}</span>{}.</p>\n",
      Rfc3339(report.generated_wall_ms), Esc(scope), report.drills.size(), report.drills.size(),
      report.drills.size() == 1 ? "" : "s",
      latest_rto ? fmt::format("{:.3f}", Seconds(*latest_rto)) : "", Dur(latest_rto), latest_of);

  out += "<h2>Verification status</h2><div class=\"cards\">";
  if (report.standbys.empty()) out += "<p>No standbys configured and no drills recorded.</p>";
  auto target = [](const char* what, const std::optional<int64_t>& ms, int met, int measured) {
    if (!ms) return fmt::format("no {} target", what);
    return fmt::format("{} target {}, met by {} of {} drills", what, Dur(ms), met, measured);
  };
  for (const StandbyStatus& s : report.standbys) {
    out += fmt::format(
        "<div class=\"card {}\" data-standby=\"{}\" data-state=\"{}\"><h3>{}</h3>"
        "<span class=\"state\">{}</span><p>{}</p><p>{}; {}</p><p>{} drill{}: {} passed, {} "
        "failed, {} aborted; {} regression{}</p></div>",
        VerificationName(s.verification), Esc(s.name), VerificationName(s.verification),
        Esc(s.name), VerificationName(s.verification), Esc(s.why),
        target("RTO", s.rto_target_ms, s.rto_met, s.rto_measured),
        target("RPO", s.rpo_target_ms, s.rpo_met, s.rpo_measured), s.drills,
        s.drills == 1 ? "" : "s", s.passed, s.failed, s.aborted, s.regressions,
        s.regressions == 1 ? "" : "s");
  }
  out += "</div>\n";

  for (const StandbyStatus& s : report.standbys) out += Charts(report, s);

  out += "<h2>Drills</h2>";
  if (report.drills.empty()) {
    out += "<p>No drills in this period.</p>";
  } else {
    out +=
        "<div class=\"scroll\"><table><thead><tr><th class=\"n\">id</th><th>standby</th>"
        "<th>kind</th><th>started (UTC)</th><th>result</th><th class=\"n\">RTO</th>";
    for (const char* part : kRtoParts) out += fmt::format("<th class=\"n\">{}</th>", part);
    out +=
        "<th class=\"n\">RPO</th><th class=\"n\">exposure</th><th class=\"n\">files</th>"
        "<th class=\"n\">bytes</th><th>drift</th><th>verdicts</th><th>notes</th></tr></thead>"
        "<tbody>\n";
    for (const DrillRow& row : report.drills) {
      const store::DrillRecord& r = row.d.record;
      std::string cls(store::DrillResultName(r.outcome.result));
      if (!row.regression.empty()) cls += " regression";
      std::string result(store::DrillResultName(r.outcome.result));
      if (!r.outcome.failed_phase.empty()) result += " in " + r.outcome.failed_phase;
      out += fmt::format(
          "<tr class=\"{}\" data-drill=\"{}\"><td class=\"n\">{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td class=\"n rto\">{}</td>",
          cls, r.id, r.id, Esc(r.start.standby), Esc(r.start.kind),
          Rfc3339(r.start.at.wall_ms).substr(0, 16).replace(10, 1, " "), Esc(result),
          FigureCell(row.rto));
      for (const char* part : kRtoParts) {
        out += fmt::format("<td class=\"n\">{}</td>", Dur(row.PhaseMs(part)));
      }
      const std::string drift = row.drift_total == 0 ? "" : DriftWords(row.d);
      std::string verdicts;
      for (const store::ProbeResultRecord& p : row.d.probes) {
        verdicts += fmt::format("{}{}: {}", verdicts.empty() ? "" : ", ", p.probe, p.verdict);
      }
      std::string notes = row.regression.empty() ? "" : "regression: " + row.regression;
      if (r.outcome.result != store::DrillResult::kPassed && !r.outcome.reason.empty()) {
        notes += (notes.empty() ? "" : "; ") + r.outcome.reason;
      }
      out += fmt::format(
          "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
          "<td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          FigureCell(row.rpo), Dur(r.outcome.exposure_ms), row.files_restored,
          Size(row.bytes_restored), Esc(drift), Esc(verdicts), Esc(notes));
    }
    out += "</tbody></table></div>";
  }
  out +=
      "<p class=\"meta\">RTO: power on through the last smoke check passing. Compliance: met "
      "(at most the target), exceeded (at most twice it), severely exceeded. A regression: an "
      "RTO above 1.25 times the median of the standby's previous 6, or above the target. "
      "Verified: the last passed drill is within verify_within and ran with today's "
      "configuration.</p>\n</body></html>\n";
  return out;
}

}  // namespace sb::report
