//! SVG charts for report.html, drawn with plotters' SVG backend: the
//! latency percentile spectrum (HdrHistogram's "1/(1-p)" axis), values over
//! the seconds of a window, and bars per variant. Each function returns one
//! `<svg>` element as text; text is left to the browser's fonts (no font
//! files: plotters estimates label sizes).

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

/// Chart size in pixels: fits a 1280 px page with margins, and an A4 page.
pub const WIDTH: u32 = 1100;
pub const HEIGHT: u32 = 380;

/// One named line of points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Colours that stay apart when printed in grey, one per variant.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The percentile a point of the spectrum's x axis stands for: x = 1/(1-p).
pub fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x.max(1.0));
    // As many decimals as the tail needs: 99%, 99.9%, 99.95%.
    let digits = (x.max(1.0).log10().ceil() as usize).saturating_sub(2);
    format!("{p:.digits$}%")
}

/// Points of the spectrum x axis from 1 (p0) to `max_x`, log-spaced.
pub fn spectrum_xs(max_x: f64) -> Vec<f64> {
    let steps = 80;
    let top = max_x.max(10.0).log10();
    (0..=steps).map(|i| 10f64.powf(top * i as f64 / steps as f64)).collect()
}

/// Renders `draw` onto a fresh SVG of the chart size; an error in drawing
/// becomes a note in the page instead of a missing report.
fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>) -> String {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    match drawn {
        Ok(()) => out,
        Err(e) => format!("<p class=\"note\">chart not drawn: {}</p>", super::html::escape(&e)),
    }
}

/// A chart area with the page's caption, margins and label room.
fn builder<'a, 'b>(root: &'a DrawingArea<SVGBackend<'b>, Shift>, title: &str) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80);
    b
}

/// Latency (ns) against percentile on the log "1/(1-p)" axis, one line per
/// series (x = 1/(1-p), y = ns).
pub fn spectrum(title: &str, series: &[Series]) -> String {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(10.0, f64::max);
    let (lo, hi) = y_range(series, true);
    svg(|root| {
        let mut chart = builder(root, title)
            .build_cartesian_2d((1f64..max_x).log_scale(), (lo..hi).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency")
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| crate::util::format_ns(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        // Spectra rise to the right: the lower right is empty.
        lines(&mut chart, series, SeriesLabelPosition::LowerRight)
    })
}

/// Values over the seconds of a window (x = second), one line per series;
/// `format` labels the y axis.
pub fn timeline(title: &str, y_desc: &str, series: &[Series], format: &dyn Fn(f64) -> String) -> String {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let (_, hi) = y_range(series, false);
    svg(|root| {
        let mut chart = builder(root, title)
            .build_cartesian_2d(0f64..max_x, 0f64..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("second of the measured window")
            .y_desc(y_desc)
            .y_label_formatter(&|y| format(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        lines(&mut chart, series, SeriesLabelPosition::UpperRight)
    })
}

/// Recall (y, 0 to 1) against p99 latency (x, log scale, in ns): one point
/// per variant, or a curve per series of settings; up and to the left is
/// better.
pub fn recall_latency(title: &str, series: &[Series], format_x: &dyn Fn(f64) -> String) -> String {
    let xs = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| *x > 0.0);
    let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (lo, hi) = if lo.is_finite() {
        (lo / 1.5, hi * 1.5)
    } else {
        (1.0, 10.0)
    };
    svg(|root| {
        let mut chart = builder(root, title)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1.05)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("p99 latency")
            .y_desc("recall")
            .x_label_formatter(&|x| format_x(*x))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in series.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(|e| e.to_string())?;
        }
        lines(&mut chart, series, SeriesLabelPosition::LowerRight)
    })
}

/// One point of a sweep chart: x, the ratio, and its interval.
pub type RatioPoint = (f64, f64, Option<(f64, f64)>);

/// One series of a sweep chart.
pub struct RatioSeries {
    pub name: String,
    pub points: Vec<RatioPoint>,
}

/// Goal ratios against the swept value: a line per variant, its 95%
/// interval as a bar at each value, and the line of no change at 1; both
/// axes logarithmic (x only when every value is positive).
pub fn ratio_sweep(title: &str, x_desc: &str, series: &[RatioSeries], format_x: &dyn Fn(f64) -> String) -> String {
    // Every ratio and interval end, and 1, must fit the y axis.
    let extent: Vec<Series> = series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            points: s
                .points
                .iter()
                .flat_map(|&(x, y, ci)| {
                    let (lo, hi) = ci.unwrap_or((y, y));
                    [(x, y), (x, lo), (x, hi), (x, 1.0)]
                })
                .collect(),
        })
        .collect();
    let (lo, hi) = y_range(&extent, true);
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if !x_lo.is_finite() {
        return "<p class=\"note\">chart not drawn: no value was measured</p>".into();
    }
    let y = (lo..hi).log_scale();
    svg(|root| {
        if x_lo > 0.0 {
            let x = (x_lo / 1.3, x_hi * 1.3);
            let chart = builder(root, title)
                .build_cartesian_2d((x.0..x.1).log_scale(), y)
                .map_err(|e| e.to_string())?;
            draw_ratios(chart, x, x_desc, series, format_x)
        } else {
            let pad = (x_hi - x_lo).max(1.0) * 0.05;
            let x = (x_lo - pad, x_hi + pad);
            let chart = builder(root, title)
                .build_cartesian_2d(x.0..x.1, y)
                .map_err(|e| e.to_string())?;
            draw_ratios(chart, x, x_desc, series, format_x)
        }
    })
}

