//! Where the account has each routed service: the shard whose edge stack carries its target
//! groups. Synthesis takes it as `Platform::placement`, so that a service stays on the load
//! balancer it is on whatever is added or removed around it (acme-synth's `shards`).

use crate::{Deployer, Error, StackState};
use acme_spec::{Placement, Platform};
use acme_synth::StackName;
use acme_synth::stacks::{names, shards};

impl Deployer {
    /// The edge stacks the account has for platform `platform`, by shard: shards 0 to
    /// `synthesized` (the last the platform synthesizes to), and the ones after them for as
    /// long as they follow on (shards a shrinking platform no longer fills). Read side by side.
    pub async fn edge_stacks(&self, platform: &str, synthesized: u16) -> Result<Vec<(StackName, StackState)>, Error> {
        let mut found = vec![];
        let mut reads = tokio::task::JoinSet::new();
        for index in 0..=synthesized {
            let (deployer, stack) = (self.clone(), StackName::Edge(index));
            let stack_name = names::stack(platform, stack);
            reads.spawn(async move { Ok::<_, Error>((stack, deployer.describe(&stack_name).await?)) });
        }
        while let Some(read) = reads.join_next().await {
            let (stack, state) =
                read.map_err(|e| Error::Preflight(format!("reading the edge stacks failed: {e}")))??;
            found.extend(state.map(|s| (stack, s)));
        }
        let mut next = synthesized.saturating_add(1);
        while let Some(state) = self.describe(&names::stack(platform, StackName::Edge(next))).await? {
            found.push((StackName::Edge(next), state));
            next = next.saturating_add(1);
        }
        found.sort_by_key(|(stack, _)| *stack);
        Ok(found)
    }

    /// Where the account has each routed service of `platform`.
    pub async fn placement(&self, platform: &Platform) -> Result<Placement, Error> {
        // Read as far as a new platform would be sharded, then matched by output name.
        let fresh = Platform { placement: Placement::default(), ..platform.clone() };
        let last = shards::plan(&fresh).shards.iter().map(|s| s.index).max().unwrap_or(0);
        Ok(placement_of(platform, &self.edge_stacks(&platform.name, last).await?))
    }
}

/// A service is on the shard whose stack outputs one of its target groups' ARNs.
pub fn placement_of(platform: &Platform, edge_stacks: &[(StackName, StackState)]) -> Placement {
    let mut placement = Placement::default();
    for service in &platform.services {
        let outputs: Vec<String> = service
            .ports
            .iter()
            .filter(|port| service.routes.iter().any(|r| r.port == port.port))
            .map(|port| names::target_group_output(service, port))
            .collect();
        let shard = edge_stacks.iter().find_map(|(stack, state)| {
            outputs.iter().any(|o| state.outputs.contains_key(o)).then(|| stack.edge_shard()).flatten()
        });
        if let Some(shard) = shard {
            placement.shards.insert(service.name.clone(), shard);
        }
    }
    placement
}
