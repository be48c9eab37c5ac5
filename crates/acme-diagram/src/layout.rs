//! Grid layout with channel routing: from a [`Sketch`] to coordinates, with no two boxes, labels
//! or arrow segments on top of each other, by construction.
//!
//! The grid has *layers* along the flow (rows top to bottom, or columns left to right) and
//! *columns* across it. Between two layers runs a horizontal channel `H[l]` (before layer `l`),
//! between two columns a vertical channel `V[c]`; boxes fill their cells, arrows run only in
//! channels. An arrow leaves its node through the side facing the other node's layer, runs
//! along that channel, if needed turns into a vertical channel that no spanning node blocks,
//! and enters the other node from the channel next to it. Nodes side by side in one layer are
//! joined by a straight arrow between them.
//!
//! Nothing is placed before the routing is known: every arrow gets a *port* of its own on the
//! node side (distinct positions, so stubs never share a line), then every segment a *track*
//! of its own in its channel (greedy interval colouring, so parallel segments never share a
//! line), and only then are channel widths fixed from their track counts and column widths
//! from the measured text. Group borders and labels get their own slots at the channel edges,
//! outside the tracks. [`Layout::problems`] checks the result geometrically; the tests run it
//! over the bundled platform and generated ones.
//!
//! Everything is computed in abstract (major, minor) coordinates, major along the flow, and
//! mapped to x/y at the end, so one router serves both flows.

use crate::sketch::{Cell, EdgeKind, Flow, NodeKind, Sketch};
use crate::text::{self, Style};
use std::collections::BTreeMap;

/// Inner padding of a node box.
const NODE_PAD_MINOR: f64 = 12.0;
const NODE_PAD: f64 = 9.0;
const MIN_NODE_WIDTH: f64 = 110.0;
const MIN_NODE_HEIGHT: f64 = 44.0;
/// Free space on each side of a channel's tracks; also the shortest arrow stub.
const MARGIN: f64 = 15.0;
/// Distance between parallel tracks in one channel.
const TRACK_GAP: f64 = 9.0;
/// Distance between nested group borders.
const GROUP_GAP: f64 = 10.0;
/// Space around a group's label.
const LABEL_GAP: f64 = 6.0;
/// Page margin around everything.
const PAGE: f64 = 24.0;
/// Horizontal space of one legend sample (line or swatch).
const SAMPLE: f64 = 38.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// True when the two overlap or come closer than `gap`.
    pub fn near(&self, other: &Rect, gap: f64) -> bool {
        self.x < other.right() + gap
            && other.x < self.right() + gap
            && self.y < other.bottom() + gap
            && other.y < self.bottom() + gap
    }

    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x && other.y >= self.y && other.right() <= self.right() && other.bottom() <= self.bottom()
    }

    fn union(&self, other: &Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        Rect { x, y, w: self.right().max(other.right()) - x, h: self.bottom().max(other.bottom()) - y }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
}

/// A line of text at its final place: `x` is its start or middle (see `anchor`), `rect` the
/// box it is estimated to cover.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedText {
    pub text: String,
    pub style: Style,
    pub anchor: Anchor,
    pub x: f64,
    pub baseline: f64,
    pub rect: Rect,
}

impl PlacedText {
    fn at(text: &str, style: Style, anchor: Anchor, x: f64, top: f64) -> PlacedText {
        let w = text::width(text, style);
        let left = if anchor == Anchor::Middle { x - w / 2.0 } else { x };
        PlacedText {
            text: text.to_owned(),
            style,
            anchor,
            x,
            baseline: top + style.ascent(),
            rect: Rect { x: left, y: top, w, h: style.line_height() },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub rect: Rect,
    pub lines: Vec<PlacedText>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupBox {
    pub rect: Rect,
    pub label: Option<PlacedText>,
}

/// An arrow as an orthogonal polyline, from its source's border to its target's border.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub points: Vec<Point>,
}

impl Route {
    /// The straight pieces of the polyline.
    pub fn segments(&self) -> impl Iterator<Item = (Point, Point)> + '_ {
        self.points.windows(2).map(|w| (w[0], w[1]))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Sample {
    Edge { kind: EdgeKind, from: Point, to: Point },
    Node { kind: NodeKind, rect: Rect },
    Badge { label: PlacedText },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub sample: Sample,
    pub text: PlacedText,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    pub rect: Rect,
    pub heading: PlacedText,
    pub entries: Vec<LegendEntry>,
}

/// The laid-out diagram: everything at its final coordinates, in the sketch's order (node `i`
/// of the sketch is `nodes[i]`, and so on).
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub title: PlacedText,
    pub subtitle: PlacedText,
    pub nodes: Vec<NodeBox>,
    pub groups: Vec<GroupBox>,
    pub edges: Vec<Route>,
    pub legend: Legend,
}

/// Maps (major, minor) to x/y for the sketch's flow.
#[derive(Clone, Copy)]
struct Axes(Flow);

impl Axes {
    fn point(self, major: f64, minor: f64) -> Point {
        match self.0 {
            Flow::TopDown => Point { x: minor, y: major },
            Flow::LeftRight => Point { x: major, y: minor },
        }
    }

    fn rect(self, major: (f64, f64), minor: (f64, f64)) -> Rect {
        let a = self.point(major.0, minor.0);
        let b = self.point(major.1, minor.1);
        Rect { x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y }
    }

    /// (major, minor) extents of a box `w` wide and `h` high.
    fn extents(self, w: f64, h: f64) -> (f64, f64) {
        match self.0 {
            Flow::TopDown => (h, w),
            Flow::LeftRight => (w, h),
        }
    }
}

/// Which side of a node an arrow leaves or enters, along the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Before,
    After,
}

/// How one edge is routed, decided from the cells alone.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Neighbours in one layer: a straight arrow between their facing sides.
    Beside,
    /// Through channels: out of `from` into `H[exit]`, optionally along `V[via]`, into `to`
    /// from `H[entry]`. `pair`: both ports share one position and the arrow is straight.
    Channels {
        exit: usize,
        exit_side: Side,
        entry: usize,
        entry_side: Side,
        via: Option<usize>,
        from_column: usize,
        to_column: usize,
        pair: bool,
    },
}

