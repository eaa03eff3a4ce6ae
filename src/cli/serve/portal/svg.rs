//! Charts drawn on the server as inline SVG, so pages need no script: the
//! milestones of an instance on a time axis, a bar chart of grouped
//! measures, and a time series of bucketed ones.
//!
//! Every label goes through [`esc`]; coordinates are computed from finite
//! numbers only (a non-finite value is left out), so no input can make a
//! chart malformed. Charts draw in a fixed 640-wide view box and scale to
//! the screen (`max-width: 100%` in the page style).

use std::fmt::Write as _;

use bamdb::model::Timestamp;
use bamdb::query::Cell;

use super::html::{esc, time_text};

/// View box width.
const W: f64 = 640.0;
/// Series colours, in order; more series than colours are not drawn (the
/// caller caps them).
pub const PALETTE: [&str; 8] = [
    "#1f6fb4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
/// Characters of a bar label shown before it is cut (the table has all).
const LABEL_CHARS: usize = 22;

/// How the values of a chart read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Plain numbers.
    Number,
    /// Microseconds, shown as durations.
    Duration,
}

impl Scale {
    /// A value as an axis or bar label.
    pub fn label(self, v: f64) -> String {
        match self {
            Scale::Number => number_label(v),
            Scale::Duration if v.is_finite() => {
                // Whole seconds unless the span is below one: ticks at
                // odd microseconds would only be noise.
                let micros = if v.abs() >= 1e6 {
                    (v / 1e6).round() * 1e6
                } else {
                    v.round()
                };
                Cell::Duration(micros as i64).to_string()
            }
            Scale::Duration => "?".to_owned(),
        }
    }
}

fn number_label(v: f64) -> String {
    if !v.is_finite() {
        return "?".to_owned();
    }
    let a = v.abs();
    if a != 0.0 && !(0.01..1e12).contains(&a) {
        return format!("{v:.2e}");
    }
    if v.fract() == 0.0 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Round steps for a duration axis, in seconds: a clock's steps up to a
/// day, then days and weeks (an axis in steps of 13:53:20 reads badly).
const DURATION_STEPS: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 1_209_600, 2_592_000,
];

/// A round number step at least `raw`: 1, 2 or 5 times a power of ten.
fn number_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    mag * if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    }
}

/// A round step near `raw` for values read on `scale`.
fn step(raw: f64, scale: Scale) -> f64 {
    const SECOND: f64 = 1e6;
    const DAY: f64 = 86_400e6;
    match scale {
        Scale::Duration if raw >= SECOND => DURATION_STEPS
            .iter()
            .map(|s| *s as f64 * SECOND)
            .find(|s| *s >= raw)
            .unwrap_or_else(|| number_step(raw / DAY) * DAY),
        _ => number_step(raw),
    }
}

/// Round tick values covering `lo..=hi` (at most about `n + 2` of them),
/// and the covered range (lo and hi moved out to ticks).
fn nice_ticks(lo: f64, hi: f64, n: usize, scale: Scale) -> (Vec<f64>, f64, f64) {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let step = step((hi - lo) / n.max(1) as f64, scale);
    if !step.is_finite() || step <= 0.0 {
        return (vec![lo, hi], lo, hi);
    }
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let mut ticks = Vec::new();
    let mut t = first;
    // Bounded: the step divides the range into about n parts.
    while t <= last + step * 1e-9 && ticks.len() < 4 * n + 4 {
        // -0.0 would print as "-0".
        ticks.push(if t == 0.0 { 0.0 } else { t });
        t += step;
    }
    (ticks, first, last)
}

/// A time as a short axis label, as precise as the span of the axis needs.
fn time_label(t: Timestamp, span_micros: f64) -> String {
    let full = t.to_string();
    let cut = if span_micros >= 3.0 * 86_400e6 {
        full.get(..10).map(str::to_owned)
    } else if span_micros >= 3_600e6 {
        full.get(5..10)
            .zip(full.get(11..16))
            .map(|(d, h)| format!("{d} {h}"))
    } else {
        full.get(11..19).map(str::to_owned)
    };
    cut.unwrap_or(full)
}

fn opening(out: &mut String, height: f64, label: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height:.0}\" width=\"{W}\" \
         height=\"{height:.0}\" role=\"img\" aria-label=\"{}\" font-size=\"12\">\n<title>{}</title>\n",
        esc(label),
        esc(label)
    );
}

