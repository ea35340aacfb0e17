//! `--param RULE.NAME=VALUE`: rule parameters on the command line.

use std::collections::{BTreeMap, HashMap};

use atrest_common::{Parameters, Rule};

use crate::error::CliError;

/// Raw parameters per rule id, from `--param` arguments.
pub fn parse(args: &[String]) -> Result<HashMap<String, BTreeMap<String, String>>, CliError> {
    let mut out: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for arg in args {
        let bad = || CliError::Param(format!("`{arg}`: expected RULE.NAME=VALUE"));
        let (key, value) = arg.split_once('=').ok_or_else(bad)?;
        let (rule, name) = key.split_once('.').ok_or_else(bad)?;
        if rule.is_empty() || name.is_empty() {
            return Err(bad());
        }
        if atrest_rules::find(rule).is_none() {
            return Err(CliError::UnknownRule(rule.to_owned()));
        }
        out.entry(rule.to_owned())
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }
    Ok(out)
}

/// A selected rule with its checked parameters (and the raw ones, as an
/// invocation carries them).
pub struct Selected {
    pub rule: &'static dyn Rule,
    pub params: Parameters,
    pub raw: BTreeMap<String, String>,
}

/// The rules named by `--rule` (all when none is named), each with its
/// parameters checked before anything is evaluated. When no rule is named,
/// a rule whose required parameters were not given is left out, with a
/// note for stderr (returned, to be printed once the inputs are read); a
/// named one is an error.
pub fn select(ids: &[String], params: &[String]) -> Result<(Vec<Selected>, Vec<String>), CliError> {
    let raw = parse(params)?;
    let named = !ids.is_empty();
    let rules: Vec<&'static dyn Rule> = if named {
        ids.iter()
            .map(|id| atrest_rules::find(id).ok_or_else(|| CliError::UnknownRule(id.clone())))
            .collect::<Result<_, _>>()?
    } else {
        atrest_rules::ALL.to_vec()
    };
    let mut selected = Vec::new();
    let mut notes = Vec::new();
    for rule in rules {
        let spec = rule.spec();
        let given = raw.get(spec.id).cloned().unwrap_or_default();
        match Parameters::parse(spec.parameters, &given) {
            Ok(params) => selected.push(Selected {
                rule,
                params,
                raw: given,
            }),
            Err(atrest_common::Error::Parameter { name, problem })
                if !named && !given.contains_key(&name) && problem.starts_with("required") =>
            {
                notes.push(format!(
                    "atrest: {} skipped: it needs --param {}.{name}=...",
                    spec.id, spec.id
                ));
            }
            Err(source) => {
                return Err(CliError::Rule {
                    path: format!("--param {}", spec.id),
                    source,
                })
            }
        }
    }
    Ok((selected, notes))
}