/// One straight piece of a route that lives in a channel, before it has a track.
#[derive(Clone, Copy, Debug)]
struct Segment {
    edge: usize,
    /// Position along the channel in half-cell units (`V[c]` at `2c`, column `c` around `2c+1`;
    /// `H[l]` at `2l`, layer `l` at `2l+1`).
    lo: f64,
    hi: f64,
    /// Which gap between the channel's group borders the segment runs in (see [`Channel`]).
    zone: usize,
}

/// Two segments closer than this (in half-cell units) may not share a track: ends in the same
/// channel crossing or in neighbouring ports would read as one line.
const CONFLICT: f64 = 1.0;

/// One channel: the group borders that fall in it and the tracks of its segments.
///
/// Across the channel come, in order: the borders of groups that end before it (innermost
/// first), then the borders of groups that start after it (outermost first, each with room for
/// its label). The gaps between borders are *zones*; a segment runs in the zone that keeps it
/// inside exactly the groups holding both ends of its edge, so a call between two services
/// never strays outside the cluster's border and an arrow to a bucket leaves it.
#[derive(Default, Clone)]
struct Channel {
    /// Depths of groups ending just before the channel, innermost first.
    closing: Vec<usize>,
    /// Depths of groups starting just after it, outermost first, with the room each depth's
    /// label needs along the channel's width.
    opening: Vec<(usize, f64)>,
    segments: Vec<Segment>,
    /// Track of each segment, counted within its zone.
    track: Vec<usize>,
    /// Tracks per zone; `closing.len() + opening.len() + 1` zones.
    zone_tracks: Vec<usize>,
}

impl Channel {
    fn zones(&self) -> usize {
        self.closing.len() + self.opening.len() + 1
    }

    /// The zone for a segment whose edge lies inside the groups of these depths that end
    /// (`closing`) or start (`opening`) at this channel.
    fn zone(&self, closing: Option<usize>, opening: Option<usize>) -> usize {
        match (closing, opening) {
            (Some(d), _) => self.closing.iter().filter(|&&c| c > d).count(),
            (None, Some(d)) => self.closing.len() + self.opening.iter().filter(|&&(o, _)| o <= d).count(),
            (None, None) => self.closing.len(),
        }
    }

    /// Greedy interval colouring per zone, segments by their start: the fewest tracks.
    fn assign(&mut self) {
        let mut order: Vec<usize> = (0..self.segments.len()).collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.segments[a], &self.segments[b]);
            sa.zone
                .cmp(&sb.zone)
                .then(sa.lo.total_cmp(&sb.lo))
                .then(sa.hi.total_cmp(&sb.hi))
                .then(sa.edge.cmp(&sb.edge))
        });
        let mut taken: Vec<Vec<Vec<(f64, f64)>>> = vec![vec![]; self.zones()];
        self.track = vec![0; self.segments.len()];
        for i in order {
            let s = self.segments[i];
            let zone = &mut taken[s.zone];
            let free = |on: &Vec<(f64, f64)>| on.iter().all(|&(lo, hi)| s.lo > hi + CONFLICT || lo > s.hi + CONFLICT);
            let t = zone.iter().position(free).unwrap_or(zone.len());
            if t == zone.len() {
                zone.push(vec![]);
            }
            zone[t].push((s.lo, s.hi));
            self.track[i] = t;
        }
        self.zone_tracks = taken.iter().map(Vec::len).collect();
    }

    fn zone_size(&self, zone: usize) -> f64 {
        match self.zone_tracks.get(zone).copied().unwrap_or(0) {
            0 => 0.0,
            n => (n + 1) as f64 * TRACK_GAP,
        }
    }

    /// Room taken by the `i`-th border (closing ones first) and its label.
    fn border_size(&self, i: usize) -> f64 {
        GROUP_GAP + if i < self.closing.len() { 0.0 } else { self.opening[i - self.closing.len()].1 }
    }

    /// Offsets from the channel's start: of each zone's first track slot, of each border.
    fn offsets(&self) -> (Vec<f64>, Vec<f64>) {
        let borders = self.closing.len() + self.opening.len();
        let (mut zones, mut lines) = (vec![], vec![]);
        let mut at = MARGIN;
        for i in 0..=borders {
            zones.push(at);
            at += self.zone_size(i);
            if i < borders {
                lines.push(at + GROUP_GAP / 2.0);
                at += self.border_size(i);
            }
        }
        (zones, lines)
    }

    fn size(&self) -> f64 {
        let borders = self.closing.len() + self.opening.len();
        2.0 * MARGIN
            + (0..=borders).map(|z| self.zone_size(z)).sum::<f64>()
            + (0..borders).map(|b| self.border_size(b)).sum::<f64>()
    }

    /// Offset of the edge's track from the channel's start.
    fn track_offset(&self, edge: usize) -> f64 {
        let Some(i) = self.segments.iter().position(|s| s.edge == edge) else { return MARGIN };
        let (zones, _) = self.offsets();
        zones[self.segments[i].zone] + (self.track[i] + 1) as f64 * TRACK_GAP
    }

    fn closing_offset(&self, depth: usize) -> f64 {
        let i = self.closing.iter().position(|&d| d == depth).unwrap_or(0);
        self.offsets().1[i]
    }

    fn opening_offset(&self, depth: usize) -> f64 {
        let i = self.opening.iter().position(|&(d, _)| d == depth).unwrap_or(0);
        self.offsets().1[self.closing.len() + i]
    }
}

