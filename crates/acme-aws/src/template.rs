//! The template body sent to CloudFormation.

use crate::Error;
use acme_cfn::Template;

/// CloudFormation's limit for a template passed inline (`TemplateBody`), in bytes. Larger
/// templates (up to 1 MB) must be uploaded to S3 and passed by `TemplateURL`.
pub const TEMPLATE_BODY_LIMIT: usize = acme_cfn::quotas::INLINE_TEMPLATE_BYTES;

/// The body to send for `template` ([`Template::inline_body`]), or the error that names the
/// stack it is too large for.
pub fn template_body(stack_name: &str, template: &Template) -> Result<String, Error> {
    template.inline_body().map_err(|too_large| Error::TemplateTooLarge {
        stack_name: stack_name.to_owned(),
        yaml_bytes: too_large.yaml_bytes,
        json_bytes: too_large.json_bytes,
        limit: TEMPLATE_BODY_LIMIT,
    })
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
        let body = template_body("acme-test", &t).expect("fits");
        assert_eq!(body, acme_cfn::yaml::to_string(&t.to_value()));
    }

    #[test]
    fn over_the_limit_falls_back_to_compact_json_then_fails_naming_the_stack() {
        // Find a size where the YAML is over the limit and the JSON is not.
        let t = (100..2000)
            .step_by(20)
            .map(template_with_groups)
            .find(|t| acme_cfn::yaml::to_string(&t.to_value()).len() > TEMPLATE_BODY_LIMIT)
            .expect("some size goes over the limit");
        let body = template_body("acme-test", &t).expect("JSON fits");
        assert!(body.len() <= TEMPLATE_BODY_LIMIT);
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert_eq!(parsed, t.to_value());

        let err = template_body("acme-huge", &template_with_groups(4000)).expect_err("too large");
        assert!(matches!(err, Error::TemplateTooLarge { ref stack_name, .. } if stack_name == "acme-huge"));
        assert!(err.to_string().contains("51200 bytes"), "{err}");
    }
}
