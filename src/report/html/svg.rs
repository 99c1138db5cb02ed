//! The surface the report's charts are drawn on: plotters' SVG backend with text measured by
//! a fixed rule, so a chart is a pure function of its numbers on every target.
//!
//! plotters measures text with the font of the machine it runs on; in a WebAssembly build it
//! asks the browser's DOM, which a Web Worker does not have and a test cannot reproduce. An
//! SVG leaves the glyphs to the viewer anyway, so oversim estimates a label's box from its
//! length (the rule plotters uses without a font library) and draws legends itself. The
//! browser lab's charts are then byte for byte the command line's report. `clippy.toml`
//! forbids the plotters calls that would measure text behind this module's back.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};

use super::esc;

/// plotters' SVG backend, with [`text_size`] for measuring text.
pub(super) struct Svg<'a>(SVGBackend<'a>);

/// The area charts draw on.
pub(super) type Area<'a> = DrawingArea<Svg<'a>, Shift>;

pub(super) type Drawn = Result<(), Box<dyn std::error::Error>>;

/// The box of `text` at font `size` (pixels): 0.7 em per character, where an em is the
/// size over 1.24², and a line 1.24 em high.
pub(super) fn text_size(size: f64, text: &str) -> (u32, u32) {
    let em = size / 1.24 / 1.24;
    let width = (em * 0.7 * text.chars().count() as f64).round();
    let height = em.round() + (em * 0.24).round();
    (width as u32, height as u32)
}

type Failure = DrawingErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>;

impl DrawingBackend for Svg<'_> {
    type ErrorType = <SVGBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), Failure> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), Failure> {
        self.0.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Failure> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Failure> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Failure> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Failure> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Failure> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Failure> {
        self.0.fill_polygon(vert, style)
    }
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), Failure> {
        self.0.draw_text(text, style, pos)
    }
    fn estimate_text_size<T: BackendTextStyle>(&self, text: &str, style: &T) -> Result<(u32, u32), Failure> {
        Ok(text_size(style.size(), text))
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Result<(), Failure> {
        self.0.blit_bitmap(pos, size, src)
    }
}

/// One SVG chart of `width` × `height` pixels drawn by `draw` on a white ground; a chart
/// that cannot be drawn becomes a one-line message.
pub(super) fn svg(width: u32, height: u32, draw: impl FnOnce(&Area) -> Drawn) -> String {
    let mut out = String::new();
    {
        let root = Svg(SVGBackend::with_string(&mut out, (width, height))).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(|e| e.to_string().into())
            .and_then(|_| draw(&root));
        if let Err(e) = result {
            return format!("<p class=\"err\">chart not drawn: {}</p>", esc(&e.to_string()));
        }
        let _ = root.present();
    }
    out
}

/// A chart with its text alternative: named for screen readers (`role="img"` and its
/// title), and the numbers it draws as a table that opens under it.
pub(super) fn figure(title: &str, chart: String, head: &[&str], rows: &[Vec<String>]) -> String {
    let named = chart.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(title)),
        1,
    );
    let mut t = String::from("<table><tr>");
    for h in head {
        t.push_str(&format!("<th>{}</th>", esc(h)));
    }
    t.push_str("</tr>");
    for row in rows {
        t.push_str("<tr>");
        for cell in row {
            t.push_str(&format!("<td>{}</td>", esc(cell)));
        }
        t.push_str("</tr>");
    }
    t.push_str("</table>");
    format!(
        "<figure class=\"chart\">{named}<details><summary>{}: the numbers</summary>{t}</details></figure>",
        esc(title)
    )
}

/// A mean and its 95% interval, to three significant digits: `12.3 (11.9 – 12.7)`.
pub(super) fn with_interval(mean: f64, lo: f64, hi: f64) -> String {
    use crate::report::table::sig3;
    if lo == hi {
        sig3(mean)
    } else {
        format!("{} ({} – {})", sig3(mean), sig3(lo), sig3(hi))
    }
}

/// How a legend entry is marked: a dot (scatter) or a short line (line charts).
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    Dot,
    Line,
}

/// The width of a legend column for `entries` at `font`: the longest label, its mark and
/// margins.
pub(super) fn legend_width(entries: &[(String, Mark, RGBColor)], font: u32) -> u32 {
    if entries.is_empty() {
        return 0;
    }
    let text_w = (entries.iter())
        .map(|(label, _, _)| text_size(font as f64, label).0)
        .max()
        .unwrap_or(0);
    text_w + (LEGEND_MARK + 2 * LEGEND_MARGIN) as u32 + 10
}

const LEGEND_MARGIN: i32 = 10;
const LEGEND_MARK: i32 = 30;

/// A legend in `area` (a column beside the plot): one line per entry, its mark, colour and
/// label, on a white box, centred vertically.
pub(super) fn legend(area: &Area, entries: &[(String, Mark, RGBColor)], font: u32) -> Drawn {
    if entries.is_empty() {
        return Ok(());
    }
    let size = font as f64;
    let line = size * 1.25;
    let text_w = (entries.iter())
        .map(|(label, _, _)| text_size(size, label).0 as i32)
        .max()
        .unwrap_or(0);
    let text_h = text_size(size, "").1 as i32;
    let last = ((entries.len() - 1) as f64 * line).round() as i32;
    let (w, h) = (
        text_w + LEGEND_MARK + 2 * LEGEND_MARGIN,
        last + text_h + 2 * LEGEND_MARGIN,
    );
    let (_, ah) = area.dim_in_pixel();
    let (x0, y0) = (2, (ah as i32 - h) / 2);
    let corners = [(x0, y0), (x0 + w, y0 + h)];
    area.draw(&Rectangle::new(corners, WHITE.filled()))?;
    area.draw(&Rectangle::new(corners, BLACK.mix(0.3)))?;
    for (i, (label, mark, colour)) in entries.iter().enumerate() {
        let y = y0 + LEGEND_MARGIN + (i as f64 * line).round() as i32;
        area.draw(&Text::new(
            label.as_str(),
            (x0 + LEGEND_MARGIN + LEGEND_MARK, y),
            ("sans-serif", font),
        ))?;
        let (x, y) = (x0 + LEGEND_MARGIN, y + text_h / 2);
        match mark {
            Mark::Dot => area.draw(&Circle::new((x, y), 5, colour.filled()))?,
            Mark::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 18, y)],
                Color::stroke_width(colour, 2),
            ))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use plotters::style::IntoFont;

    /// On the command line the rule is plotters' own estimate (its font-less measure), so
    /// the fixed rule moved no label of the command line's charts.
    #[test]
    #[allow(clippy::disallowed_methods)]
    fn the_rule_is_plotters_estimate_without_a_font() {
        for (size, text) in [
            (12.0, "per-action"),
            (17.0, "Throughput and escapes"),
            (13.0, "0.45"),
            (11.0, ""),
        ] {
            let font = ("sans-serif", size).into_font();
            assert_eq!(
                super::text_size(size, text),
                font.box_size(text).unwrap(),
                "{text} at {size}"
            );
        }
    }
}