/// One bar: a group and its value.
pub struct Bar {
    /// The group, as text.
    pub label: String,
    /// Its value.
    pub value: f64,
}

/// Horizontal bars (long group names read better beside a bar than under
/// it, and the chart grows downwards on a phone), with a zero line when
/// values are negative.
pub fn bar_chart(bars: &[Bar], scale: Scale, caption: &str) -> String {
    let bars: Vec<&Bar> = bars.iter().filter(|b| b.value.is_finite()).collect();
    let (x0, x1) = (160.0, 540.0);
    let row = 22.0;
    let top = 8.0;
    let height = top + row * bars.len() as f64 + 28.0;
    let lo = bars.iter().map(|b| b.value).fold(0.0_f64, f64::min);
    let hi = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let (ticks, lo, hi) = nice_ticks(lo, hi, 4, scale);
    let x = |v: f64| x0 + (v - lo) / (hi - lo) * (x1 - x0);
    let mut out = String::new();
    opening(&mut out, height, caption);
    let axis_y = top + row * bars.len() as f64 + 4.0;
    for t in &ticks {
        let _ = writeln!(
            out,
            "<line x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{axis_y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\" fill=\"#555\">{2}</text>",
            x(*t),
            axis_y + 14.0,
            esc(&scale.label(*t))
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let (a, z) = (x(0.0), x(b.value));
        let (left, width) = (a.min(z), (a - z).abs());
        let short: String = if b.label.chars().count() > LABEL_CHARS {
            b.label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            b.label.clone()
        };
        let value = scale.label(b.value);
        let _ = writeln!(
            out,
            "<g><title>{}: {}</title>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#333\">{}</text></g>",
            esc(&b.label),
            esc(&value),
            x0 - 6.0,
            y + 15.0,
            esc(&short),
            y + 4.0,
            row - 6.0,
            PALETTE[0],
            W - 4.0,
            y + 15.0,
            esc(&value)
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{axis_y:.1}\" stroke=\"#333\"/></svg>",
        x(0.0)
    );
    out
}

/// One line of a time series: its name (the group) and its points.
pub struct Series {
    /// The group, as text (empty for a single series).
    pub name: String,
    /// (bucket start, value), in time order.
    pub points: Vec<(Timestamp, f64)>,
}

/// Lines over a time axis with a value axis; one colour per series (at
/// most [`PALETTE`]'s length are drawn) and a legend when there are
/// several.
pub fn time_series(series: &[Series], scale: Scale, caption: &str) -> String {
    let series = series
        .get(..series.len().min(PALETTE.len()))
        .unwrap_or_default();
    let points = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(_, v)| v.is_finite())
    };
    let (left, right, top, plot_h) = (78.0, W - 14.0, 10.0, 200.0);
    let bottom = top + plot_h;
    let legend_rows = if series.len() > 1 { series.len() } else { 0 };
    let height = bottom + 34.0 + 16.0 * legend_rows as f64;
    let tmin = points().map(|(t, _)| t.as_micros()).min().unwrap_or(0) as f64;
    let tmax = points().map(|(t, _)| t.as_micros()).max().unwrap_or(0) as f64;
    let lo = points().map(|(_, v)| *v).fold(0.0_f64, f64::min);
    let hi = points().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let (ticks, lo, hi) = nice_ticks(lo, hi, 4, scale);
    let span = tmax - tmin;
    let x = |t: f64| {
        if span > 0.0 {
            left + (t - tmin) / span * (right - left)
        } else {
            (left + right) / 2.0
        }
    };
    let y = |v: f64| bottom - (v - lo) / (hi - lo) * plot_h;
    let mut out = String::new();
    opening(&mut out, height, caption);
    for t in &ticks {
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{right}\" y2=\"{0:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{1:.1}\" y=\"{2:.1}\" text-anchor=\"end\" fill=\"#555\">{3}</text>",
            y(*t),
            left - 4.0,
            y(*t) + 4.0,
            esc(&scale.label(*t))
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#333\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#333\"/>"
    );
    let time_ticks: Vec<f64> = if span > 0.0 {
        (0..4).map(|i| tmin + span * f64::from(i) / 3.0).collect()
    } else {
        vec![tmin]
    };
    for (i, t) in time_ticks.iter().enumerate() {
        let anchor = match i {
            0 if time_ticks.len() > 1 => "start",
            3 => "end",
            _ => "middle",
        };
        let label = time_label(Timestamp::from_micros(*t as i64), span);
        let _ = writeln!(
            out,
            "<line x1=\"{0:.1}\" y1=\"{bottom}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#333\"/>\
             <text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"{anchor}\" fill=\"#555\">{3}</text>",
            x(*t),
            bottom + 4.0,
            bottom + 16.0,
            esc(&label)
        );
    }
    for (s, color) in series.iter().zip(PALETTE) {
        let pts: Vec<(f64, f64, &(Timestamp, f64))> = s
            .points
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|p| (x(p.0.as_micros() as f64), y(p.1), p))
            .collect();
        if pts.len() > 1 {
            out.push_str("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"");
            out.push_str(color);
            out.push_str("\" points=\"");
            for (px, py, _) in &pts {
                let _ = write!(out, "{px:.1},{py:.1} ");
            }
            out.push_str("\"/>\n");
        }
        for (px, py, (t, v)) in &pts {
            let name = if s.name.is_empty() {
                String::new()
            } else {
                format!("{}: ", s.name)
            };
            let _ = writeln!(
                out,
                "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" fill=\"{color}\">\
                 <title>{}{} = {}</title></circle>",
                esc(&name),
                esc(&time_text(*t)),
                esc(&scale.label(*v))
            );
        }
    }
    if legend_rows > 0 {
        for (i, (s, color)) in series.iter().zip(PALETTE).enumerate() {
            let ly = bottom + 34.0 + 16.0 * i as f64;
            let _ = writeln!(
                out,
                "<rect x=\"{left}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
                 <text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
                ly - 9.0,
                left + 14.0,
                esc(&s.name)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A named point in time of an instance.
pub struct Milestone {
    /// `begin`, `end` or the item's name.
    pub label: String,
    /// When.
    pub at: Timestamp,
}

/// The milestones on one time axis, each on its own row (so labels never
/// overlap however close the times are), with a guide down to the axis.
pub fn timeline(milestones: &[Milestone]) -> String {
    let mut ms: Vec<&Milestone> = milestones.iter().collect();
    ms.sort_by_key(|m| m.at);
    let (left, right, top, row) = (16.0, W - 16.0, 14.0, 24.0);
    let axis_y = top + row * ms.len() as f64;
    let height = axis_y + 30.0;
    let tmin = ms.first().map_or(0, |m| m.at.as_micros()) as f64;
    let tmax = ms.last().map_or(0, |m| m.at.as_micros()) as f64;
    let span = tmax - tmin;
    let x = |t: Timestamp| {
        if span > 0.0 {
            left + (t.as_micros() as f64 - tmin) / span * (right - left)
        } else {
            (left + right) / 2.0
        }
    };
    let mut out = String::new();
    opening(&mut out, height, "milestones on a time axis");
    for (i, m) in ms.iter().enumerate() {
        let (px, py) = (x(m.at), top + row * i as f64);
        let (tx, anchor) = if px < W * 0.55 {
            (px + 9.0, "start")
        } else {
            (px - 9.0, "end")
        };
        let _ = writeln!(
            out,
            "<line x1=\"{px:.1}\" y1=\"{py:.1}\" x2=\"{px:.1}\" y2=\"{axis_y:.1}\" stroke=\"#aaa\" \
             stroke-dasharray=\"3,3\"/><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"5\" fill=\"{}\">\
             <title>{}: {}</title></circle><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">\
             <tspan font-weight=\"bold\">{}</tspan> {}</text>",
            PALETTE[i % PALETTE.len()],
            esc(&m.label),
            esc(&time_text(m.at)),
            py + 4.0,
            esc(&m.label),
            esc(&time_text(m.at))
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{axis_y:.1}\" x2=\"{right}\" y2=\"{axis_y:.1}\" stroke=\"#333\"/>"
    );
    if let (Some(first), Some(last)) = (ms.first(), ms.last()) {
        let _ = write!(
            out,
            "<text x=\"{left}\" y=\"{0:.1}\" fill=\"#555\">{1}</text>",
            axis_y + 18.0,
            esc(&time_text(first.at))
        );
        if span > 0.0 {
            let _ = write!(
                out,
                "<text x=\"{right}\" y=\"{0:.1}\" text-anchor=\"end\" fill=\"#555\">{1}</text>",
                axis_y + 18.0,
                esc(&time_text(last.at))
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
#[path = "svg_tests.rs"]
mod tests;
