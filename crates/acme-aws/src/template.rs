//! The template body sent to CloudFormation.

use crate::Error;
use acme_cfn::Template;

/// CloudFormation's limit for a template passed inline (`TemplateBody`), in bytes. Larger
/// templates (up to 1 MB) must be uploaded to S3 and passed by `TemplateURL`.
pub const TEMPLATE_BODY_LIMIT: usize = acme_cfn::quotas::INLINE_TEMPLATE_BYTES;

/// How a template reaches CloudFormation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateSource {
    /// Inline, as `TemplateBody`.
    Body(String),
    /// Staged in S3, as `TemplateURL`.
    Url(String),
}

/// A template as a plan holds it: ready to send, or to be staged first (its compact JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Ready(TemplateSource),
    ToStage(String),
}

/// The inline body of `template` ([`Template::inline_body`]); a template too large for that
/// is staged as compact JSON, up to CloudFormation's 1 MB, and past that it is the error that
/// names the stack.
pub fn body(stack_name: &str, template: &Template) -> Result<Body, Error> {
    let value = template.to_value();
    let yaml = acme_cfn::yaml::to_string(&value);
    match Template::inline_body_of(&value, yaml) {
        Ok(inline) => Ok(Body::Ready(TemplateSource::Body(inline))),
        Err(too_large) if too_large.json_bytes <= acme_cfn::quotas::TEMPLATE_BYTES => {
            Ok(Body::ToStage(value.to_string()))
        }
        Err(too_large) => Err(Error::TemplateTooLarge {
            stack_name: stack_name.to_owned(),
            yaml_bytes: too_large.yaml_bytes,
            json_bytes: too_large.json_bytes,
            limit: acme_cfn::quotas::TEMPLATE_BYTES,
        }),
    }
}

/// Where a staged template lives in the staging bucket: under the SHA-256 of its text, so
/// the same template is one object, whatever stack or run sends it.
pub fn staged_key(json: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(json.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}{hex}.json", acme_synth::stacks::keys::STAGED_PREFIX)
}

/// The URL CloudFormation reads a staged template from (virtual-hosted style).
pub fn staged_url(bucket: &str, region: &str, key: &str) -> String {
    format!("https://{bucket}.s3.{region}.amazonaws.com/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_cfn::Expr;
    use acme_cfn::resources::logs::LogGroup;

    fn template_with_groups(n: usize) -> Template {
        let mut t = Template::new("size test");
        for i in 0..n {
            let group = LogGroup {
                log_group_name: Some(format!("/acme/test/{i}").into()),
                retention_in_days: 30,
                kms_key_id: Expr::r#ref("LogsKeyArn"),
            };
            t.add(format!("Group{i:05}"), group);
        }
        t
    }

    #[test]
    fn small_templates_go_as_the_synthesized_yaml() {
        let t = template_with_groups(3);
        let body = body("acme-test", &t).expect("fits");
        assert_eq!(body, Body::Ready(TemplateSource::Body(acme_cfn::yaml::to_string(&t.to_value()))));
    }

    #[test]
    fn over_the_inline_limit_falls_back_to_compact_json_then_to_staging_then_fails_naming_the_stack() {
        // Find a size where the YAML is over the limit and the JSON is not.
        let t = (100..2000)
            .step_by(20)
            .map(template_with_groups)
            .find(|t| acme_cfn::yaml::to_string(&t.to_value()).len() > TEMPLATE_BODY_LIMIT)
            .expect("some size goes over the limit");
        let Body::Ready(TemplateSource::Body(inline)) = body("acme-test", &t).expect("JSON fits") else {
            panic!("inline")
        };
        assert!(inline.len() <= TEMPLATE_BODY_LIMIT);
        let parsed: serde_json::Value = serde_json::from_str(&inline).expect("JSON body");
        assert_eq!(parsed, t.to_value());

        let large = template_with_groups(1500);
        let Body::ToStage(json) = body("acme-large", &large).expect("stageable") else { panic!("to stage") };
        assert!(json.len() > TEMPLATE_BODY_LIMIT && json.len() <= acme_cfn::quotas::TEMPLATE_BYTES);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).expect("JSON"), large.to_value());

        let err = body("acme-huge", &template_with_groups(12_000)).expect_err("too large");
        assert!(err.to_string().contains("acme-huge"), "{err}");
        assert!(err.to_string().contains("1000000 bytes"), "{err}");
    }

    #[test]
    fn a_staged_template_is_keyed_by_the_hash_of_its_text() {
        let key = staged_key("{}");
        // SHA-256 of "{}".
        assert_eq!(key, "templates/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.json");
        assert_ne!(staged_key("{ }"), key);
        assert_eq!(
            staged_url("acme-acmectl-staging-111122223333-eu-west-1", "eu-west-1", &key),
            format!("https://acme-acmectl-staging-111122223333-eu-west-1.s3.eu-west-1.amazonaws.com/{key}")
        );
    }
}