/// One axis of the grid: channel and cell sizes, and where each starts.
struct Axis {
    /// `channels[i]` lies before cell `i` (the last one after the last cell).
    channels: Vec<Channel>,
    cell: Vec<f64>,
    origin: f64,
}

impl Axis {
    fn new(cells: usize) -> Axis {
        Axis { channels: vec![Channel::default(); cells + 1], cell: vec![0.0; cells], origin: 0.0 }
    }

    fn channel_start(&self, i: usize) -> f64 {
        self.origin + self.channels[..i].iter().map(Channel::size).sum::<f64>() + self.cell[..i].iter().sum::<f64>()
    }

    fn cell_start(&self, i: usize) -> f64 {
        self.channel_start(i) + self.channels[i].size()
    }

    fn cell_end(&self, i: usize) -> f64 {
        self.cell_start(i) + self.cell[i]
    }

    fn end(&self) -> f64 {
        let last = self.cell.len();
        self.channel_start(last) + self.channels[last].size()
    }

    fn track(&self, channel: usize, edge: usize) -> f64 {
        self.channel_start(channel) + self.channels[channel].track_offset(edge)
    }

    fn closing_border(&self, channel: usize, depth: usize) -> f64 {
        self.channel_start(channel) + self.channels[channel].closing_offset(depth)
    }

    fn opening_border(&self, channel: usize, depth: usize) -> f64 {
        self.channel_start(channel) + self.channels[channel].opening_offset(depth)
    }
}

/// Ports of one channel and column: which edge ends sit there, in order.
#[derive(Default)]
struct PortRow {
    /// (sort key, edge, is the `to` end); a pair has one entry for both ends.
    ends: Vec<(f64, usize, bool)>,
}

/// Measured size of a node's content: (width, height) in pixels.
fn measure(lines: &[crate::sketch::Line], kind: NodeKind) -> (f64, f64) {
    let w = lines.iter().map(|l| text::width(&l.text, l.style)).fold(0.0, f64::max);
    let h: f64 = lines.iter().map(|l| l.style.line_height()).sum();
    if kind == NodeKind::Caption {
        (w + 8.0, h + 8.0)
    } else {
        ((w + 2.0 * NODE_PAD_MINOR).max(MIN_NODE_WIDTH), (h + 2.0 * NODE_PAD).max(MIN_NODE_HEIGHT))
    }
}

/// The group's cell range: (first layer, last layer, first column, last column).
fn group_ranges(sketch: &Sketch) -> Vec<Option<(usize, usize, usize, usize)>> {
    let mut ranges: Vec<Option<(usize, usize, usize, usize)>> = vec![None; sketch.groups.len()];
    let mut widen = |g: usize, c: &Cell| {
        let r = (c.layer, c.layer, c.column, c.end() - 1);
        ranges[g] = Some(match ranges[g] {
            None => r,
            Some((l0, l1, c0, c1)) => (l0.min(r.0), l1.max(r.1), c0.min(r.2), c1.max(r.3)),
        });
    };
    for node in &sketch.nodes {
        for g in sketch.ancestors(node.group) {
            widen(g, &node.cell);
        }
    }
    for (g, group) in sketch.groups.iter().enumerate() {
        for cell in &group.covers {
            for a in sketch.ancestors(Some(g)) {
                widen(a, cell);
            }
        }
    }
    ranges
}

