//! Stale results: resources a periodic rule reported before but no longer
//! finds are reported NOT_APPLICABLE, so deleted resources do not stay
//! NON_COMPLIANT on dashboards.

use aws_sdk_config::types::ComplianceType;

use crate::error::{AwsError, Error};

/// A resource the rule has a result for, as (resource type, resource id).
pub type ResourceKey = (String, String);

/// The resources with a result of one of `types` for `rule_name`
/// (GetComplianceDetailsByConfigRule, every page).
pub async fn earlier_results(
    client: &aws_sdk_config::Client,
    rule_name: &str,
    types: &[ComplianceType],
) -> Result<Vec<ResourceKey>, Error> {
    let mut found = Vec::new();
    let mut request = client
        .get_compliance_details_by_config_rule()
        .config_rule_name(rule_name)
        .limit(100);
    for t in types {
        request = request.compliance_types(t.clone());
    }
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("config", "GetComplianceDetailsByConfigRule", &e))?;
        for result in page.evaluation_results() {
            let qualifier = result
                .evaluation_result_identifier()
                .and_then(|i| i.evaluation_result_qualifier());
            if let Some(q) = qualifier {
                if let (Some(t), Some(id)) = (q.resource_type(), q.resource_id()) {
                    found.push((t.to_owned(), id.to_owned()));
                }
            }
        }
    }
    Ok(found)
}
