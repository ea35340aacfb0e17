//! `atrest rules`: the catalogue of the registry.

use std::io::Write;

use atrest_common::RuleSpec;
use serde_json::{json, Value};

use crate::error::CliError;

/// The manifest entry of one rule.
pub fn manifest_entry(spec: &RuleSpec) -> Value {
    let triggers: Vec<&str> = [
        spec.triggers.change.then_some("change"),
        spec.triggers.periodic.then_some("periodic"),
    ]
    .into_iter()
    .flatten()
    .collect();
    json!({
        "id": spec.id,
        "description": spec.description,
        "evidence": spec.evidence,
        "resourceTypes": spec.resource_types,
        "scope": spec.scope(),
        "triggers": triggers,
        "parameters": spec.all_parameters().map(|p| json!({
            "name": p.name,
            "type": p.kind.name(),
            "default": p.default,
            "required": p.required,
            "description": p.description,
        })).collect::<Vec<_>>(),
        "iamActions": spec.iam_actions(),
        "iamResources": iam_resources(spec),
        "pciDss": {"v3.2.1": spec.pci_dss.v3_2_1, "v4.0": spec.pci_dss.v4_0},
        "timeoutSeconds": spec.timeout_seconds,
        "memoryMb": spec.memory_mb,
        "remediation": spec.remediation.map(remediation_entry),
    })
}

/// The manifest's view of a rule's remediation runbook.
fn remediation_entry(r: &atrest_common::remediation::Remediation) -> Value {
    json!({
        "runbook": r.runbook,
        "roleName": r.role_name(),
        "parameters": r.parameters.iter().map(|(name, value)| (name.to_string(), json!(value.name())))
            .collect::<serde_json::Map<String, Value>>(),
        "permissions": r.permissions.iter().map(|p| json!({"actions": p.actions, "resources": p.resources}))
            .collect::<Vec<_>>(),
        "note": r.note,
    })
}

/// The resources each IAM action can be scoped to (`*` where it cannot).
fn iam_resources(spec: &RuleSpec) -> serde_json::Map<String, Value> {
    spec.iam_actions()
        .into_iter()
        .map(|a| {
            let resources = atrest_common::iam::action_resources(a).unwrap_or(&["*"]);
            (a.to_owned(), json!(resources))
        })
        .collect()
}

pub fn run(as_json: bool) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let specs = atrest_rules::ALL.iter().map(|r| r.spec());
    if as_json {
        let manifest: Vec<Value> = specs.map(manifest_entry).collect();
        serde_json::to_writer_pretty(&mut out, &manifest).map_err(|e| CliError::Write(e.into()))?;
        writeln!(out).map_err(CliError::Write)?;
        return Ok(());
    }
    for spec in specs {
        let triggers = match (spec.triggers.change, spec.triggers.periodic) {
            (true, true) => "change + periodic",
            (true, false) => "change",
            _ => "periodic",
        };
        let params: Vec<String> = spec
            .all_parameters()
            .map(|p| match p.default {
                Some(d) => format!("{}={d}", p.name),
                None => p.name.to_owned(),
            })
            .collect();
        writeln!(
            out,
            "{}\n  {}\n  resource types: {}\n  triggers: {triggers}\n  parameters: {}\n  IAM actions: {}\n  PCI DSS v3.2.1: {}; v4.0: {}\n",
            spec.id,
            spec.description,
            spec.resource_types.join(", "),
            params.join(", "),
            spec.iam_actions().join(", "),
            spec.pci_dss.v3_2_1.join(", "),
            spec.pci_dss.v4_0.join(", "),
        )
        .map_err(CliError::Write)?;
    }
    Ok(())
}
