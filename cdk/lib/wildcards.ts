// The IAM actions the functions may hold on a wildcard resource, each named
// with why (the Service Authorization Reference, as the registry's table in
// common/src/iam.rs writes it). cdk-nag's AwsSolutions-IAM5 finding is
// acknowledged only for these: an action the registry starts to scope with a
// wildcard, and that is not here, fails the synthesis instead of being
// widened in silence.
import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ManifestRule } from './manifest';

const NO_RESOURCE_LEVEL = 'supports no resource-level permissions (Service Authorization Reference)';
const LISTING =
  'lists every resource of its type: a statement scoped to resources would not match the request';
const ANY_KEY =
  "reads metadata of any key in the region: a resource may be encrypted with another account's key, whose own key policy still decides";
const EVERY_OF_TYPE = 'reads every resource of this type in the account and region: a periodic sweep judges all of them';

/** A resource of the account and region, as the registry writes it. */
const own = (service: string, resource: string) => `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`;

/** The wildcard resources, each with its reason and the actions that may hold it. */
const GROUPS: ReadonlyArray<readonly [resource: string, reason: string, actions: readonly string[]]> = [
  [
    '*',
    NO_RESOURCE_LEVEL,
    [
      'config:PutEvaluations', 'config:GetResourceConfigHistory', 'ec2:DescribeVolumes', 'ec2:GetEbsDefaultKmsKeyId',
      'ec2:GetEbsEncryptionByDefault', 'kms:ListKeys', 'kms:ListAliases', 'lambda:ListFunctions', 's3:ListAllMyBuckets',
      'ssm:DescribeParameters', 'iam:GetAccountAuthorizationDetails', 'cloudwatch:DescribeAlarmsForMetric',
    ],
  ],
  [
    '*',
    LISTING,
    [
      'backup:ListBackupVaults', 'cloudtrail:DescribeTrails', 'dynamodb:ListTables', 'ecr:DescribeRepositories',
      'elasticfilesystem:DescribeFileSystems', 'kinesis:ListStreams', 'logs:DescribeLogGroups', 'secretsmanager:ListSecrets',
      'sns:ListTopics', 'sqs:ListQueues', 'events:ListRules', 'logs:DescribeMetricFilters',
    ],
  ],
  [
    '*',
    "a trail's status and selectors: trails of every region, and organization trails owned by the management account",
    ['cloudtrail:GetTrailStatus', 'cloudtrail:GetEventSelectors'],
  ],
  [
    'arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*',
    ANY_KEY,
    ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
  ],
  [
    own('config', 'config-rule/*'),
    "reads the rule's own earlier results to find deleted resources; Config names the rule only at run time",
    ['config:GetComplianceDetailsByConfigRule'],
  ],
  [own('backup', 'backup-vault:*'), EVERY_OF_TYPE, ['backup:ListTags']],
  [own('cloudtrail', 'trail/*'), EVERY_OF_TYPE, ['cloudtrail:ListTags']],
  [own('events', 'rule/*'), EVERY_OF_TYPE, ['events:ListTargetsByRule']],
  [own('dynamodb', 'table/*'), EVERY_OF_TYPE, ['dynamodb:DescribeTable', 'dynamodb:ListTagsOfResource']],
  [own('ecr', 'repository/*'), EVERY_OF_TYPE, ['ecr:ListTagsForResource']],
  [own('kinesis', 'stream/*'), EVERY_OF_TYPE, ['kinesis:DescribeStreamSummary', 'kinesis:ListTagsForStream']],
  [own('lambda', 'function:*'), EVERY_OF_TYPE, ['lambda:GetFunctionConfiguration', 'lambda:ListTags']],
  [own('logs', 'log-group:*'), EVERY_OF_TYPE, ['logs:ListTagsForResource']],
  [own('rds', 'db:*'), EVERY_OF_TYPE, ['rds:DescribeDBInstances']],
  [own('rds', 'cluster:*'), EVERY_OF_TYPE, ['rds:DescribeDBClusters']],
  [own('rds', 'snapshot:*'), EVERY_OF_TYPE, ['rds:DescribeDBSnapshots']],
  [own('rds', 'cluster-snapshot:*'), EVERY_OF_TYPE, ['rds:DescribeDBClusterSnapshots']],
  ['arn:${AWS::Partition}:s3:::*', EVERY_OF_TYPE, ['s3:GetEncryptionConfiguration', 's3:GetBucketTagging']],
  [own('sns', '*'), EVERY_OF_TYPE, ['sns:GetTopicAttributes', 'sns:ListTagsForResource']],
  [own('sqs', '*'), EVERY_OF_TYPE, ['sqs:GetQueueAttributes', 'sqs:ListQueueTags']],
  [own('ssm', 'parameter/*'), EVERY_OF_TYPE, ['ssm:ListTagsForResource']],
];

/** Per action, the wildcard resource it may have and the reason. */
export const JUSTIFIED_WILDCARDS: Readonly<Record<string, { readonly resource: string; readonly reason: string }>> =
  Object.fromEntries(GROUPS.flatMap(([resource, reason, actions]) => actions.map((a) => [a, { resource, reason }])));

/**
 * The reason `action` may hold the wildcard `resource`; an error naming both
 * when the action or that resource is not in the table.
 */
export function wildcardReason(ruleId: string, action: string, resource: string): string {
  const entry = JUSTIFIED_WILDCARDS[action];
  if (entry === undefined || entry.resource !== resource) {
    throw new Error(
      `atrest: rule ${ruleId} asks for ${action} on ${resource}, a wildcard resource no one has justified: ` +
        `scope it in common/src/iam.rs, or name it with its reason in cdk/lib/wildcards.ts`,
    );
  }
  return `${action} ${entry.reason}`;
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 on `scope` for the wildcard
 * resources of `rules`' actions, each with the reasons of the actions that
 * hold it; an unjustified one fails (see [`wildcardReason`]).
 */
export function acknowledgeWildcards(scope: IConstruct, rules: ManifestRule[]): void {
  const reasons = new Map<string, string[]>();
  for (const rule of rules) {
    for (const action of rule.iamActions) {
      for (const resource of rule.iamResources[action].filter((r) => r.includes('*'))) {
        const shown = resource.replace(/\$\{(AWS::[A-Za-z]+)\}/g, '<$1>');
        const why = wildcardReason(rule.id, action, resource);
        const known = reasons.get(shown) ?? [];
        if (!known.includes(why)) reasons.set(shown, [...known, why]);
      }
    }
  }
  for (const [resource, why] of reasons) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason: why.join('; ') });
  }
}
