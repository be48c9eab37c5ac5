//! What a diagram shows, and where on its grid: nodes in cells, nested groups, typed edges.
//! The architecture and traffic-flow modules build a [`Sketch`]; [`crate::layout`] turns it
//! into coordinates and routes, and the SVG and Mermaid renderers draw either.

use crate::text::{self, Style};

/// Which way the layers run: the architecture reads top to bottom (internet at the top, data
/// at the bottom), the traffic flow left to right (user on the left, services on the right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    TopDown,
    LeftRight,
}

/// A node's place on the grid. `layer` runs along the flow, `column` across it; a node may
/// span several columns (the load balancer spans every service column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub layer: usize,
    pub column: usize,
    pub span: usize,
}

impl Cell {
    pub fn at(layer: usize, column: usize) -> Cell {
        Cell { layer, column, span: 1 }
    }

    pub fn spanning(layer: usize, column: usize, span: usize) -> Cell {
        Cell { layer, column, span: span.max(1) }
    }

    /// One past the last column.
    pub fn end(&self) -> usize {
        self.column + self.span
    }
}

/// What a node stands for; decides its colours and its Mermaid shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// People outside AWS.
    Users,
    /// Route 53, the load balancer, its listener rules.
    Networking,
    /// WAF and KMS.
    Security,
    /// The EKS cluster and the image registry.
    Containers,
    /// A microservice of acme.yaml.
    Service,
    /// RDS.
    Database,
    /// S3 buckets and AWS Backup.
    Storage,
    /// CloudTrail and CloudWatch.
    Management,
    /// Explanatory text without a box: a subnet tier's name and CIDRs.
    Caption,
}

impl NodeKind {
    pub fn slug(self) -> &'static str {
        match self {
            NodeKind::Users => "users",
            NodeKind::Networking => "networking",
            NodeKind::Security => "security",
            NodeKind::Containers => "containers",
            NodeKind::Service => "service",
            NodeKind::Database => "database",
            NodeKind::Storage => "storage",
            NodeKind::Management => "management",
            NodeKind::Caption => "caption",
        }
    }

    /// Name in the legend.
    pub fn legend(self) -> &'static str {
        match self {
            NodeKind::Users => "users",
            NodeKind::Networking => "networking and content delivery",
            NodeKind::Security => "security, identity, compliance",
            NodeKind::Containers => "containers",
            NodeKind::Service => "microservice (Kubernetes namespace)",
            NodeKind::Database => "database",
            NodeKind::Storage => "storage and backup",
            NodeKind::Management => "management and governance",
            NodeKind::Caption => "subnet tier",
        }
    }

    /// Border (and title) colour, after AWS's architecture icon categories; fill colour.
    pub fn colors(self) -> (&'static str, &'static str) {
        match self {
            NodeKind::Users => ("#232F3E", "#F2F3F3"),
            NodeKind::Networking => ("#8C4FFF", "#F4EEFF"),
            NodeKind::Security => ("#DD344C", "#FDECEE"),
            NodeKind::Containers => ("#ED7100", "#FEF1E6"),
            NodeKind::Service => ("#D05C17", "#FFFFFF"),
            NodeKind::Database => ("#3B48CC", "#ECEEFB"),
            NodeKind::Storage => ("#3F8624", "#EEF6EA"),
            NodeKind::Management => ("#E7157B", "#FDE8F2"),
            // Only Mermaid's box uses this fill: the SVG draws no box around a caption.
            NodeKind::Caption => ("#545B64", "transparent"),
        }
    }
}

/// What an arrow means; decides its colour, dash and legend entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// HTTPS from the users through WAF and the load balancer to a service.
    Request,
    /// Like a request, to a WebSocket service: the connection stays open.
    WebSocket,
    /// Name resolution: the users ask Route 53, whose alias records name the load balancer.
    Dns,
    /// `talks_to`: one service calls another.
    Call,
    /// `uses: [database]`.
    Database,
    /// `uses: [{ bucket }]`.
    Bucket,
    /// The nodes pull images from the registry.
    ImagePull,
    /// AWS Backup snapshots the database.
    Backup,
    /// The Multi-AZ standby follows the primary synchronously.
    Replication,
}