/// Lays the sketch out. Deterministic: the same sketch gives the same layout, bit for bit.
pub fn layout(sketch: &Sketch) -> Layout {
    let axes = Axes(sketch.flow);
    let layers = sketch.nodes.iter().map(|n| n.cell.layer + 1).max().unwrap_or(0);
    let columns = sketch.nodes.iter().map(|n| n.cell.end()).max().unwrap_or(0);
    let cells: Vec<&Cell> = sketch.nodes.iter().map(|n| &n.cell).collect();

    // 1. Plans, from the cells alone.
    let plans: Vec<Plan> = sketch.edges.iter().map(|e| plan(&cells, cells[e.from], cells[e.to], columns)).collect();

    // 2. Ports: one position per edge end on each (channel, column), ordered toward where the
    //    segment goes, so that arrows leaving one side fan out without crossing each other.
    let mut ports: BTreeMap<(usize, usize), PortRow> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        if let Plan::Channels { exit, entry, via, from_column, to_column, pair, .. } = *p {
            let toward = |other: usize| via.map_or(2.0 * other as f64 + 1.0, |v| 2.0 * v as f64);
            if pair {
                ports.entry((exit, from_column)).or_default().ends.push((2.0 * from_column as f64 + 1.0, i, false));
            } else {
                ports.entry((exit, from_column)).or_default().ends.push((toward(to_column), i, false));
                ports.entry((entry, to_column)).or_default().ends.push((toward(from_column), i, true));
            }
        }
    }
    // (edge, is the to end) -> (channel, column, slot, slots)
    let mut slot_of: BTreeMap<(usize, bool), (usize, usize, usize, usize)> = BTreeMap::new();
    for (&(channel, column), row) in ports.iter_mut() {
        row.ends.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let n = row.ends.len();
        for (slot, &(_, edge, to_end)) in row.ends.iter().enumerate() {
            slot_of.insert((edge, to_end), (channel, column, slot, n));
            if matches!(plans[edge], Plan::Channels { pair: true, .. }) {
                slot_of.insert((edge, true), (channel, column, slot, n));
            }
        }
    }
    let port_key = |edge: usize, to_end: bool| -> f64 {
        let (_, column, slot, n) = slot_of[&(edge, to_end)];
        2.0 * column as f64 + 0.5 + (slot + 1) as f64 / (n + 1) as f64
    };

    // 3. Group borders claim slots across the channels at their edges.
    let ranges = group_ranges(sketch);
    let mut major = Axis::new(layers);
    let mut minor = Axis::new(columns);
    // Measured once: a label needs room along the flow (in the channel before the group) and
    // across it (over the group's first column).
    let labels: Vec<Option<(f64, f64)>> = sketch
        .groups
        .iter()
        .map(|g| g.label().map(|l| axes.extents(text::width(l, Style::Group), Style::Group.line_height())))
        .collect();
    for (g, range) in ranges.iter().enumerate() {
        let Some((l0, l1, c0, c1)) = *range else { continue };
        let depth = sketch.depth(g);
        let label = labels[g].map_or(0.0, |(along, _)| along + LABEL_GAP);
        major.channels[l0].opening.push((depth, label));
        major.channels[l1 + 1].closing.push(depth);
        minor.channels[c0].opening.push((depth, 0.0));
        minor.channels[c1 + 1].closing.push(depth);
    }
    for channel in major.channels.iter_mut().chain(minor.channels.iter_mut()) {
        channel.closing.sort_unstable_by(|a, b| b.cmp(a));
        channel.closing.dedup();
        channel.opening.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        channel.opening.dedup_by_key(|o| o.0);
    }

    // 4. Segments in channels, each in the zone of the groups around both its ends; then tracks.
    let zone = |channel: &Channel, edge: usize, index: usize, vertical: bool| -> usize {
        let e = &sketch.edges[edge];
        let from = sketch.ancestors(sketch.nodes[e.from].group);
        let common: Vec<usize> =
            sketch.ancestors(sketch.nodes[e.to].group).into_iter().filter(|g| from.contains(g)).collect();
        let depth_where = |starts: bool| {
            common
                .iter()
                .filter(|&&g| {
                    ranges[g].is_some_and(|(l0, l1, c0, c1)| match (vertical, starts) {
                        (false, true) => l0 == index,
                        (false, false) => l1 + 1 == index,
                        (true, true) => c0 == index,
                        (true, false) => c1 + 1 == index,
                    })
                })
                .map(|&g| sketch.depth(g))
                .max()
        };
        channel.zone(depth_where(false), depth_where(true))
    };
    for (i, p) in plans.iter().enumerate() {
        if let Plan::Channels { exit, entry, via, pair: false, .. } = *p {
            let (a, b) = (port_key(i, false), port_key(i, true));
            let push = |axis: &mut Axis, at: usize, lo: f64, hi: f64, vertical: bool| {
                let z = zone(&axis.channels[at], i, at, vertical);
                axis.channels[at].segments.push(Segment { edge: i, lo: lo.min(hi), hi: lo.max(hi), zone: z });
            };
            match via {
                None => push(&mut major, exit, a, b, false),
                Some(v) => {
                    let v2 = 2.0 * v as f64;
                    push(&mut major, exit, a, v2, false);
                    push(&mut major, entry, b, v2, false);
                    push(&mut minor, v, 2.0 * exit as f64, 2.0 * entry as f64, true);
                }
            }
        }
    }
    major.channels.iter_mut().chain(minor.channels.iter_mut()).for_each(Channel::assign);

    // 5. Cell sizes from the measured nodes; a group's label must fit over its first column.
    let measured: Vec<(f64, f64)> = sketch.nodes.iter().map(|n| axes.extents_of(measure(&n.lines, n.kind))).collect();
    for (n, &(along, across)) in sketch.nodes.iter().zip(&measured) {
        major.cell[n.cell.layer] = major.cell[n.cell.layer].max(along);
        if n.cell.span == 1 {
            minor.cell[n.cell.column] = minor.cell[n.cell.column].max(across);
        }
    }
    for (range, label) in ranges.iter().zip(&labels) {
        if let (Some((_, _, c0, _)), Some((_, across))) = (range, label) {
            minor.cell[*c0] = minor.cell[*c0].max(across + LABEL_GAP);
        }
    }
    // Spanning nodes: widen their last column until they fit. Each pass only grows cells.
    for _ in 0..=sketch.nodes.len() {
        let mut grown = false;
        for (n, &(_, across)) in sketch.nodes.iter().zip(&measured) {
            let last = n.cell.end() - 1;
            let have = minor.cell_end(last) - minor.cell_start(n.cell.column);
            if have + 1e-9 < across {
                minor.cell[last] += across - have;
                grown = true;
            }
        }
        if !grown {
            break;
        }
    }

    // 6. Title above, grid below it.
    let title = PlacedText::at(&sketch.title, Style::Heading, Anchor::Start, PAGE, PAGE);
    let subtitle = PlacedText::at(&sketch.subtitle, Style::Note, Anchor::Start, PAGE, title.rect.bottom() + 2.0);
    let top = subtitle.rect.bottom() + 8.0;
    let origin = axes.extents(PAGE, top);
    major.origin = origin.0;
    minor.origin = origin.1;

    let nodes: Vec<NodeBox> = sketch
        .nodes
        .iter()
        .map(|n| {
            let rect = axes.rect(
                (major.cell_start(n.cell.layer), major.cell_end(n.cell.layer)),
                (minor.cell_start(n.cell.column), minor.cell_end(n.cell.end() - 1)),
            );
            NodeBox { rect, lines: place_lines(&n.lines, &rect) }
        })
        .collect();

    let groups: Vec<GroupBox> = ranges
        .iter()
        .enumerate()
        .map(|(g, range)| {
            let Some((l0, l1, c0, c1)) = *range else {
                return GroupBox { rect: Rect { x: 0.0, y: 0.0, w: 0.0, h: 0.0 }, label: None };
            };
            let depth = sketch.depth(g);
            let top = major.opening_border(l0, depth);
            let left = minor.opening_border(c0, depth);
            let rect =
                axes.rect((top, major.closing_border(l1 + 1, depth)), (left, minor.closing_border(c1 + 1, depth)));
            let label = sketch.groups[g].label().map(|l| {
                let corner = axes.point(top, left);
                PlacedText::at(l, Style::Group, Anchor::Start, corner.x + 8.0, corner.y + LABEL_GAP / 2.0)
            });
            GroupBox { rect, label }
        })
        .collect();

    // 7. Routes.
    let mut beside: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        if matches!(p, Plan::Beside) {
            let e = &sketch.edges[i];
            beside.entry((e.from.min(e.to), e.from.max(e.to))).or_default().push(i);
        }
    }
    let port_position = |edge: usize, to_end: bool| -> f64 {
        let (_, column, slot, n) = slot_of[&(edge, to_end)];
        minor.cell_start(column) + minor.cell[column] * (slot + 1) as f64 / (n + 1) as f64
    };
    let side = |node: usize, s: Side| -> f64 {
        let l = cells[node].layer;
        if s == Side::After { major.cell_end(l) } else { major.cell_start(l) }
    };
    let edges: Vec<Route> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let e = &sketch.edges[i];
            let mut points: Vec<(f64, f64)> = vec![];
            match *p {
                Plan::Beside => {
                    let key = (e.from.min(e.to), e.from.max(e.to));
                    let siblings = &beside[&key];
                    let k = siblings.iter().position(|&s| s == i).unwrap_or(0);
                    let l = cells[e.from].layer;
                    let at = major.cell_start(l) + major.cell[l] * (k + 1) as f64 / (siblings.len() + 1) as f64;
                    let (a, b) = (cells[e.from], cells[e.to]);
                    if a.end() <= b.column {
                        points.push((at, minor.cell_end(a.end() - 1)));
                        points.push((at, minor.cell_start(b.column)));
                    } else {
                        points.push((at, minor.cell_start(a.column)));
                        points.push((at, minor.cell_end(b.end() - 1)));
                    }
                }
                Plan::Channels { exit, exit_side, entry, entry_side, via, pair, .. } => {
                    let pa = port_position(i, false);
                    let pb = port_position(i, true);
                    points.push((side(e.from, exit_side), pa));
                    if !pair {
                        let ta = major.track(exit, i);
                        points.push((ta, pa));
                        if let Some(v) = via {
                            let x = minor.track(v, i);
                            let tb = major.track(entry, i);
                            points.push((ta, x));
                            points.push((tb, x));
                            points.push((tb, pb));
                        } else {
                            points.push((ta, pb));
                        }
                    }
                    points.push((side(e.to, entry_side), pb));
                }
            }
            Route { points: simplify(points.into_iter().map(|(a, b)| axes.point(a, b)).collect()) }
        })
        .collect();

    // 8. Legend below the grid, as wide as the grid (at least a readable minimum).
    let grid = axes.rect((major.origin, major.end()), (minor.origin, minor.end()));
    let legend = legend(sketch, grid.bottom() + 16.0, grid.w.max(560.0));
    let width =
        [grid.right(), title.rect.right(), subtitle.rect.right(), legend.rect.right()].into_iter().fold(0.0, f64::max)
            + PAGE;
    let height = legend.rect.bottom() + PAGE;
    Layout { width: width.ceil(), height: height.ceil(), title, subtitle, nodes, groups, edges, legend }
}