/// The mesh, the line at 1, interval bars and lines of a sweep chart on
/// either x axis.
fn draw_ratios<'a, X, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    (x0, x1): (f64, f64),
    x_desc: &str,
    series: &[RatioSeries],
    format_x: &dyn Fn(f64) -> String,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("goal ratio to the baseline (below 1: better)")
        .x_label_formatter(&|x| format_x(*x))
        .y_label_formatter(&|y| format!("{y:.2}×"))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x0, 1.0), (x1, 1.0)],
            BLACK.stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;
    for (i, s) in series.iter().enumerate() {
        let c = colour(i);
        let bars = s
            .points
            .iter()
            .filter_map(|&(x, _, ci)| ci.map(|(a, b)| PathElement::new(vec![(x, a), (x, b)], c.stroke_width(1))));
        chart.draw_series(bars).map_err(|e| e.to_string())?;
    }
    let lines_of: Vec<Series> = series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            points: s.points.iter().map(|&(x, y, _)| (x, y)).collect(),
        })
        .collect();
    lines(&mut chart, &lines_of, SeriesLabelPosition::UpperRight)
}

/// One bar per variant.
pub fn bars(title: &str, labels: &[String], values: &[f64], format: &dyn Fn(f64) -> String) -> String {
    let hi = values.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.15;
    let n = labels.len().max(1);
    svg(|root| {
        let mut chart = builder(root, title)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|y| format(*y))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *v)],
                    colour(i).filled(),
                );
                bar.set_margin(0, 0, 20, 20);
                bar
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// The lowest and highest y of all points (positive ones for a log axis),
/// with a little room.
fn y_range(series: &[Series], log: bool) -> (f64, f64) {
    let ys = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite() && (!log || *y > 0.0));
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    if log {
        (lo / 1.5, (hi * 1.5).max(lo * 2.0))
    } else {
        (0.0, (hi * 1.1).max(1.0))
    }
}

/// Draws each series as a line with a legend entry.
fn lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, s) in series.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spectrum_axis_is_labelled_in_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(2000.0), "99.95%");
        let xs = spectrum_xs(1000.0);
        assert_eq!(xs.first().copied(), Some(1.0));
        assert!((xs.last().unwrap() - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn a_chart_is_one_svg_with_a_line_per_series() {
        let series = vec![
            Series {
                name: "a".into(),
                points: vec![(1.0, 100.0), (10.0, 200.0), (100.0, 900.0)],
            },
            Series {
                name: "b".into(),
                points: vec![(1.0, 50.0), (10.0, 80.0), (100.0, 300.0)],
            },
        ];
        let svg = spectrum("op", &series);
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        // Two lines and two legend marks; the grid's lines are thinner.
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 2 + 2);
        assert!(svg.contains("99%"), "the tail is labelled");
    }
}
