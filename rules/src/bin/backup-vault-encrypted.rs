//! Lambda function of the `backup-vault-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::backup_vault_encrypted::RULE)
}
