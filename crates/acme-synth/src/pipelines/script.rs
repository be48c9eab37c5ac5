//! The shell steps both CI systems run, written once. Each is a bash script that starts with
//! `set -euo pipefail`, quotes every expansion, and reads what it needs from environment
//! variables the pipeline sets ([`super::ServicePipeline::env`], [`super::platform_env`],
//! `IMAGE_TAG`, `CFN_ROLE_ARN`), so the same text serves GitHub's `run:` and Jenkins' `sh`.
//! No script contains `${`: Groovy would read it inside a Jenkinsfile string, and GitHub
//! reads `${{`. Lines stay under [`MAX_LINE`] characters (long commands continue with `\`), so
//! the Jenkinsfiles pass CodeNarc's line length.

use super::CFN_ROLE_FLAG;
use acme_spec::Severity;

/// The first line of every script.
pub const STRICT: &str = "set -euo pipefail\n";

/// Longest line of a script (CodeNarc's limit is 120).
pub const MAX_LINE: usize = 110;

/// The service's own test command, in its folder. Not under `-u`: the command is the
/// developers', written for a plain shell.
pub fn test(command: &str) -> String {
    format!("set -eo pipefail\n{command}\n")
}

/// Builds the image under a local name, labelled with the commit it was built from.
pub fn build_image() -> String {
    format!(
        "{STRICT}docker build --file \"$DOCKERFILE\" --tag \"$LOCAL_IMAGE\" \\\n  \
         --label \"org.opencontainers.image.revision=$IMAGE_TAG\" \"$SOURCE_PATH\"\n"
    )
}

/// Jenkins: trade the agent's own credentials (instance profile on EC2, pod identity on EKS)
/// for an hour of the CI role, for this step only. `session` names the session in CloudTrail.
pub fn assume_ci_role(session: &str) -> String {
    format!(
        "session=\"{session}\"\n\
         creds=\"$(aws sts assume-role --role-arn \"$CI_ROLE_ARN\" --role-session-name \"$session\" \\\n  \
         --duration-seconds 3600 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)\"\n\
         read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<\"$creds\"\n\
         export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n"
    )
}

/// Pushes the local image as `<repository URI>:$IMAGE_TAG`. The URI is the registry stack's
/// output; tags are immutable, so a rerun for a commit already pushed pushes nothing.
/// Docker's login lives in a throwaway config folder, never in the agent's home.
pub fn push_image() -> String {
    format!(
        r#"{STRICT}uri="$(aws cloudformation describe-stacks --stack-name "$REGISTRY_STACK" \
  --query "Stacks[0].Outputs[?OutputKey=='$REPOSITORY_URI_OUTPUT'].OutputValue" --output text)"
if [[ -z "$uri" || "$uri" == None ]]; then
  echo "the stack $REGISTRY_STACK has no output $REPOSITORY_URI_OUTPUT: deploy the platform first" >&2
  exit 1
fi
image="$uri:$IMAGE_TAG"
if aws ecr describe-images --repository-name "$REPOSITORY" --image-ids "imageTag=$IMAGE_TAG" \
  >/dev/null 2>&1; then
  echo "$image is in the registry already (tags are immutable): not pushing it again"
  exit 0
fi
DOCKER_CONFIG="$(mktemp -d)"
export DOCKER_CONFIG
trap 'rm -rf "$DOCKER_CONFIG"' EXIT
registry="$(printf '%s' "$uri" | cut -d / -f 1)"
aws ecr get-login-password | docker login --username AWS --password-stdin "$registry"
docker tag "$LOCAL_IMAGE" "$image"
docker push "$image"
"#
    )
}

/// Waits for ECR's scan of the pushed image and fails when it found anything at `fail_on`
/// or worse. A scan that fails (an unsupported image) fails the step too: an unscanned image
/// is not deployed.
pub fn scan_gate(fail_on: Severity) -> String {
    let severities: Vec<&str> = fail_on.and_worse().into_iter().map(Severity::ecr_name).collect();
    format!(
        r#"{STRICT}aws ecr wait image-scan-complete --repository-name "$REPOSITORY" --image-id "imageTag=$IMAGE_TAG"
aws ecr describe-image-scan-findings --repository-name "$REPOSITORY" --image-id "imageTag=$IMAGE_TAG" \
  --query 'imageScanFindings.findingSeverityCounts' --output table
# The backticks are JMESPath literals, not command substitution.
# shellcheck disable=SC2016
query='sum((imageScanFindings.findingSeverityCounts || `{{}}`)
  .[{list}][?@ != `null`])'
blocking="$(aws ecr describe-image-scan-findings --repository-name "$REPOSITORY" \
  --image-id "imageTag=$IMAGE_TAG" --query "$query" --output text)"
if (( blocking > 0 )); then
  echo "$REPOSITORY:$IMAGE_TAG has $blocking finding(s) of severity {names}" >&2
  echo "(acme.yaml ci.fail_on: {fail_on}): not deploying it" >&2
  exit 1
fi
echo "no finding of severity {names} in $REPOSITORY:$IMAGE_TAG"
"#,
        list = severities.join(", "),
        names = severities.join(" or "),
        fail_on = fail_on.ecr_name().to_ascii_lowercase(),
    )
}