impl Axes {
    fn extents_of(self, (w, h): (f64, f64)) -> (f64, f64) {
        self.extents(w, h)
    }
}

/// Decides how an edge runs. Layers crossed by a vertical stretch must have the channel free:
/// a node spanning across it blocks it, and the outermost channels are always free.
fn plan(cells: &[&Cell], a: &Cell, b: &Cell, columns: usize) -> Plan {
    if a.layer == b.layer && (a.end() == b.column || b.end() == a.column) {
        return Plan::Beside;
    }
    let (exit, exit_side, entry, entry_side) = match a.layer.cmp(&b.layer) {
        std::cmp::Ordering::Less => (a.layer + 1, Side::After, b.layer, Side::Before),
        std::cmp::Ordering::Greater => (a.layer, Side::Before, b.layer + 1, Side::After),
        std::cmp::Ordering::Equal => (a.layer + 1, Side::After, a.layer + 1, Side::After),
    };
    if exit == entry {
        let overlap = (a.column.max(b.column), a.end().min(b.end()));
        let pair = a.layer != b.layer && overlap.0 < overlap.1;
        let (from_column, to_column) =
            if pair { (overlap.0, overlap.0) } else { (nearest_column(a, b), nearest_column(b, a)) };
        return Plan::Channels { exit, exit_side, entry, entry_side, via: None, from_column, to_column, pair };
    }
    let crossed = exit.min(entry)..exit.max(entry);
    let free = |v: usize| !cells.iter().any(|c| crossed.contains(&c.layer) && c.column < v && v < c.end());
    let distance = |v: usize, c: &Cell| -> usize {
        let (lo, hi, at) = (2 * c.column + 1, 2 * c.end() - 1, 2 * v);
        if at < lo { lo - at } else { at.saturating_sub(hi) }
    };
    let via = (0..=columns).filter(|&v| free(v)).min_by_key(|&v| (distance(v, a) + distance(v, b), v)).unwrap_or(0);
    let toward = |c: &Cell| -> usize {
        if via <= c.column {
            c.column
        } else if via >= c.end() {
            c.end() - 1
        } else {
            via - 1
        }
    };
    Plan::Channels {
        exit,
        exit_side,
        entry,
        entry_side,
        via: Some(via),
        from_column: toward(a),
        to_column: toward(b),
        pair: false,
    }
}