impl EdgeKind {
    pub fn slug(self) -> &'static str {
        match self {
            EdgeKind::Request => "request",
            EdgeKind::WebSocket => "websocket",
            EdgeKind::Dns => "dns",
            EdgeKind::Call => "talks_to",
            EdgeKind::Database => "database",
            EdgeKind::Bucket => "bucket",
            EdgeKind::ImagePull => "image-pull",
            EdgeKind::Backup => "backup",
            EdgeKind::Replication => "replication",
        }
    }

    /// Legend text; also the Mermaid edge label.
    pub fn legend(self) -> &'static str {
        match self {
            EdgeKind::Request => "HTTPS request",
            EdgeKind::WebSocket => "WebSocket (HTTPS upgrade, long-lived)",
            EdgeKind::Dns => "DNS (alias record)",
            EdgeKind::Call => "service call (talks_to)",
            EdgeKind::Database => "database connection (uses: database)",
            EdgeKind::Bucket => "S3 access (uses: bucket)",
            EdgeKind::ImagePull => "image pull",
            EdgeKind::Backup => "daily backup",
            EdgeKind::Replication => "synchronous replication",
        }
    }

    /// Short label for Mermaid's arrows.
    pub fn label(self) -> &'static str {
        match self {
            EdgeKind::Request => "HTTPS",
            EdgeKind::WebSocket => "WebSocket",
            EdgeKind::Dns => "DNS",
            EdgeKind::Call => "talks to",
            EdgeKind::Database => "SQL/TLS",
            EdgeKind::Bucket => "S3",
            EdgeKind::ImagePull => "image pull",
            EdgeKind::Backup => "backup",
            EdgeKind::Replication => "replication",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            EdgeKind::Request => "#232F3E",
            EdgeKind::WebSocket => "#B0084D",
            EdgeKind::Dns => "#8C4FFF",
            EdgeKind::Call => "#D05C17",
            EdgeKind::Database => "#3B48CC",
            EdgeKind::Bucket => "#3F8624",
            EdgeKind::ImagePull => "#7D8998",
            EdgeKind::Backup => "#3F8624",
            EdgeKind::Replication => "#3B48CC",
        }
    }

    /// SVG `stroke-dasharray`, if dashed.
    pub fn dash(self) -> Option<&'static str> {
        match self {
            EdgeKind::Dns | EdgeKind::ImagePull | EdgeKind::Backup => Some("6 4"),
            EdgeKind::WebSocket => Some("10 3 2 3"),
            EdgeKind::Replication => Some("2 3"),
            _ => None,
        }
    }

    /// Mermaid arrow: dashed kinds dotted, requests thick.
    pub fn mermaid_arrow(self) -> &'static str {
        match self {
            EdgeKind::Request | EdgeKind::WebSocket => "==>",
            _ if self.dash().is_some() => "-.->",
            _ => "-->",
        }
    }
}

/// One line of a node's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub text: String,
    pub style: Style,
}

