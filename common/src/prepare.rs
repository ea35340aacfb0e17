//! The pure step the Lambda handler and `atrest evaluate` take first: from
//! a rule's spec and a decoded invocation to what the run needs (its
//! parameters, and, where the entry delivers to Config or assumes a role,
//! the result token and the execution role), checked before any AWS call.
//! (`scan` and `snapshot` take their parameters from `--param`, checked by
//! the same [`Parameters::parse`].)

use crate::error::Error;
use crate::event::Invocation;
use crate::params::{Parameters, ASSUME_EXECUTION_ROLE, EXECUTION_ROLE_NAME};
use crate::rule::RuleSpec;

/// An invocation checked against its rule.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub invocation: &'a Invocation,
    pub params: Parameters,
}

impl<'a> Prepared<'a> {
    /// Parses and checks the invocation's parameters against `spec`.
    pub fn new(spec: &RuleSpec, invocation: &'a Invocation) -> Result<Self, Error> {
        let params = Parameters::parse(spec.parameters, &invocation.parameters)?;
        Ok(Prepared { invocation, params })
    }

    /// The result token PutEvaluations needs; `TESTMODE` selects TestMode.
    pub fn result_token(&self) -> Result<&'a str, Error> {
        self.invocation
            .result_token
            .as_deref()
            .ok_or_else(|| Error::Event("resultToken is missing".into()))
    }

    /// The execution role to assume, when the rule's `assumeExecutionRole`
    /// parameter asks for it: the event's `executionRoleArn`, or, with
    /// `executionRoleName`, the role of that name in the same partition and
    /// account (what rdk's `ExecutionRoleName` does).
    pub fn execution_role(&self) -> Result<Option<String>, Error> {
        let name = self.params.text(EXECUTION_ROLE_NAME);
        if !self.params.bool(ASSUME_EXECUTION_ROLE) {
            return match name {
                Some(_) => Err(Error::parameter(
                    EXECUTION_ROLE_NAME,
                    "is set, but assumeExecutionRole is not true: set both, or neither",
                )),
                None => Ok(None),
            };
        }
        let role = self.invocation.execution_role_arn.as_deref().ok_or_else(|| {
            Error::parameter(
                ASSUME_EXECUTION_ROLE,
                "is true, but the event carries no executionRoleArn to assume",
            )
        })?;
        let Some(name) = name else {
            return Ok(Some(role.to_owned()));
        };
        // arn:PARTITION:iam::ACCOUNT:role/...: keep all before `role/`.
        match role.split_once(":role/") {
            Some((prefix, _)) if prefix.starts_with("arn:") && prefix.contains(":iam::") => {
                Ok(Some(format!("{prefix}:role/{name}")))
            }
            _ => Err(Error::Event(format!(
                "executionRoleArn `{role}` is not an IAM role ARN, so no role named {name} can be found beside it"
            ))),
        }
    }
}
