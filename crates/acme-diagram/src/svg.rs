//! SVG from a laid-out sketch: plain SVG 1.1 with a small style sheet, no script, no external
//! references, no embedded font. Every node and arrow is a `<g>` with an id, `data-*`
//! attributes naming what it is in acme.yaml terms, and a `<title>` (a tooltip in browsers,
//! the accessible name for screen readers, and a handle for tests).

use crate::layout::{Anchor, Layout, PlacedText, Point, Rect, Sample};
use crate::sketch::{EdgeKind, NodeKind, Sketch};
use crate::text::{FONT_FAMILY, Style};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Renders the picture. Numbers are rounded to a tenth of a pixel, so the output is stable.
pub fn render(sketch: &Sketch, layout: &Layout) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let (w, h) = (num(layout.width), num(layout.height));
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="diagram-title diagram-desc">"#
    );
    let _ = writeln!(out, r#"<title id="diagram-title">{}</title>"#, esc(&sketch.title));
    let _ = writeln!(out, r#"<desc id="diagram-desc">{}</desc>"#, esc(&sketch.subtitle));
    out.push_str(&style_sheet());
    out.push_str(&markers(sketch));
    let _ = writeln!(out, r##"<rect class="background" width="{w}" height="{h}" fill="#FFFFFF"/>"##);
    text(&mut out, &layout.title, "#16191F");
    text(&mut out, &layout.subtitle, "#545B64");

    out.push_str("<g class=\"groups\">\n");
    for (group, b) in sketch.groups.iter().zip(&layout.groups) {
        if b.rect.w <= 0.0 {
            continue;
        }
        let _ = write!(out, r#"<g class="group" id="group-{}">"#, esc(&group.id));
        let dash = if group.dashed { r#" stroke-dasharray="8 4""# } else { "" };
        let _ = write!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}" stroke="{}" stroke-width="1.5"{dash}/>"#,
            num(b.rect.x),
            num(b.rect.y),
            num(b.rect.w),
            num(b.rect.h),
            group.fill,
            group.stroke
        );
        if let Some(label) = &b.label {
            text(&mut out, label, group.stroke);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n<g class=\"edges\">\n");
    let mut ids = BTreeSet::new();
    for (edge, route) in sketch.edges.iter().zip(&layout.edges) {
        let (from, to) = (&sketch.nodes[edge.from].id, &sketch.nodes[edge.to].id);
        let base = format!("edge-{}-{from}-{to}", edge.kind.slug());
        let id =
            (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}-{i}") }).find(|c| ids.insert(c.clone()));
        let _ = write!(
            out,
            r#"<g class="edge {kind}" id="{id}" data-kind="{kind}" data-from="{from}" data-to="{to}""#,
            kind = edge.kind.slug(),
            id = esc(&id.unwrap_or(base)),
            from = esc(from),
            to = esc(to),
        );
        for (key, value) in &edge.data {
            let _ = write!(out, r#" data-{key}="{}""#, esc(value));
        }
        let _ = write!(out, "><title>{}</title>", esc(&edge.title));
        let d = path(&route.points);
        let _ = write!(out, r#"<path class="halo" d="{d}"/>"#);
        let dash = edge.kind.dash().map(|d| format!(r#" stroke-dasharray="{d}""#)).unwrap_or_default();
        let _ = writeln!(
            out,
            r#"<path class="line" d="{d}" stroke="{}"{dash} marker-end="url(#arrow-{})"/></g>"#,
            edge.kind.color(),
            edge.kind.slug()
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for (node, b) in sketch.nodes.iter().zip(&layout.nodes) {
        let (stroke, fill) = node.kind.colors();
        let _ = write!(
            out,
            r#"<g class="node {kind}" id="node-{}" data-kind="{kind}""#,
            esc(&node.id),
            kind = node.kind.slug()
        );
        for (key, value) in &node.data {
            let _ = write!(out, r#" data-{key}="{}""#, esc(value));
        }
        let _ = write!(out, "><title>{}</title>", esc(&node.name));
        if node.kind != NodeKind::Caption {
            let width = if node.kind == NodeKind::Service { "1.5" } else { "1.2" };
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>"#,
                num(b.rect.x),
                num(b.rect.y),
                num(b.rect.w),
                num(b.rect.h)
            );
        }
        for line in &b.lines {
            let color = match line.style {
                Style::Title if node.kind != NodeKind::Service => stroke,
                Style::Note => "#545B64",
                _ => "#16191F",
            };
            if line.style == Style::Badge {
                badge(&mut out, line, &pill(&line.rect));
            } else {
                text(&mut out, line, color);
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
    legend(&mut out, layout);
    out.push_str("</svg>\n");
    out
}

fn style_sheet() -> String {
    let styles = [Style::Heading, Style::Title, Style::Body, Style::Note, Style::Badge, Style::Group];
    let mut css = format!("<style>\ntext {{ font-family: {FONT_FAMILY}; }}\n");
    for s in styles {
        let weight = if s.bold() { "bold" } else { "normal" };
        let _ = writeln!(css, ".t-{} {{ font-size: {}px; font-weight: {weight}; }}", class(s), num(s.size()));
    }
    css.push_str(".halo { fill: none; stroke: #FFFFFF; stroke-width: 5; }\n");
    css.push_str(".line { fill: none; stroke-width: 1.6; stroke-linejoin: round; }\n");
    css.push_str("</style>\n");
    css
}

/// One arrowhead per kind of arrow, in the arrow's colour.
fn markers(sketch: &Sketch) -> String {
    let kinds: BTreeSet<EdgeKind> = sketch.edges.iter().map(|e| e.kind).collect();
    let mut out = String::from("<defs>\n");
    for kind in kinds {
        let _ = writeln!(
            out,
            r#"<marker id="arrow-{}" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="6.5" markerHeight="6.5" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
            kind.slug(),
            kind.color()
        );
    }
    out.push_str("</defs>\n");
    out
}

fn legend(out: &mut String, layout: &Layout) {
    let l = &layout.legend;
    let _ = write!(
        out,
        r##"<g class="legend"><rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="#FAFAFA" stroke="#D5DBDB"/>"##,
        num(l.rect.x),
        num(l.rect.y),
        num(l.rect.w),
        num(l.rect.h)
    );
    text(out, &l.heading, "#16191F");
    for entry in &l.entries {
        match &entry.sample {
            Sample::Edge { kind, from, to } => {
                let dash = kind.dash().map(|d| format!(r#" stroke-dasharray="{d}""#)).unwrap_or_default();
                let _ = write!(
                    out,
                    r#"<path class="line" d="{}" stroke="{}"{dash} marker-end="url(#arrow-{})"/>"#,
                    path(&[*from, *to]),
                    kind.color(),
                    kind.slug()
                );
            }
            Sample::Node { kind, rect } => {
                let (stroke, fill) = kind.colors();
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>"#,
                    num(rect.x),
                    num(rect.y),
                    num(rect.w),
                    num(rect.h)
                );
            }
            Sample::Badge { label } => badge(out, label, &label.rect),
        }
        text(out, &entry.text, "#16191F");
    }
    out.push_str("</g>\n");
}

/// A badge's pill: its line box less a little air above and below.
fn pill(line: &Rect) -> Rect {
    Rect { x: line.x, y: line.y + 2.0, w: line.w, h: line.h - 4.0 }
}

fn badge(out: &mut String, line: &PlacedText, pill: &Rect) {
    let _ = write!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="#B0084D"/>"##,
        num(pill.x),
        num(pill.y),
        num(pill.w),
        num(pill.h),
        num(pill.h / 2.0)
    );
    text(out, line, "#FFFFFF");
}

fn text(out: &mut String, t: &PlacedText, color: &str) {
    let anchor = if t.anchor == Anchor::Middle { r#" text-anchor="middle""# } else { "" };
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" class="t-{}" fill="{color}"{anchor}>{}</text>"#,
        num(t.x),
        num(t.baseline),
        class(t.style),
        esc(&t.text)
    );
}

fn class(s: Style) -> &'static str {
    match s {
        Style::Heading => "heading",
        Style::Title => "title",
        Style::Body => "body",
        Style::Note => "note",
        Style::Badge => "badge",
        Style::Group => "group",
    }
}

fn path(points: &[Point]) -> String {
    let mut d = String::new();
    for (i, p) in points.iter().enumerate() {
        let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { " L" }, num(p.x), num(p.y));
    }
    d
}

/// A number with at most one decimal, without `-0` or a trailing `.0`.
pub fn num(v: f64) -> String {
    let tenths = (v * 10.0).round();
    if tenths == 0.0 {
        return "0".to_owned();
    }
    if tenths % 10.0 == 0.0 { format!("{}", tenths / 10.0) } else { format!("{:.1}", tenths / 10.0) }
}

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.04), "12");
        assert_eq!(num(12.06), "12.1");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(-3.5), "-3.5");
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(esc(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(esc("bell\u{7}"), "bell");
    }
}