/// Deploys one service at the pushed image.
pub fn deploy_service() -> String {
    format!(
        "{STRICT}acmectl deploy --file \"$PLATFORM_FILE\" --service \"$SERVICE\" \\\n  \
         --image \"$SERVICE=$IMAGE_TAG\" --yes\n"
    )
}

/// Checks the platform against the proposal's rules (no AWS call).
pub fn check() -> String {
    format!("{STRICT}acmectl check --file \"$PLATFORM_FILE\"\n")
}

/// Plans the platform's change (exit 0: none, 1: changes) and sets `changes` to `true` or
/// `false`; any other exit fails the step. The plan goes to standard error and `plan.txt`;
/// `record` is the provider's line that hands `changes` to the next step.
pub fn plan(record: &str) -> String {
    format!(
        r#"{STRICT}status=0
acmectl plan --file "$PLATFORM_FILE" {CFN_ROLE_FLAG} "$CFN_ROLE_ARN" 2>&1 \
  | tee plan.txt >&2 || status=$?
case "$status" in
  0) changes=false ;;
  1) changes=true ;;
  *) echo "acmectl plan failed (exit $status)" >&2; exit "$status" ;;
esac
{record}
"#
    )
}

/// Deploys the whole platform, its change sets run by the CloudFormation service role.
pub fn deploy_platform() -> String {
    format!("{STRICT}acmectl deploy --file \"$PLATFORM_FILE\" {CFN_ROLE_FLAG} \"$CFN_ROLE_ARN\" --yes\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_gate_counts_the_severity_and_every_worse_one() {
        let gate = scan_gate(Severity::High);
        assert!(gate.contains("aws ecr wait image-scan-complete --repository-name \"$REPOSITORY\""));
        assert!(gate.contains(
            "query='sum((imageScanFindings.findingSeverityCounts || `{}`)\n  .[CRITICAL, HIGH][?@ != `null`])'"
        ));
        assert!(gate.contains("--query \"$query\" --output text"));
        assert!(!gate.contains("MEDIUM"));
        assert!(gate.contains("if (( blocking > 0 )); then") && gate.contains("exit 1"));
        assert!(scan_gate(Severity::Informational).contains(".[CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL]"));
        assert!(scan_gate(Severity::Critical).contains(".[CRITICAL][?@"));
    }

    #[test]
    fn every_script_is_strict_and_free_of_template_syntax() {
        let scripts = [
            build_image(),
            push_image(),
            scan_gate(Severity::Low),
            deploy_service(),
            check(),
            plan("echo \"changes=$changes\""),
            deploy_platform(),
        ];
        for s in scripts.iter().chain([&assume_ci_role("acme-web-1")]) {
            assert!(!s.contains("${"), "Groovy or GitHub would read `${{`: {s}");
            assert!(s.ends_with('\n'), "{s}");
            for line in s.lines() {
                assert!(line.len() <= MAX_LINE, "line longer than {MAX_LINE}: {line}");
                assert!(!line.ends_with(' '), "trailing space: {line:?}");
            }
        }
        for s in &scripts {
            assert!(s.starts_with(STRICT), "{s}");
        }
    }

    #[test]
    fn the_push_uses_the_registry_output_and_the_commit_tag() {
        let push = push_image();
        assert!(push.contains(
            "aws cloudformation describe-stacks --stack-name \"$REGISTRY_STACK\" \\\n  \
             --query \"Stacks[0].Outputs[?OutputKey=='$REPOSITORY_URI_OUTPUT'].OutputValue\""
        ));
        assert!(push.contains("image=\"$uri:$IMAGE_TAG\""));
        assert!(push.contains("docker push \"$image\""));
        assert!(push.contains("--password-stdin"), "the registry password never appears in a command line");
    }

    #[test]
    fn plan_tells_changes_from_failure_by_exit_code() {
        let plan = plan("RECORD");
        assert!(plan.contains("acmectl plan --file \"$PLATFORM_FILE\" --cfn-role-arn \"$CFN_ROLE_ARN\" 2>&1"));
        assert!(plan.contains("0) changes=false") && plan.contains("1) changes=true"));
        assert!(plan.contains("*) echo \"acmectl plan failed (exit $status)\" >&2; exit \"$status\""));
        assert!(plan.ends_with("RECORD\n"));
    }
}
