//! A complete in-code [`Platform`], the same one the bundled `acme.yaml` describes.
//! Tests of later stages start from it and change what they need.

use crate::model::*;
use std::collections::BTreeMap;

fn service(name: &str, port: u16) -> Service {
    Service {
        name: name.into(),
        namespace: name.into(),
        ports: vec![ServicePort { name: "http".into(), port }],
        health: Health { path: "/healthz".into() },
        routes: vec![],
        websocket: false,
        talks_to: vec![],
        uses: vec![],
        replicas: Replicas { min: 2, max: 6 },
        resources: Resources {
            cpu_request: "250m".into(),
            cpu_limit: "1".into(),
            memory_request: "256Mi".into(),
            memory_limit: "256Mi".into(),
        },
        env: BTreeMap::new(),
        source: Source {
            path: format!("services/{name}"),
            dockerfile: format!("services/{name}/Dockerfile"),
            test: None,
        },
        migration: Migration::default(),
    }
}

fn route(host: &str, path: Option<&str>, port: u16) -> Route {
    Route { host: host.into(), path: path.map(Into::into), port }
}

/// The bundled file's old side: every host behind `old-lb.acme-legacy.example.net`, and www
/// (shared by web and api) also reachable from the VPC at two private addresses.
fn legacy(hosts: &[&str]) -> Legacy {
    let side = |host: &str| OldSide {
        public: OldTarget::Name("old-lb.acme-legacy.example.net".into()),
        private: (host == "www.acme.example.com").then(|| PrivateOrigin {
            addresses: vec![std::net::Ipv4Addr::new(10, 50, 0, 10), std::net::Ipv4Addr::new(10, 50, 0, 11)],
            port: 443,
            protocol: "HTTPS".into(),
            health_path: "/".into(),
            health_codes: "200-499".into(),
        }),
        requests: None,
    };
    Legacy { hosts: hosts.iter().map(|h| ((*h).to_owned(), side(h))).collect() }
}

/// ACME's platform as the proposal describes it.
pub fn acme() -> Platform {
    let www = "www.acme.example.com";
    let mut web = service("web", 8080);
    web.routes = vec![route(www, None, 8080)];
    web.talks_to = vec!["api".into()];

    let mut api = service("api", 8080);
    api.source.test = Some("make test".into());
    api.routes = vec![route(www, Some("/api"), 8080)];
    api.uses = vec![Use::Database, Use::Bucket("uploads".into())];
    api.talks_to = vec!["auth".into()];

    let mut auth = service("auth", 8080);
    auth.routes = vec![route("auth.acme.example.com", None, 8080)];
    auth.uses = vec![Use::Database];

    let mut chat = service("chat", 8080);
    chat.routes = vec![route("chat.acme.example.com", None, 8080)];
    chat.websocket = true;
    chat.talks_to = vec!["auth".into()];

    Platform {
        name: "acme".into(),
        region: "us-east-1".into(),
        domain: "acme.example.com".into(),
        dns: Dns { zone: ZoneSource::Create, private_zone: Some("internal.acme.example.com".into()) },
        network: Network { cidr: "10.20.0.0/16".parse().expect("literal CIDR"), zones: 3 },
        cluster: Cluster {
            version: "1.34".into(),
            public_access_cidrs: vec![],
            admin_role_arns: vec!["arn:aws:iam::111122223333:role/acme-platform-admin".into()],
        },
        database: Some(Database {
            engine: Engine::Postgres,
            version: "17".into(),
            class: "db.r7g.large".into(),
            storage_gb: 100,
            max_storage_gb: 500,
            db_name: "acme".into(),
            multi_az: true,
            backup_retention_days: 14,
            deletion_protection: true,
        }),
        services: vec![web, api, auth, chat],
        edge: Edge { waf: true, idle_timeout_seconds: 60, tls_policy: crate::validate::DEFAULT_TLS_POLICY.into() },
        alerts: Alerts { email: vec!["ops@acme.example.com".into()] },
        ci: Ci {
            provider: CiProvider::Jenkins,
            repository: Some("acme/platform".into()),
            branch: "main".into(),
            github_oidc_provider_arn: None,
            jenkins_agent_role_arns: vec!["arn:aws:iam::111122223333:role/acme-jenkins-agent".into()],
            fail_on: Severity::High,
            approval: true,
            account_id: Some("111122223333".into()),
            platform_file: "acme.yaml".into(),
            runner: vec![],
        },
        backup: Backup { schedule: "cron(0 5 * * ? *)".into(), retention_days: 35, copy_to: None, vault_lock: None },
        legacy: Some(legacy(&[www, "auth.acme.example.com", "chat.acme.example.com"])),
        overrides: vec![],
        check: CheckPolicy::default(),
        placement: Placement::default(),
    }
}

/// acme.yaml text of a platform of `services` services over `hosts` hosts, the shape of a
/// large company: the first `hosts` services each own a host, the rest are routed by path on
/// them; every third calls the one before, every tenth uses the database, every twentieth a
/// bucket of its own, every twenty-fifth holds WebSocket connections. For benchmarks and
/// scale tests.
pub fn large_yaml(services: usize, hosts: usize) -> String {
    use std::fmt::Write;
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\nnetwork: { cidr: 10.0.0.0/16, zones: 3 }\n\
         cluster: { version: \"1.34\" }\n\
         database: { engine: postgres, version: \"17\", class: db.r7g.large, storage_gb: 100 }\n\
         alerts: { email: [ops@big.example.com] }\n\
         ci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/big-jenkins-agent\"] }\nservices:\n",
    );
    for i in 0..services {
        let host = format!("h{}.big.example.com", i % hosts.max(1));
        let _ = writeln!(y, "  - name: svc{i}\n    port: 8080\n    health: {{ path: /healthz }}");
        if i < hosts {
            let _ = writeln!(y, "    routes: [{{ host: {host} }}]");
        } else {
            let _ = writeln!(y, "    routes: [{{ host: {host}, path: /s{i} }}]");
        }
        if i % 25 == 0 {
            let _ = writeln!(y, "    websocket: true");
        }
        if i > 0 && i % 3 == 0 {
            let _ = writeln!(y, "    talks_to: [svc{}]", i - 1);
        }
        let uses: Vec<&str> = [(i % 10 == 0, "database"), (i % 20 == 0, "{ bucket: files }")]
            .into_iter()
            .filter(|u| u.0)
            .map(|u| u.1)
            .collect();
        if !uses.is_empty() {
            let _ = writeln!(y, "    uses: [{}]", uses.join(", "));
        }
    }
    y
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_large_platform_is_valid_with_its_services_and_hosts() {
        let p = crate::load_str("acme.yaml", &super::large_yaml(100, 20)).expect("valid");
        assert_eq!(p.services.len(), 100);
        assert_eq!(p.hosts().len(), 20);
        assert!(p.services.iter().any(|s| s.websocket));
    }
}