/// The column of `a` closest to `b`'s columns.
fn nearest_column(a: &Cell, b: &Cell) -> usize {
    if a.end() <= b.column {
        a.end() - 1
    } else if b.end() <= a.column {
        a.column
    } else {
        a.column.max(b.column)
    }
}

/// Drops repeated points and the middle of three collinear ones.
fn simplify(points: Vec<Point>) -> Vec<Point> {
    let mut out: Vec<Point> = vec![];
    for p in points {
        if out.last().is_some_and(|q| (q.x - p.x).abs() < 1e-9 && (q.y - p.y).abs() < 1e-9) {
            continue;
        }
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let collinear = ((a.x - b.x).abs() < 1e-9 && (b.x - p.x).abs() < 1e-9)
                || ((a.y - b.y).abs() < 1e-9 && (b.y - p.y).abs() < 1e-9);
            if collinear {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// Lines centred in the box, the block centred vertically.
fn place_lines(lines: &[crate::sketch::Line], rect: &Rect) -> Vec<PlacedText> {
    let block: f64 = lines.iter().map(|l| l.style.line_height()).sum();
    let mut top = rect.y + (rect.h - block) / 2.0;
    let center = rect.x + rect.w / 2.0;
    lines
        .iter()
        .map(|l| {
            let placed = PlacedText::at(&l.text, l.style, Anchor::Middle, center, top);
            top += l.style.line_height();
            placed
        })
        .collect()
}

/// The legend: every arrow kind and node kind the diagram uses, flowing in rows.
fn legend(sketch: &Sketch, top: f64, max_width: f64) -> Legend {
    let heading = PlacedText::at("Legend", Style::Title, Anchor::Start, PAGE + 10.0, top + 8.0);
    let mut edge_kinds: Vec<EdgeKind> = sketch.edges.iter().map(|e| e.kind).collect();
    edge_kinds.sort_unstable();
    edge_kinds.dedup();
    let mut node_kinds: Vec<NodeKind> =
        sketch.nodes.iter().map(|n| n.kind).filter(|k| *k != NodeKind::Caption).collect();
    node_kinds.sort_unstable();
    node_kinds.dedup();
    let badge = sketch.nodes.iter().flat_map(|n| &n.lines).find(|l| l.style == Style::Badge).map(|l| l.text.clone());

    enum Item {
        Edge(EdgeKind),
        Node(NodeKind),
        Badge(String),
    }
    let items: Vec<Item> = edge_kinds
        .into_iter()
        .map(Item::Edge)
        .chain(node_kinds.into_iter().map(Item::Node))
        .chain(badge.map(Item::Badge))
        .collect();

    let row_height = 22.0;
    let left = PAGE + 10.0;
    let right = PAGE + max_width - 10.0;
    let (mut x, mut y) = (left, heading.rect.bottom() + 6.0);
    let mut entries = vec![];
    for item in items {
        let (label, sample_width) = match &item {
            Item::Edge(k) => (k.legend().to_owned(), SAMPLE),
            Item::Node(k) => (k.legend().to_owned(), 26.0),
            Item::Badge(text) => (format!("{text} service"), text::width(text, Style::Badge)),
        };
        let w = sample_width + 6.0 + text::width(&label, Style::Note);
        if x > left && x + w > right {
            x = left;
            y += row_height;
        }
        let mid = y + row_height / 2.0;
        let sample = match item {
            Item::Edge(kind) => Sample::Edge { kind, from: Point { x, y: mid }, to: Point { x: x + SAMPLE, y: mid } },
            Item::Node(kind) => Sample::Node { kind, rect: Rect { x, y: mid - 7.0, w: 26.0, h: 14.0 } },
            Item::Badge(text) => {
                let h = Style::Badge.line_height() - 4.0;
                let rect = Rect { x, y: mid - h / 2.0, w: sample_width, h };
                // Centred on the pill: a legend row has no line box to take the ascent from.
                let baseline = rect.y + rect.h / 2.0 + Style::Badge.size() * 0.35;
                let x = rect.x + rect.w / 2.0;
                Sample::Badge {
                    label: PlacedText { text, style: Style::Badge, anchor: Anchor::Middle, x, baseline, rect },
                }
            }
        };
        let text_top = mid - Style::Note.line_height() / 2.0;
        let text = PlacedText::at(&label, Style::Note, Anchor::Start, x + sample_width + 6.0, text_top);
        entries.push(LegendEntry { sample, text });
        x += w + 22.0;
    }
    let mut rect = Rect { x: PAGE, y: top, w: max_width, h: 0.0 };
    rect.h = y + row_height + 8.0 - top;
    for e in &entries {
        rect = rect.union(&e.text.rect);
    }
    Legend { rect, heading, entries }
}

impl Layout {
    /// Everything that would make the picture hard to read: boxes or labels on top of each
    /// other, text outside its box, arrows through boxes or labels, arrows sharing a line, an
    /// arrowhead with no room, anything off the canvas. Empty for a good layout.
    pub fn problems(&self) -> Vec<String> {
        const EPS: f64 = 0.5;
        let mut out = vec![];
        let canvas = Rect { x: 0.0, y: 0.0, w: self.width, h: self.height };

        for (i, a) in self.nodes.iter().enumerate() {
            if !canvas.contains(&a.rect) {
                out.push(format!("node {i} is off the canvas"));
            }
            for (j, b) in self.nodes.iter().enumerate().skip(i + 1) {
                if a.rect.near(&b.rect, 4.0) {
                    out.push(format!("nodes {i} and {j} overlap or touch"));
                }
            }
            let inner = Rect { x: a.rect.x + 2.0, y: a.rect.y + 1.0, w: a.rect.w - 4.0, h: a.rect.h - 2.0 };
            for (k, line) in a.lines.iter().enumerate() {
                if !inner.contains(&line.rect) {
                    out.push(format!("node {i}: line `{}` does not fit its box", line.text));
                }
                if let Some(next) = a.lines.get(k + 1)
                    && line.rect.near(&next.rect, -EPS)
                {
                    out.push(format!("node {i}: lines `{}` and `{}` overlap", line.text, next.text));
                }
            }
        }

        let labels: Vec<(usize, &PlacedText)> =
            self.groups.iter().enumerate().filter_map(|(g, b)| b.label.as_ref().map(|l| (g, l))).collect();
        for &(g, label) in &labels {
            if !self.groups[g].rect.contains(&label.rect) {
                out.push(format!("group {g}: label `{}` sticks out of its group", label.text));
            }
            for (i, n) in self.nodes.iter().enumerate() {
                if label.rect.near(&n.rect, 0.0) {
                    out.push(format!("group {g}: label `{}` overlaps node {i}", label.text));
                }
            }
            for &(h, other) in &labels {
                if h > g && label.rect.near(&other.rect, 0.0) {
                    out.push(format!("labels of groups {g} and {h} overlap"));
                }
            }
            for (h, other) in self.groups.iter().enumerate() {
                if h != g && border_crosses(&other.rect, &label.rect) {
                    out.push(format!("the border of group {h} crosses the label of group {g}"));
                }
            }
        }

        let chrome = [self.title.rect, self.subtitle.rect, self.legend.rect];
        for (i, a) in self.edges.iter().enumerate() {
            if a.points.len() < 2 {
                out.push(format!("edge {i} has no line"));
                continue;
            }
            let (p, q) = (a.points[a.points.len() - 2], a.points[a.points.len() - 1]);
            if (p.x - q.x).abs() + (p.y - q.y).abs() < 10.0 {
                out.push(format!("edge {i}: no room for its arrowhead"));
            }
            for (s, t) in a.segments() {
                if (s.x - t.x).abs() > EPS && (s.y - t.y).abs() > EPS {
                    out.push(format!("edge {i}: a diagonal segment"));
                }
                let seg = segment_rect(s, t);
                for (n, node) in self.nodes.iter().enumerate() {
                    let interior = Rect {
                        x: node.rect.x + EPS,
                        y: node.rect.y + EPS,
                        w: node.rect.w - 2.0 * EPS,
                        h: node.rect.h - 2.0 * EPS,
                    };
                    if seg.near(&interior, 0.0) {
                        out.push(format!("edge {i} runs through node {n}"));
                    }
                }
                for &(g, label) in &labels {
                    if seg.near(&label.rect, 0.0) {
                        out.push(format!("edge {i} crosses the label of group {g}"));
                    }
                }
                for r in &chrome {
                    if seg.near(r, 0.0) {
                        out.push(format!("edge {i} runs into the title or legend"));
                    }
                }
                if !canvas.contains(&seg) {
                    out.push(format!("edge {i} is off the canvas"));
                }
            }
            for (j, b) in self.edges.iter().enumerate().skip(i + 1) {
                for (s, t) in a.segments() {
                    for (u, v) in b.segments() {
                        if collinear_overlap((s, t), (u, v)) {
                            out.push(format!("edges {i} and {j} share a line"));
                        }
                    }
                }
            }
        }
        for n in &self.nodes {
            for r in &chrome {
                if n.rect.near(r, 0.0) {
                    out.push("a node runs into the title or legend".to_owned());
                }
            }
        }
        for e in &self.legend.entries {
            if !self.legend.rect.contains(&e.text.rect) || !canvas.contains(&e.text.rect) {
                out.push(format!("legend entry `{}` sticks out", e.text.text));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn segment_rect(a: Point, b: Point) -> Rect {
    Rect { x: a.x.min(b.x), y: a.y.min(b.y), w: (a.x - b.x).abs(), h: (a.y - b.y).abs() }
}

/// Does one of the rectangle's four sides pass through the label?
fn border_crosses(border: &Rect, label: &Rect) -> bool {
    let sides = [
        Rect { x: border.x, y: border.y, w: border.w, h: 0.0 },
        Rect { x: border.x, y: border.bottom(), w: border.w, h: 0.0 },
        Rect { x: border.x, y: border.y, w: 0.0, h: border.h },
        Rect { x: border.right(), y: border.y, w: 0.0, h: border.h },
    ];
    sides.iter().any(|s| s.near(label, 0.0))
}

/// Two axis-parallel segments on one line that share more than a point.
fn collinear_overlap((a, b): (Point, Point), (c, d): (Point, Point)) -> bool {
    const EPS: f64 = 0.5;
    let horizontal = |p: Point, q: Point| (p.y - q.y).abs() < EPS;
    let vertical = |p: Point, q: Point| (p.x - q.x).abs() < EPS;
    let overlap = |a0: f64, a1: f64, b0: f64, b1: f64| a0.min(a1).max(b0.min(b1)) + EPS < a0.max(a1).min(b0.max(b1));
    (horizontal(a, b) && horizontal(c, d) && (a.y - c.y).abs() < EPS && overlap(a.x, b.x, c.x, d.x))
        || (vertical(a, b) && vertical(c, d) && (a.x - c.x).abs() < EPS && overlap(a.y, b.y, c.y, d.y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channels(p: Plan) -> (usize, usize, Option<usize>, bool) {
        match p {
            Plan::Channels { exit, entry, via, pair, .. } => (exit, entry, via, pair),
            Plan::Beside => panic!("expected a channel route"),
        }
    }

    #[test]
    fn neighbours_in_a_layer_are_joined_side_by_side() {
        let (a, b) = (Cell::at(2, 1), Cell::at(2, 2));
        assert!(matches!(plan(&[&a, &b], &a, &b, 3), Plan::Beside));
        assert!(matches!(plan(&[&a, &b], &b, &a, 3), Plan::Beside));
        // One column apart: under the row, through the channel below it.
        let c = Cell::at(2, 3);
        assert_eq!(channels(plan(&[&a, &c], &a, &c, 4)), (3, 3, None, false));
    }

    #[test]
    fn boxes_that_line_up_across_one_channel_share_a_straight_line() {
        let alb = Cell::spanning(1, 1, 5);
        let service = Cell::at(2, 3);
        let p = plan(&[&alb, &service], &alb, &service, 6);
        assert_eq!(channels(p), (2, 2, None, true));
        let Plan::Channels { from_column, to_column, .. } = p else { unreachable!() };
        assert_eq!((from_column, to_column), (3, 3));
    }

    #[test]
    fn a_vertical_run_never_cuts_through_a_spanning_box() {
        // From above the load balancer (layer 1) to below it (layer 3): every channel inside
        // its span (2..=5) is blocked, so the route takes the nearest free one.
        let top = Cell::at(0, 3);
        let alb = Cell::spanning(1, 1, 5);
        let below = Cell::at(2, 3);
        let (_, _, via, _) = channels(plan(&[&top, &alb, &below], &top, &below, 7));
        assert!(matches!(via, Some(1) | Some(6)), "{via:?}");
    }

    #[test]
    fn overlapping_segments_get_their_own_tracks_and_apart_ones_share() {
        let mut c = Channel::default();
        for (edge, lo, hi) in [(0, 1.0, 5.0), (1, 4.0, 9.0), (2, 8.0, 12.0), (3, 20.0, 22.0)] {
            c.segments.push(Segment { edge, lo, hi, zone: 0 });
        }
        c.assign();
        assert_ne!(c.track[0], c.track[1]);
        assert_ne!(c.track[1], c.track[2]);
        assert_eq!(c.track[0], c.track[2], "0 and 2 are apart: one track");
        assert_eq!(c.zone_tracks, [2]);
    }

    #[test]
    fn a_segment_runs_inside_exactly_the_groups_around_both_its_ends() {
        // Groups closing before the channel at depths 3 (cluster), 2 (band), 1 (VPC); opening
        // after it at depth 2 (the next band).
        let c = Channel { closing: vec![3, 2, 1], opening: vec![(2, 0.0)], ..Channel::default() };
        assert_eq!(c.zones(), 5);
        assert_eq!(c.zone(Some(3), None), 0, "a call inside the cluster stays inside its border");
        assert_eq!(c.zone(Some(1), None), 2, "inside the VPC, outside the band and cluster");
        assert_eq!(c.zone(None, None), 3, "outside everything that ends or starts here");
        assert_eq!(c.zone(None, Some(2)), 4, "inside the next band");
    }

    #[test]
    fn simplify_drops_repeats_and_straight_joints() {
        let p = |x, y| Point { x, y };
        let out = simplify(vec![p(0.0, 0.0), p(0.0, 0.0), p(0.0, 5.0), p(0.0, 9.0), p(4.0, 9.0)]);
        assert_eq!(out, [p(0.0, 0.0), p(0.0, 9.0), p(4.0, 9.0)]);
    }
}
