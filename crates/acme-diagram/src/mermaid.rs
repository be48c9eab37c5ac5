//! Mermaid source of a sketch: the same nodes, groups (as nested subgraphs) and arrows as the
//! SVG, for Markdown renderers that draw Mermaid (GitHub, GitLab, many wikis). Mermaid lays it
//! out itself, so only the content is the same, not the geometry.

use crate::sketch::{Flow, NodeKind, Sketch};
use std::fmt::Write;

pub fn render(sketch: &Sketch) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "%% {}", comment(&sketch.title));
    let _ = writeln!(out, "%% {}", comment(&sketch.subtitle));
    let direction = match sketch.flow {
        Flow::TopDown => "TB",
        Flow::LeftRight => "LR",
    };
    let _ = writeln!(out, "flowchart {direction}");

    // Nodes inside their groups, groups nested in their parents, each at its first mention.
    let roots: Vec<usize> = (0..sketch.groups.len()).filter(|&g| sketch.groups[g].parent.is_none()).collect();
    for (i, node) in sketch.nodes.iter().enumerate() {
        if node.group.is_none() {
            node_line(&mut out, sketch, i, 1);
        }
    }
    for g in roots {
        group(&mut out, sketch, g, 1);
    }

    for edge in &sketch.edges {
        let _ = writeln!(
            out,
            "  {} {}|\"{}\"| {}",
            id(&sketch.nodes[edge.from].id),
            edge.kind.mermaid_arrow(),
            label(edge.kind.label()),
            id(&sketch.nodes[edge.to].id)
        );
    }

    // Colours: one class per kind of node, one link style per arrow, one style per group.
    // No `;` at the ends: Mermaid reads `#232F3E;` as an HTML entity and fails.
    let mut kinds: Vec<NodeKind> = sketch.nodes.iter().map(|n| n.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let (stroke, fill) = kind.colors();
        let border = if kind == NodeKind::Caption { "stroke-width:0px" } else { "stroke-width:1.5px" };
        let _ = writeln!(out, "  classDef {} fill:{fill},stroke:{stroke},{border}", kind.slug());
        let members: Vec<String> = sketch.nodes.iter().filter(|n| n.kind == kind).map(|n| id(&n.id)).collect();
        let _ = writeln!(out, "  class {} {}", members.join(","), kind.slug());
    }
    for g in &sketch.groups {
        let dash = if g.dashed { ",stroke-dasharray:8 4" } else { "" };
        let _ = writeln!(out, "  style {} fill:{},stroke:{}{dash}", group_id(&g.id), g.fill, g.stroke);
    }
    for (i, edge) in sketch.edges.iter().enumerate() {
        let dash = edge.kind.dash().map(|d| format!(",stroke-dasharray:{d}")).unwrap_or_default();
        let _ = writeln!(out, "  linkStyle {i} stroke:{}{dash}", edge.kind.color());
    }
    out
}

fn group(out: &mut String, sketch: &Sketch, g: usize, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(out, "{pad}subgraph {}[\"{}\"]", group_id(&sketch.groups[g].id), label(&sketch.groups[g].name));
    for (i, node) in sketch.nodes.iter().enumerate() {
        if node.group == Some(g) {
            node_line(out, sketch, i, depth + 1);
        }
    }
    for child in (0..sketch.groups.len()).filter(|&c| sketch.groups[c].parent == Some(g)) {
        group(out, sketch, child, depth + 1);
    }
    let _ = writeln!(out, "{pad}end");
}

fn node_line(out: &mut String, sketch: &Sketch, i: usize, depth: usize) {
    let node = &sketch.nodes[i];
    let text: Vec<String> = node
        .lines
        .iter()
        .enumerate()
        .map(|(k, l)| if k == 0 { format!("<b>{}</b>", label(&l.text)) } else { label(&l.text) })
        .collect();
    let text = text.join("<br/>");
    let (open, close) = match node.kind {
        NodeKind::Users => ("([\"", "\"])"),
        NodeKind::Database => ("[(\"", "\")]"),
        _ => ("[\"", "\"]"),
    };
    let _ = writeln!(out, "{}{}{open}{text}{close}", "  ".repeat(depth), id(&node.id));
}

/// Mermaid ids: letters, digits and underscores.
pub fn id(node: &str) -> String {
    node.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

pub fn group_id(group: &str) -> String {
    format!("group_{}", id(group))
}

/// Text inside a quoted Mermaid label: quotes, angle brackets and `#` as Mermaid entities.
fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A `%%` comment stays one line.
fn comment(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_would_end_them() {
        assert_eq!(label(r#"a "b" <c> #d"#), "a #quot;b#quot; #lt;c#gt; #35;d");
        assert_eq!(id("service-web"), "service_web");
    }
}