impl Line {
    pub fn new(style: Style, text: impl Into<String>) -> Line {
        Line { text: text.into(), style }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Unique in the sketch; becomes the SVG element id (`node-<id>`) and the Mermaid id.
    pub id: String,
    /// What the node is called in titles and edge names (`web`, `Application Load Balancer`).
    pub name: String,
    pub kind: NodeKind,
    pub lines: Vec<Line>,
    pub cell: Cell,
    /// The innermost group drawn around the node.
    pub group: Option<usize>,
    /// `data-*` attributes naming what the node is in acme.yaml terms (`service=web`).
    pub data: Vec<(&'static str, String)>,
}

/// A box drawn around nodes: the cloud, the VPC, a subnet tier, the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: String,
    /// The group's name: the Mermaid subgraph's title, and the SVG label if `labelled`.
    pub name: String,
    /// False when a caption node names the group, so the SVG draws no label of its own.
    pub labelled: bool,
    pub parent: Option<usize>,
    /// Border and fill colours, and whether the border is dashed.
    pub stroke: &'static str,
    pub fill: &'static str,
    pub dashed: bool,
    /// Cells the group covers besides its nodes', so sibling bands can share one width.
    pub covers: Vec<Cell>,
}

impl Group {
    /// The text drawn inside the SVG box's top-left corner.
    pub fn label(&self) -> Option<&str> {
        self.labelled.then_some(self.name.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// Tooltip and accessible name, e.g. `web → api: service call (talks_to)`.
    pub title: String,
    /// `data-*` attributes tying the edge to acme.yaml (`field=services[0].talks_to[0]`).
    pub data: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sketch {
    pub title: String,
    pub subtitle: String,
    pub flow: Flow,
    pub nodes: Vec<Node>,
    pub groups: Vec<Group>,
    pub edges: Vec<Edge>,
}

impl Sketch {
    pub fn new(title: String, subtitle: String, flow: Flow) -> Sketch {
        Sketch { title, subtitle, flow, nodes: vec![], groups: vec![], edges: vec![] }
    }

    /// Adds a node and returns its index. An id already taken gets a numeric suffix, so ids
    /// stay unique whatever names acme.yaml uses.
    pub fn node(
        &mut self,
        id: &str,
        name: &str,
        kind: NodeKind,
        lines: Vec<Line>,
        cell: Cell,
        group: Option<usize>,
    ) -> usize {
        let id = self.unique_id(id);
        self.nodes.push(Node { id, name: name.to_owned(), kind, lines, cell, group, data: vec![] });
        self.nodes.len() - 1
    }

    /// Adds a group; `labelled` draws its name in the SVG (otherwise a caption node names it).
    pub fn group(
        &mut self,
        id: &str,
        name: &str,
        labelled: bool,
        parent: Option<usize>,
        colors: (&'static str, &'static str),
        dashed: bool,
    ) -> usize {
        self.groups.push(Group {
            id: id.to_owned(),
            name: name.to_owned(),
            labelled,
            parent,
            stroke: colors.0,
            fill: colors.1,
            dashed,
            covers: vec![],
        });
        self.groups.len() - 1
    }

    pub fn edge(&mut self, from: usize, to: usize, kind: EdgeKind) -> &mut Edge {
        let title = format!("{} → {}: {}", self.name(from), self.name(to), kind.legend());
        self.edges.push(Edge { from, to, kind, title, data: vec![] });
        let last = self.edges.len() - 1;
        &mut self.edges[last]
    }

    pub fn name(&self, node: usize) -> &str {
        &self.nodes[node].name
    }

    fn unique_id(&self, id: &str) -> String {
        let base: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
        let taken = |candidate: &str| self.nodes.iter().any(|n| n.id == candidate);
        if !taken(&base) {
            return base;
        }
        (2..).map(|i| format!("{base}-{i}")).find(|c| !taken(c)).unwrap_or(base)
    }

    /// Every group the node sits in, innermost first.
    pub fn ancestors(&self, group: Option<usize>) -> Vec<usize> {
        let mut out = vec![];
        let mut at = group;
        while let Some(g) = at {
            out.push(g);
            at = self.groups[g].parent;
        }
        out
    }

    /// Nesting depth of a group: 0 for a top-level group.
    pub fn depth(&self, group: usize) -> usize {
        self.ancestors(Some(group)).len() - 1
    }
}

/// The usual box: a name, a line of detail, a line of small print.
pub fn card(title: impl Into<String>, body: impl Into<String>, note: impl Into<String>) -> Vec<Line> {
    vec![Line::new(Style::Title, title), Line::new(Style::Body, body), Line::new(Style::Note, note)]
}

/// Lines of `text` wrapped to `max` pixels, each in `style`.
pub fn wrapped(style: Style, text: &str, max: f64) -> Vec<Line> {
    text::wrap(text, style, max).into_iter().map(|t| Line::new(style, t)).collect()
}
