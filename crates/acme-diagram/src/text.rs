//! Text measurement without a font file: boxes are sized from estimated text widths.
//!
//! The SVG names a font stack (`FONT_FAMILY`) rather than embedding a font, so the width of a
//! line depends on which font the viewer has. The advance widths below are DejaVu Sans's (and
//! Verdana's, which it matches), the widest of the common sans-serif faces: Helvetica, Arial
//! and Liberation Sans are narrower on every ASCII glyph. Sizing boxes for the widest face, plus
//! a margin, keeps text inside its box whichever of them renders it.

/// The font stack of every text element; measured as DejaVu Sans (see the module doc).
pub const FONT_FAMILY: &str = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', Verdana, sans-serif";

/// Safety margin on every measured width, for hinting and for faces wider than DejaVu Sans.
const WIDTH_MARGIN: f64 = 1.06;

/// Advance widths of ASCII 32..=126 in thousandths of an em: DejaVu Sans Book.
const REGULAR: [u16; 95] = [
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, // ' '..'/'
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, // '0'..'?'
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, // '@'..'O'
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, // 'P'..'_'
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, // '`'..'o'
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838, // 'p'..'~'
];

/// Advance widths of ASCII 32..=126 in thousandths of an em: DejaVu Sans Bold.
const BOLD: [u16; 95] = [
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, // ' '..'/'
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, // '0'..'?'
    1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, // '@'..'O'
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, // 'P'..'_'
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, // '`'..'o'
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838, // 'p'..'~'
];

/// The text styles a diagram uses; each has one size and weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Style {
    /// The diagram's title.
    Heading,
    /// A node's name.
    Title,
    /// A node's details.
    Body,
    /// Small print: subtitles, legend text, captions.
    Note,
    /// A highlighted tag drawn as a pill (`WebSocket`).
    Badge,
    /// A group's label (`VPC 10.20.0.0/16`).
    Group,
}

impl Style {
    pub fn size(self) -> f64 {
        match self {
            Style::Heading => 20.0,
            Style::Title => 14.0,
            Style::Body => 12.0,
            Style::Note | Style::Badge => 11.0,
            Style::Group => 12.5,
        }
    }

    pub fn bold(self) -> bool {
        matches!(self, Style::Heading | Style::Title | Style::Badge | Style::Group)
    }

    /// Height of the line box: the font size plus leading (a badge also gets its pill padding).
    pub fn line_height(self) -> f64 {
        match self {
            Style::Badge => self.size() + 9.0,
            _ => (self.size() * 1.35).round(),
        }
    }

    /// Distance from the line box's top to the baseline.
    pub fn ascent(self) -> f64 {
        let leading = self.line_height() - self.size();
        leading / 2.0 + self.size() * 0.8
    }

    /// Extra width around the text (a badge's pill).
    pub fn padding(self) -> f64 {
        if self == Style::Badge { 14.0 } else { 0.0 }
    }
}

/// Estimated advance width of `text` in `style`, in pixels, conservatively rounded up.
pub fn width(text: &str, style: Style) -> f64 {
    let table = if style.bold() { &BOLD } else { &REGULAR };
    let em: u32 = text.chars().map(|c| advance(c, table)).sum();
    (f64::from(em) * style.size() / 1000.0 * WIDTH_MARGIN).ceil() + style.padding()
}

fn advance(c: char, table: &[u16; 95]) -> u32 {
    match c {
        ' '..='~' => u32::from(table[c as usize - 32]),
        '·' => u32::from(table[usize::from(b'.' - 32)]),
        '–' => 500,
        // Arrows, dashes, ellipsis and anything unknown: a full em, the widest a glyph usually is.
        _ => 1000,
    }
}

/// Splits `text` into lines no wider than `max` pixels, breaking after a space where it can,
/// else after `.`, `/`, `-` or `,`, and inside a word where it must. Long DNS names and paths
/// stay readable.
pub fn wrap(text: &str, style: Style, max: f64) -> Vec<String> {
    let mut lines = vec![];
    let mut rest: &str = text;
    while width(rest, style) > max {
        let chars: Vec<(usize, char)> = rest.char_indices().collect();
        // The longest prefix that fits, at least one character so the loop always advances.
        let mut fit = 1;
        while fit < chars.len() && width(&rest[..chars[fit].0], style) <= max {
            fit += 1;
        }
        let fit = fit.saturating_sub(1).max(1);
        let end = |i: usize| chars.get(i).map_or(rest.len(), |&(at, _)| at);
        // A space first ("private zone" / "internal.acme.example.com"), else a separator
        // inside the word, else wherever the line is full.
        let after = |seps: &[char]| (1..=fit).rev().find(|&i| seps.contains(&chars[i - 1].1));
        let cut = after(&[' ']).or_else(|| after(&['.', '/', '-', ','])).unwrap_or(fit);
        let (line, tail) = rest.split_at(end(cut));
        lines.push(line.trim_end().to_owned());
        rest = tail.trim_start();
    }
    if !rest.is_empty() || lines.is_empty() {
        lines.push(rest.to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_grow_with_text_and_weight() {
        assert!(width("www.acme.example.com", Style::Body) > width("www.acme", Style::Body));
        assert!(width("api", Style::Title) > width("api", Style::Body));
        assert_eq!(width("", Style::Body), 0.0);
    }

    #[test]
    fn measured_widths_are_at_least_dejavu_sans() {
        // "m" is 974/1000 em in DejaVu Sans; ten of them at 12 px are at least 116.9 px.
        assert!(width("mmmmmmmmmm", Style::Body) >= 116.9);
        // Non-ASCII falls back to a full em.
        assert!(width("→", Style::Body) >= 12.0);
    }

    #[test]
    fn wrap_breaks_at_separators_and_never_loses_text() {
        let host = "a-very-long-service-name.internal.acme.example.com";
        let lines = wrap(host, Style::Body, 120.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, Style::Body) <= 120.0), "{lines:?}");
        assert_eq!(lines.concat(), host);
        assert!(lines[0].ends_with('.') || lines[0].ends_with('-'), "{lines:?}");
    }

    #[test]
    fn wrap_cuts_a_word_with_no_separator() {
        let word = "x".repeat(80);
        let lines = wrap(&word, Style::Body, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
        // Narrower than one glyph: still one glyph a line, no endless loop.
        assert_eq!(wrap("abc", Style::Body, 1.0), ["a", "b", "c"]);
    }

    #[test]
    fn short_text_is_one_line() {
        assert_eq!(wrap("api", Style::Body, 100.0), ["api"]);
        assert_eq!(wrap("", Style::Body, 100.0), [""]);
    }
}
