//! Pictures of a platform, drawn from acme.yaml so they are never out of date: the cloud
//! architecture and the user traffic flow of the infrastructure proposal, each as SVG (laid out
//! here, in Rust: no Graphviz, no browser) and as Mermaid source.
//!
//! Pure: no clock, no randomness, no I/O; the same platform gives byte-identical files.
//! [`architecture`] and [`traffic`] decide what is drawn and where on a grid ([`sketch`]);
//! [`layout`] sizes boxes from their text, routes the arrows through channels between them
//! and checks the result; [`svg`] and [`mermaid`] render.

pub mod architecture;
pub mod layout;
pub mod mermaid;
pub mod sketch;
pub mod svg;
pub mod text;
pub mod traffic;

use acme_spec::Platform;
use std::collections::BTreeMap;

/// The folder the diagrams go in, inside the output folder.
pub const DIR: &str = "diagrams";

/// One picture: what it shows and where everything is.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagram {
    /// File stem: `architecture` or `traffic-flow`.
    pub name: &'static str,
    pub sketch: sketch::Sketch,
    pub layout: layout::Layout,
}

impl Diagram {
    fn new(name: &'static str, sketch: sketch::Sketch) -> Diagram {
        let layout = layout::layout(&sketch);
        Diagram { name, sketch, layout }
    }

    pub fn svg(&self) -> String {
        svg::render(&self.sketch, &self.layout)
    }

    pub fn mermaid(&self) -> String {
        mermaid::render(&self.sketch)
    }

    /// The picture's files by path relative to the output folder: `diagrams/<name>.mmd` and
    /// `diagrams/<name>.svg`.
    pub fn files(&self) -> [(String, String); 2] {
        [(format!("{DIR}/{}.mmd", self.name), self.mermaid()), (format!("{DIR}/{}.svg", self.name), self.svg())]
    }
}

/// Both pictures of the platform: the architecture, then the traffic flow.
pub fn diagrams(platform: &Platform) -> Vec<Diagram> {
    vec![
        Diagram::new("architecture", architecture::sketch(platform)),
        Diagram::new("traffic-flow", traffic::sketch(platform)),
    ]
}

/// The rendered files of both pictures by path relative to the output folder.
pub fn files(platform: &Platform) -> BTreeMap<String, String> {
    diagrams(platform).iter().flat_map(Diagram::files).collect()
}
