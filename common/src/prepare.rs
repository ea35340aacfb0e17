//! The pure step the Lambda handler and `atrest evaluate` take first: from
//! a rule's spec and a decoded invocation to what the run needs (its
//! parameters, and, where the entry delivers to Config or assumes a role,
//! the result token and the execution role), checked before any AWS call.
//! (`scan` and `snapshot` take their parameters from `--param`, checked by
//! the same [`Parameters::parse`].)

use crate::error::Error;
use crate::event::Invocation;
use crate::params::{Parameters, ASSUME_EXECUTION_ROLE};
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

    /// The execution role to assume: the event's, when the rule's
    /// `assumeExecutionRole` parameter asks for it.
    pub fn execution_role(&self) -> Result<Option<&'a str>, Error> {
        if !self.params.bool(ASSUME_EXECUTION_ROLE) {
            return Ok(None);
        }
        let role = self.invocation.execution_role_arn.as_deref().ok_or_else(|| {
            Error::parameter(
                ASSUME_EXECUTION_ROLE,
                "is true, but the event carries no executionRoleArn to assume",
            )
        })?;
        Ok(Some(role))
    }
}
