//! What AWS says of the resources the pack touches, written once: which
//! resource types AWS Config records, and which resources each IAM action
//! of a rule can be scoped to (the Service Authorization Reference). The
//! rule manifest carries both, so the CDK app and `atrest pack` read them
//! from the registry instead of keeping lists of their own.

/// Resource types AWS Config does not record: a rule may report them (from
/// a periodic sweep) but they cannot be part of a Config rule's scope.
pub const UNRECORDED_RESOURCE_TYPES: &[&str] = &["AWS::SSM::Parameter", "AWS::Logs::LogGroup", "AWS::::Account"];

/// Whether AWS Config records `resource_type` (and so can trigger a rule
/// on its changes).
pub fn is_recorded(resource_type: &str) -> bool {
    !UNRECORDED_RESOURCE_TYPES.contains(&resource_type)
}

/// The resources `action` can be scoped to, as ARN patterns with the
/// `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}`
/// placeholders (CloudFormation's pseudo parameters); `["*"]` for an
/// action that supports no resource-level permissions; `None` for an
/// action this table does not know (a test keeps every rule's actions
/// known).
pub fn action_resources(action: &str) -> Option<&'static [&'static str]> {
    Some(match action {
        // Keys of any account: a resource may be encrypted with another account's key.
        "kms:DescribeKey" | "kms:GetKeyPolicy" | "kms:GetKeyRotationStatus" | "kms:ListResourceTags" => {
            &["arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*"]
        }
        "config:GetComplianceDetailsByConfigRule" => {
            &["arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*"]
        }
        "lambda:GetFunctionConfiguration" | "lambda:ListTags" => {
            &["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"]
        }
        "ssm:ListTagsForResource" => &["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"],
        "s3:GetEncryptionConfiguration" | "s3:GetBucketTagging" => &["arn:${AWS::Partition}:s3:::*"],
        "rds:DescribeDBInstances" => &["arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*"],
        "rds:DescribeDBClusters" => &["arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:*"],
        "rds:DescribeDBSnapshots" => &["arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:snapshot:*"],
        "rds:DescribeDBClusterSnapshots" => {
            &["arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-snapshot:*"]
        }
        "dynamodb:DescribeTable" | "dynamodb:ListTagsOfResource" => {
            &["arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"]
        }
        "sns:GetTopicAttributes" | "sns:ListTagsForResource" => {
            &["arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*"]
        }
        "sqs:GetQueueAttributes" | "sqs:ListQueueTags" => {
            &["arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*"]
        }
        "logs:ListTagsForResource" => &["arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"],
        "cloudtrail:ListTags" => &["arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/*"],
        "kinesis:DescribeStreamSummary" | "kinesis:ListTagsForStream" => {
            &["arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*"]
        }
        "ecr:ListTagsForResource" => &["arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"],
        "backup:ListTags" => &["arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:*"],
        // Listings of every resource: a resource-scoped statement would not
        // match the request (ecr:DescribeRepositories and
        // elasticfilesystem:DescribeFileSystems without names or ids).
        "dynamodb:ListTables"
        | "elasticfilesystem:DescribeFileSystems"
        | "secretsmanager:ListSecrets"
        | "sns:ListTopics"
        | "sqs:ListQueues"
        | "logs:DescribeLogGroups"
        | "cloudtrail:DescribeTrails"
        | "kinesis:ListStreams"
        | "ecr:DescribeRepositories"
        | "backup:ListBackupVaults"
        | "events:ListRules"
        | "logs:DescribeMetricFilters" => &["*"],
        // Trails of every region, and organization trails, which the
        // management account owns.
        "cloudtrail:GetTrailStatus" | "cloudtrail:GetEventSelectors" => &["*"],
        "events:ListTargetsByRule" => &["arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*"],
        // No resource-level permissions.
        "config:PutEvaluations"
        | "config:GetResourceConfigHistory"
        | "ec2:DescribeVolumes"
        | "ec2:GetEbsDefaultKmsKeyId"
        | "ec2:GetEbsEncryptionByDefault"
        | "kms:ListKeys"
        | "kms:ListAliases"
        | "lambda:ListFunctions"
        | "s3:ListAllMyBuckets"
        | "ssm:DescribeParameters"
        | "iam:GetAccountAuthorizationDetails"
        | "cloudwatch:DescribeAlarmsForMetric" => &["*"],
        _ => return None,
    })
}
