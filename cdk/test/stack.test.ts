// The synthesised RulesPackStack against the manifest: one function and one
// Config rule per rule, their triggers, scope, parameters and permissions,
// least privilege, and cdk-nag (AwsSolutions, PCI DSS 3.2.1) clean.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { NestedStack, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { buildApp } from '../bin/app';
import { loadManifest, recordedScope } from '../lib/manifest';
import { LAMBDA_POLICY_LIMIT, permissionStatement, policyBytes } from '../lib/resource-policy';
import { JUSTIFIED_WILDCARDS } from '../lib/wildcards';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = loadManifest(path.join(ROOT, 'rules', 'manifest.json'));
const TAGS = { 'kms-key-tags-aligned': { tagKeys: 'CostCenter,Application' } };
/** `aws organizations list-accounts --output json` of an organization of four accounts, one suspended. */
const ORG_ACCOUNTS = path.join(ROOT, 'cdk', 'test', 'data', 'organization-accounts.json');
const BASE = { 'atrest:parameters': TAGS };

/** The app with its member stack (when there is one), cdk-nag run. */
function buildAndSynth(context: Record<string, unknown>) {
  const built = buildApp({ ...BASE, ...context });
  built.app.synth();
  return { ...built, json: Template.fromStack(built.stack).toJSON() as { Resources: Record<string, any> } };
}

function synth(context: Record<string, unknown> = {}) {
  const { app, stack } = buildApp({ ...BASE, ...context });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as { Resources: Record<string, any> } };
}

function resources(json: { Resources: Record<string, any> }, type: string): any[] {
  return Object.values(json.Resources).filter((r) => r.Type === type);
}

const byName = (items: any[], name: string, key: string) => items.find((i) => i.Properties[key] === name);

/** The logical id of the stack's one queue: the failed invocations. */
/** Every invoke permission of the stack and its nested stacks. */
function invokePermissions(stack: Stack): any[] {
  const nested = stack.node.children.filter((c): c is NestedStack => c instanceof NestedStack);
  return [stack, ...nested].flatMap((s) => resources(Template.fromStack(s).toJSON() as any, 'AWS::Lambda::Permission'));
}

function queueId(json: { Resources: Record<string, any> }): string {
  const ids = Object.keys(json.Resources).filter((id) => json.Resources[id].Type === 'AWS::SQS::Queue');
  assert.equal(ids.length, 1);
  return ids[0];
}

/** An organization of `n` ACTIVE accounts, as `aws organizations list-accounts --output json` prints it. */
function organizationFile(n: number): string {
  const accounts = Array.from({ length: n }, (_, i) => ({ Id: String(100000000000 + i), Status: 'ACTIVE' }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atrest-org-')), 'accounts.json');
  fs.writeFileSync(file, JSON.stringify({ Accounts: accounts }));
  return file;
}

test('one function per manifest rule, provided.al2023 on arm64, handler bootstrap, memory and timeout from the spec', () => {
  const { json } = synth();
  const functions = resources(json, 'AWS::Lambda::Function');
  assert.equal(functions.length, manifest.length);
  for (const rule of manifest) {
    const fn = byName(functions, `atrest-${rule.id}`, 'FunctionName');
    assert.ok(fn, `no function for ${rule.id}`);
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.equal(fn.Properties.Handler, 'bootstrap');
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    assert.equal(fn.Properties.MemorySize, rule.memoryMb);
    assert.equal(fn.Properties.Timeout, rule.timeoutSeconds);
    const logGroup = json.Resources[fn.Properties.LoggingConfig.LogGroup.Ref];
    assert.equal(logGroup?.Type, 'AWS::Logs::LogGroup', `${rule.id} logs to its own log group`);
  }
  const logGroups = resources(json, 'AWS::Logs::LogGroup');
  assert.equal(logGroups.length, manifest.length);
  for (const lg of logGroups) {
    assert.equal(lg.Properties.RetentionInDays, 365);
    // Kept as evidence, and never named: a redeploy after a destroy, or a
    // leftover /aws/lambda/atrest-* group, cannot stop the deploy with "already exists".
    assert.equal(lg.DeletionPolicy, 'Retain');
    assert.equal(lg.UpdateReplacePolicy, 'Retain');
    assert.equal(lg.Properties.LogGroupName, undefined);
  }
});

test('one Config rule per manifest rule, with its triggers, scope and parameters', () => {
  const { json } = synth({ 'atrest:scheduleFrequency': 'Six_Hours' });
  const rules = resources(json, 'AWS::Config::ConfigRule');
  assert.equal(rules.length, manifest.length);
  for (const rule of manifest) {
    const cr = byName(rules, `atrest-${rule.id}`, 'ConfigRuleName');
    assert.ok(cr, `no Config rule for ${rule.id}`);
    assert.equal(cr.Properties.Source.Owner, 'CUSTOM_LAMBDA');
    const messages = cr.Properties.Source.SourceDetails.map((d: any) => d.MessageType).sort();
    const scope = recordedScope(rule);
    const change = rule.triggers.includes('change') && scope.length > 0;
    const expected = [
      ...(change ? ['ConfigurationItemChangeNotification', 'OversizedConfigurationItemChangeNotification'] : []),
      ...(rule.triggers.includes('periodic') ? ['ScheduledNotification'] : []),
    ].sort();
    assert.deepEqual(messages, expected, rule.id);
    for (const d of cr.Properties.Source.SourceDetails) {
      assert.equal(d.EventSource, 'aws.config');
      assert.equal(d.MaximumExecutionFrequency, d.MessageType === 'ScheduledNotification' ? 'Six_Hours' : undefined);
    }
    if (change) {
      assert.deepEqual(cr.Properties.Scope.ComplianceResourceTypes, scope);
    } else {
      assert.equal(cr.Properties.Scope, undefined, `${rule.id} is periodic only: no scope`);
    }
  }
  const tags = byName(rules, 'atrest-kms-key-tags-aligned', 'ConfigRuleName');
  assert.deepEqual(tags.Properties.InputParameters, { tagKeys: 'CostCenter,Application' });
  assert.ok(!tags.Properties.Scope.ComplianceResourceTypes.includes('AWS::SSM::Parameter'));
  assert.equal(byName(rules, 'atrest-ebs-volume-encrypted', 'ConfigRuleName').Properties.InputParameters, undefined);
});

test('each function has its own role: exactly the manifest actions and its own log stream, no wildcard action', () => {
  const { json } = synth();
  const policies = resources(json, 'AWS::IAM::ManagedPolicy');
  assert.equal(policies.length, manifest.length);
  assert.equal(resources(json, 'AWS::IAM::Policy').length, 0, 'no inline policies');
  const roles = resources(json, 'AWS::IAM::Role');
  assert.equal(roles.length, manifest.length);
  for (const role of roles) {
    // Generated names under one path: what member accounts' execution roles trust.
    assert.equal(role.Properties.Path, '/atrest/');
    assert.equal(role.Properties.RoleName, undefined);
    assert.equal(role.Properties.ManagedPolicyArns.length, 1);
    assert.ok(!JSON.stringify(role.Properties.ManagedPolicyArns).includes('arn:aws:iam::aws:policy'), 'no AWS managed policy');
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal, { Service: 'lambda.amazonaws.com' });
  }
  for (const rule of manifest) {
    const policy = policies.find((p) => p.Properties.Description.includes(` ${rule.id} `));
    assert.ok(policy, `no policy for ${rule.id}`);
    const statements = policy.Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    assert.deepEqual(
      [...actions].sort(),
      [...rule.iamActions, 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage'].sort(),
      rule.id,
    );
    const send = statements.find((s: any) => s.Action === 'sqs:SendMessage');
    assert.deepEqual(send.Resource, { 'Fn::GetAtt': [queueId(json), 'Arn'] }, `${rule.id} sends only to the failure queue`);
    for (const s of statements) {
      assert.equal(s.Effect, 'Allow');
      assert.equal(s.NotAction, undefined);
    }
    for (const action of actions) {
      assert.ok(!action.includes('*'), `${rule.id}: wildcard action ${action}`);
      assert.ok(!/^kms:(Decrypt|ReEncrypt|GenerateDataKey|Encrypt|CreateGrant)/.test(action), `${rule.id}: ${action}`);
      assert.ok(!/^ssm:GetParameter/.test(action), `${rule.id}: ${action}`);
      assert.ok(!/^s3:GetObject/.test(action), `${rule.id}: ${action}`);
    }
    const kmsStatement = statements.find((s: any) => [s.Action].flat().includes('kms:DescribeKey'));
    if (kmsStatement) {
      assert.notEqual(kmsStatement.Resource, '*', `${rule.id}: kms:DescribeKey is scoped to keys`);
    }
  }
});

test('AWS Config, and only for this account, may invoke each function', () => {
  const { json } = synth();
  const permissions = resources(json, 'AWS::Lambda::Permission');
  assert.equal(permissions.length, manifest.length);
  for (const p of permissions) {
    assert.equal(p.Properties.Principal, 'config.amazonaws.com');
    assert.equal(p.Properties.Action, 'lambda:InvokeFunction');
    assert.deepEqual(p.Properties.SourceAccount, { Ref: 'AWS::AccountId' });
  }
  const central = synth({ 'atrest:invokerAccountIds': ['111122223333', '444455556666'] });
  const accounts = invokePermissions(central.stack).map((p) => JSON.stringify(p.Properties.SourceAccount));
  assert.equal(accounts.length, manifest.length * 3);
  assert.equal(accounts.filter((a) => a === '"444455556666"').length, manifest.length);
});

test('other accounts\' invoke permissions go to nested stacks of at most 490 resources (CloudFormation allows 500 a stack)', () => {
  const { stack, json } = synth({ 'atrest:invokerAccountIds': Array.from({ length: 45 }, (_, i) => String(200000000000 + i)) });
  const nested = stack.node.children.filter((c): c is NestedStack => c instanceof NestedStack);
  const perStack = Math.floor(490 / manifest.length);
  assert.equal(nested.length, Math.ceil(45 / perStack));
  for (const n of nested) {
    const count = Object.keys((Template.fromStack(n).toJSON() as any).Resources).length;
    assert.ok(count <= 490, `${n.node.id}: ${count} resources`);
  }
  assert.ok(Object.keys(json.Resources).length < 500);
  assert.equal(invokePermissions(stack).length, manifest.length * 46);
});

test('an organization pack is invoked from every ACTIVE account it does not exclude, derived from list-accounts', () => {
  // Without the organization's accounts, the pack would go CREATE_FAILED in each unlisted one.
  assert.throws(
    () => synth({ 'atrest:deployAs': 'organization-conformance-pack' }),
    /aws organizations list-accounts --output json > accounts.json.*atrest:organizationAccounts/,
  );
  const org = synth({
    'atrest:deployAs': 'organization-conformance-pack',
    'atrest:organizationAccounts': ORG_ACCOUNTS,
    'atrest:excludedAccounts': '111122223333',
  });
  const [pack] = resources(org.json, 'AWS::Config::OrganizationConformancePack');
  assert.deepEqual(pack.Properties.ExcludedAccounts, ['111122223333']);
  const invokers = new Set(invokePermissions(org.stack).map((p) => JSON.stringify(p.Properties.SourceAccount)));
  // ACTIVE (by Status or by State), not excluded, not suspended; and this account.
  assert.deepEqual([...invokers].sort(), ['"123456789012"', '"444455556666"', JSON.stringify({ Ref: 'AWS::AccountId' })].sort());
  const nested = Object.keys(org.json.Resources).filter((id) => org.json.Resources[id].Type === 'AWS::CloudFormation::Stack');
  assert.equal(nested.length, 1);
  assert.ok(pack.DependsOn.includes(nested[0]), 'the pack waits for every invoke permission');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ 'atrest:excludedAccounts': '999999999999' }, /atrest:excludedAccounts is "999999999999".*ACTIVE accounts of atrest:organizationAccounts/],
    [{ 'atrest:excludedAccounts': '123456789012,111122223333,444455556666' }, /at least one account/],
    [{ 'atrest:invokerAccountIds': '111122223333' }, /drop atrest:invokerAccountIds/],
    [{ 'atrest:organizationAccounts': '/nonexistent.json' }, /atrest:organizationAccounts is "\/nonexistent.json"/],
  ];
  for (const [context, message] of cases) {
    assert.throws(
      () => synth({ 'atrest:deployAs': 'organization-conformance-pack', 'atrest:organizationAccounts': ORG_ACCOUNTS, ...context }),
      message,
      JSON.stringify(context),
    );
  }
  assert.throws(() => synth({ 'atrest:excludedAccounts': '111122223333' }), /apply only to atrest:deployAs=organization-conformance-pack/);
});

test('invoke permissions stay within the 20 KB of a Lambda resource policy: the ceiling is measured, and above it synthesis fails', () => {
  // The statement Lambda writes for a synthesised permission, at its largest.
  const longestName = Math.max(...manifest.map((r) => `atrest-${r.id}`.length));
  const statement = permissionStatement({ functionName: 'x'.repeat(longestName), sourceAccount: '111122223333' });
  const perStatement = Buffer.byteLength(JSON.stringify(statement)) + 1;
  const ceiling = Math.floor((LAMBDA_POLICY_LIMIT - policyBytes([])) / perStatement);
  // About 60-70 accounts, as the issue estimated; the README states the figure.
  assert.ok(ceiling > 50 && ceiling < 80, `ceiling ${ceiling} (${perStatement} bytes a statement)`);
  const org = (n: number) => ({ 'atrest:deployAs': 'organization-conformance-pack', 'atrest:organizationAccounts': organizationFile(n) });
  assert.doesNotThrow(() => synth(org(ceiling - 2)));
  assert.throws(() => synth(org(ceiling + 1)), /resource-based policy holds 20480 bytes: about \d+ accounts.*deploy the functions in every account/);
});

test('the architecture setting reaches every function and picks its packages', () => {
  const { json } = synth({ 'atrest:architecture': 'x86_64' });
  for (const fn of resources(json, 'AWS::Lambda::Function')) {
    assert.deepEqual(fn.Properties.Architectures, ['x86_64']);
  }
  assert.throws(
    () => synth({ 'atrest:architecture': 'x86_64', 'atrest:packageRoot': '/nonexistent' }),
    /no package for rule .* run `make package ARCH=x86_64`/,
  );
});

test('the optional customer-managed key: rotation on, encrypts every environment and log group', () => {
  const { json } = synth({ 'atrest:encryptionKey': true });
  const keys = resources(json, 'AWS::KMS::Key');
  assert.equal(keys.length, 1);
  assert.equal(keys[0].Properties.EnableKeyRotation, true);
  for (const fn of resources(json, 'AWS::Lambda::Function')) assert.ok(fn.Properties.KmsKeyArn);
  for (const lg of resources(json, 'AWS::Logs::LogGroup')) assert.ok(lg.Properties.KmsKeyId);
  const plain = synth();
  assert.equal(resources(plain.json, 'AWS::KMS::Key').length, 0);
});

test('conformance packs: for the account, and for the organization with excluded accounts', () => {
  const account = synth({ 'atrest:deployAs': 'conformance-pack' });
  assert.equal(resources(account.json, 'AWS::Config::ConfigRule').length, 0, 'the rules live in the pack');
  const [pack] = resources(account.json, 'AWS::Config::ConformancePack');
  assert.equal(pack.Properties.ConformancePackName, 'atrest');
  const body = JSON.stringify(pack.Properties.TemplateBody);
  for (const rule of manifest) assert.ok(body.includes(`atrest-${rule.id}`), `${rule.id} in the pack`);
  assert.ok(pack.DependsOn.length >= manifest.length, 'the pack waits for the invoke permissions');

  const org = synth({
    'atrest:deployAs': 'organization-conformance-pack',
    'atrest:organizationAccounts': ORG_ACCOUNTS,
    'atrest:excludedAccounts': '111122223333',
  });
  const [orgPack] = resources(org.json, 'AWS::Config::OrganizationConformancePack');
  assert.deepEqual(orgPack.Properties.ExcludedAccounts, ['111122223333']);
  assert.equal(resources(org.json, 'AWS::Config::ConfigRule').length, 0);
  // Every rule of the central pack works in the member account it evaluates.
  const orgBody = JSON.stringify(orgPack.Properties.TemplateBody);
  const assumed = (orgBody.match(/assumeExecutionRole\\":\\"true/g) ?? []).length;
  assert.equal(assumed, manifest.length, orgBody.slice(0, 400));

  // Functions only: an organization pack from `atrest pack` calls them in each account.
  const functions = synth({ 'atrest:deployAs': 'functions' });
  assert.equal(resources(functions.json, 'AWS::Lambda::Function').length, manifest.length);
  assert.equal(resources(functions.json, 'AWS::Lambda::Permission').length, manifest.length);
  for (const type of ['AWS::Config::ConfigRule', 'AWS::Config::ConformancePack', 'AWS::Config::OrganizationConformancePack']) {
    assert.equal(resources(functions.json, type).length, 0, type);
  }
});

test('a rule that assumes the execution role may assume only atrest:executionRoleName, in its own account', () => {
  const params = { ...TAGS, 'ebs-volume-encrypted': { assumeExecutionRole: 'true' } };
  const { json } = synth({ 'atrest:parameters': params, 'atrest:executionRoleName': 'audit/atrest-reader' });
  const assumes = resources(json, 'AWS::IAM::ManagedPolicy').filter((p) =>
    JSON.stringify(p.Properties.PolicyDocument).includes('sts:AssumeRole'),
  );
  assert.equal(assumes.length, 1);
  const statement = assumes[0].Properties.PolicyDocument.Statement.find((s: any) => s.Action === 'sts:AssumeRole');
  assert.ok(JSON.stringify(statement.Resource).includes(':iam::*:role/audit/atrest-reader'));
  assert.deepEqual(statement.Condition, { StringEquals: { 'aws:ResourceAccount': [{ Ref: 'AWS::AccountId' }] } });
  const rule = byName(resources(json, 'AWS::Config::ConfigRule'), 'atrest-ebs-volume-encrypted', 'ConfigRuleName');
  assert.deepEqual(rule.Properties.InputParameters, { assumeExecutionRole: 'true', executionRoleName: 'audit/atrest-reader' });
});

test('the central pattern: every rule assumes the execution role of the account it evaluates, in the invoking accounts only', () => {
  const { json, memberStack } = buildAndSynth({ 'atrest:invokerAccountIds': '111122223333,444455556666' });
  for (const rule of resources(json, 'AWS::Config::ConfigRule')) {
    assert.equal(rule.Properties.InputParameters.assumeExecutionRole, 'true', rule.Properties.ConfigRuleName);
    assert.equal(rule.Properties.InputParameters.executionRoleName, 'atrest-execution');
  }
  for (const policy of resources(json, 'AWS::IAM::ManagedPolicy')) {
    const statement = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Action === 'sts:AssumeRole');
    assert.ok(statement, policy.Properties.Description);
    assert.deepEqual(statement.Condition.StringEquals['aws:ResourceAccount'], [{ Ref: 'AWS::AccountId' }, '111122223333', '444455556666']);
  }
  assert.ok(memberStack, 'the member-account template is synthesised');
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ 'atrest:parameters': { ...TAGS, 'ebs-volume-encrypted': { assumeExecutionRole: 'false' } } }, /ebs-volume-encrypted.assumeExecutionRole is false/],
    [{ 'atrest:parameters': { ...TAGS, 'ebs-volume-encrypted': { executionRoleName: 'x' } } }, /set context atrest:executionRoleName/],
    [{ 'atrest:executionRoleArns': 'arn:aws:iam::*:role/x' }, /atrest:executionRoleArns .*atrest:executionRoleName/],
    [{ 'atrest:executionRoleName': 'arn:aws:iam::1:role/x' }, /atrest:executionRoleName .*role name/],
  ];
  for (const [context, message] of refused) {
    assert.throws(() => synth({ 'atrest:invokerAccountIds': '111122223333', ...context }), message, JSON.stringify(context));
  }
  // Without other invokers there is no member template.
  assert.equal(buildApp(BASE).memberStack, undefined);
});

test('the member-account template: StackSet-ready, trusted by the central roles only, exactly the rules\' actions', () => {
  const { memberStack } = buildAndSynth({ 'atrest:invokerAccountIds': '111122223333', 'atrest:executionRoleName': 'audit/atrest-reader' });
  const member = Template.fromStack(memberStack!).toJSON() as any;
  // No bootstrap version rule or parameter, no asset: deploys to accounts CDK never bootstrapped.
  assert.deepEqual(Object.keys(member.Parameters), ['CentralAccountId']);
  assert.equal(member.Rules, undefined);
  assert.ok(!JSON.stringify(member).includes('cdk-hnb659fds'), 'no bootstrap bucket or role');
  const [role] = resources(member, 'AWS::IAM::Role');
  assert.equal(role.Properties.RoleName, 'atrest-reader');
  assert.equal(role.Properties.Path, '/audit/');
  const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
  const central = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'CentralAccountId' }, suffix]] });
  assert.deepEqual(trust.Principal, { AWS: central(':root') });
  assert.deepEqual(trust.Condition, { ArnLike: { 'aws:PrincipalArn': central(':role/atrest/*') } });
  const [policy] = resources(member, 'AWS::IAM::ManagedPolicy');
  const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
  assert.deepEqual([...actions].sort(), [...new Set(manifest.flatMap((r) => r.iamActions))].sort());
  assert.ok(actions.includes('config:PutEvaluations'));
  assert.equal(resources(member, 'AWS::IAM::Policy').length, 0);
});

test('failed invocations are kept and alarmed: an encrypted queue as on-failure destination, alarms on errors and throttles', () => {
  const { json } = synth();
  const id = queueId(json);
  const queue = json.Resources[id];
  assert.equal(queue.Properties.SqsManagedSseEnabled, true);
  assert.equal(queue.Properties.MessageRetentionPeriod, 14 * 24 * 3600);
  const configs = resources(json, 'AWS::Lambda::EventInvokeConfig');
  assert.equal(configs.length, manifest.length);
  for (const c of configs) {
    assert.equal(c.Properties.MaximumRetryAttempts, 2);
    assert.deepEqual(c.Properties.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': [id, 'Arn'] });
  }
  const alarms = resources(json, 'AWS::CloudWatch::Alarm');
  const metrics = alarms.map((a) => a.Properties.MetricName).sort();
  assert.equal(metrics.filter((m) => m === 'Errors').length, manifest.length);
  assert.equal(metrics.filter((m) => m === 'Throttles').length, manifest.length);
  assert.equal(metrics.filter((m) => m === 'ApproximateNumberOfMessagesVisible').length, 1);
  const topics = resources(json, 'AWS::SNS::Topic');
  assert.equal(topics.length, 1);
  for (const alarm of alarms) assert.equal(alarm.Properties.AlarmActions.length, 1);

  // With the customer-managed key: the queue and topic are under it; the
  // functions may use it only through SQS.
  const keyed = synth({ 'atrest:encryptionKey': true });
  const keyId = Object.keys(keyed.json.Resources).find((k) => keyed.json.Resources[k].Type === 'AWS::KMS::Key')!;
  assert.deepEqual(keyed.json.Resources[queueId(keyed.json)].Properties.KmsMasterKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] });
  assert.deepEqual(resources(keyed.json, 'AWS::SNS::Topic')[0].Properties.KmsMasterKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] });
  for (const policy of resources(keyed.json, 'AWS::IAM::ManagedPolicy')) {
    const kmsData = policy.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().includes('kms:Decrypt'));
    assert.equal(kmsData.length, 1);
    assert.deepEqual(kmsData[0].Resource, { 'Fn::GetAtt': [keyId, 'Arn'] });
    assert.ok(JSON.stringify(kmsData[0].Condition).includes('kms:ViaService'));
  }
  // The operator's own topic instead.
  const own = synth({ 'atrest:alarmTopicArn': 'arn:aws:sns:eu-west-1:111122223333:secops' });
  assert.equal(resources(own.json, 'AWS::SNS::Topic').length, 0);
  for (const alarm of resources(own.json, 'AWS::CloudWatch::Alarm')) {
    assert.deepEqual(alarm.Properties.AlarmActions, ['arn:aws:sns:eu-west-1:111122223333:secops']);
  }
});

test('StackSet-ready synthesis of the functions: the organization\'s bucket of each region, no bootstrap rule', () => {
  const context = { 'atrest:deployAs': 'functions', 'atrest:stackSetAssets': 'acme-atrest-assets' };
  const { app, stack } = buildApp({ ...BASE, ...context });
  const assembly = app.synth();
  const json = Template.fromStack(stack).toJSON() as any;
  assert.equal(json.Parameters?.BootstrapVersion, undefined);
  assert.equal(json.Rules, undefined);
  assert.ok(!JSON.stringify(json).includes('cdk-hnb659fds'), 'no CDK bootstrap bucket or role');
  const functions = resources(json, 'AWS::Lambda::Function');
  assert.equal(functions.length, manifest.length);
  for (const fn of functions) {
    assert.deepEqual(fn.Properties.Code.S3Bucket, { 'Fn::Sub': 'acme-atrest-assets-${AWS::Region}' });
    assert.match(fn.Properties.Code.S3Key, /^atrest\/[0-9a-f]{64}\.zip$/);
  }
  const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'AtrestRules.assets.json'), 'utf8'));
  const destinations = Object.values<any>(assets.files).flatMap((f) => Object.values<any>(f.destinations));
  // The packages, and the template itself (which the runbook copies to a name of its own).
  assert.equal(destinations.filter((d) => d.objectKey.endsWith('.zip')).length, manifest.length);
  assert.equal(destinations.length, manifest.length + 1);
  for (const d of destinations) {
    assert.equal(d.bucketName, 'acme-atrest-assets-${AWS::Region}');
    assert.equal(d.assumeRoleArn, undefined, 'published with the caller\'s credentials');
  }
  // The default synthesis keeps CDK's bootstrap check.
  assert.ok((synth().json as any).Parameters?.BootstrapVersion);
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ 'atrest:deployAs': 'rules' }, /atrest:stackSetAssets .*atrest:deployAs=functions/],
    [{ 'atrest:invokerAccountIds': '111122223333' }, /atrest:stackSetAssets .*no atrest:invokerAccountIds/],
    [{ 'atrest:stackSetAssets': 'Acme_Assets' }, /atrest:stackSetAssets .*bucket name prefix/],
  ];
  for (const [extra, message] of refused) {
    assert.throws(() => synth({ ...context, ...extra }), message, JSON.stringify(extra));
  }
});

test('a wildcard resource no one has justified fails the synthesis instead of being acknowledged', () => {
  // Every wildcard of the registry is named, with its reason.
  for (const rule of manifest) {
    for (const action of rule.iamActions) {
      for (const resource of rule.iamResources[action].filter((r) => r.includes('*'))) {
        assert.equal(JUSTIFIED_WILDCARDS[action]?.resource, resource, `${rule.id}: ${action} on ${resource}`);
      }
    }
  }
  const widened = manifest.map((r) =>
    r.id === 'ebs-volume-encrypted' ? { ...r, iamResources: { ...r.iamResources, 'kms:DescribeKey': ['*'] } } : r,
  );
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atrest-manifest-')), 'manifest.json');
  fs.writeFileSync(file, JSON.stringify(widened));
  assert.throws(() => synth({ 'atrest:manifest': file }), /ebs-volume-encrypted asks for kms:DescribeKey on \*, a wildcard resource no one has justified/);
});

test('remediation: one automation role per runbook, trusted by Automation for this account, and the runbooks beside their rules', () => {
  const none = synth();
  assert.equal(resources(none.json, 'AWS::Config::RemediationConfiguration').length, 0, 'opt-in');

  const key = 'arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1';
  const { json } = synth({ 'atrest:remediation': 'manual', 'atrest:remediationKeyArn': key });
  const fixes = resources(json, 'AWS::Config::RemediationConfiguration');
  const remediable = manifest.filter((r) => r.remediation !== null);
  assert.equal(fixes.length, remediable.length);
  for (const rule of remediable) {
    const fix = fixes.find((f) => f.Properties.TargetId === rule.remediation!.runbook);
    assert.ok(fix, rule.id);
    assert.equal(fix.Properties.ConfigRuleName, `atrest-${rule.id}`);
    assert.equal(fix.Properties.Automatic, false);
    const role = resources(json, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === rule.remediation!.roleName);
    assert.ok(role, rule.remediation!.roleName);
    assert.equal(role.Properties.Path, '/atrest/');
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0];
    assert.deepEqual(trust.Principal, { Service: 'ssm.amazonaws.com' });
    assert.deepEqual(trust.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    // The role holds exactly the runbook's documented actions.
    const policy = resources(json, 'AWS::IAM::ManagedPolicy').find((p) =>
      JSON.stringify(p.Properties.Roles ?? []).includes(Object.keys(json.Resources).find((id) => json.Resources[id] === role)!),
    );
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()).sort();
    assert.deepEqual(actions, rule.remediation!.permissions.flatMap((p) => p.actions).sort(), rule.id);
  }
  const sns = fixes.find((f) => f.Properties.TargetId === 'AWSConfigRemediation-EncryptSNSTopic');
  assert.deepEqual(sns.Properties.Parameters.KmsKeyArn, { StaticValue: { Values: [key] } });

  // Without the key the SNS runbook, and its role, are left out.
  const keyless = synth({ 'atrest:remediation': 'automatic' });
  const keylessFixes = resources(keyless.json, 'AWS::Config::RemediationConfiguration');
  assert.equal(keylessFixes.length, remediable.length - 1);
  assert.ok(keylessFixes.every((f) => f.Properties.Automatic === true && f.Properties.MaximumAutomaticAttempts === 5));
  assert.ok(!resources(keyless.json, 'AWS::IAM::Role').some((r) => r.Properties.RoleName === 'atrest-remediation-encrypt-sns-topic'));

  // An organization pack: the runbooks in the pack, the roles in the member template too.
  const org = buildAndSynth({
    'atrest:deployAs': 'organization-conformance-pack',
    'atrest:organizationAccounts': ORG_ACCOUNTS,
    'atrest:remediation': 'manual',
  });
  const [orgPack] = resources(org.json, 'AWS::Config::OrganizationConformancePack');
  const orgBody = JSON.stringify(orgPack.Properties.TemplateBody);
  assert.ok(orgBody.includes('AWSConfigRemediation-EnableKeyRotation'));
  // Each account's own role, resolved by the pack in that account.
  assert.ok(orgBody.includes('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/atrest/atrest-remediation-enable-key-rotation'));
  assert.deepEqual(orgPack.Metadata['cfn-lint'], { config: { ignore_checks: ['E1029'] } });
  const member = Template.fromStack(org.memberStack!).toJSON() as { Resources: Record<string, any> };
  const memberRoles = resources(member, 'AWS::IAM::Role').map((r) => r.Properties.RoleName).filter(Boolean).sort();
  assert.deepEqual(memberRoles, [
    'atrest-execution',
    'atrest-remediation-cancel-key-deletion',
    'atrest-remediation-enable-ebs-encryption-by-default',
    'atrest-remediation-enable-key-rotation',
  ]);
});

test('KMS alerts: the critical calls, exactly as configured, and KMS key events, to a topic under a rotating customer-managed key', () => {
  assert.equal(resources(synth().json, 'AWS::Events::Rule').length, 0, 'off by default');
  const { json } = synth({ 'atrest:alerts': 'on' });
  const rules = resources(json, 'AWS::Events::Rule');
  assert.equal(rules.length, 2);
  const calls = byName(rules, 'atrest-kms-critical-calls', 'Name');
  // The pattern the moto test holds kms-critical-calls-monitored COMPLIANT on.
  const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk', 'test', 'data', 'critical-calls-pattern.json'), 'utf8'));
  assert.deepEqual(calls.Properties.EventPattern, committed);
  const keyEvents = byName(rules, 'atrest-kms-key-events', 'Name');
  assert.deepEqual(keyEvents.Properties.EventPattern, {
    source: ['aws.kms'],
    'detail-type': ['KMS CMK Rotation', 'KMS CMK Deletion', 'KMS Imported Key Material Expiration'],
  });
  const topics = resources(json, 'AWS::SNS::Topic').filter((t) => t.Properties.DisplayName?.includes('KMS'));
  assert.equal(topics.length, 1);
  const topicId = Object.keys(json.Resources).find((id) => json.Resources[id] === topics[0])!;
  for (const rule of [calls, keyEvents]) {
    assert.equal(rule.Properties.State, 'ENABLED');
    assert.deepEqual(rule.Properties.Targets.map((t: any) => t.Arn), [{ Ref: topicId }]);
  }
  const keyId = topics[0].Properties.KmsMasterKeyId['Fn::GetAtt'][0];
  assert.equal(json.Resources[keyId].Properties.EnableKeyRotation, true);
  // Only the two rules may publish.
  const [policy] = resources(json, 'AWS::SNS::TopicPolicy').filter((p) => JSON.stringify(p.Properties.Topics).includes(topicId));
  const publish = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Effect === 'Allow' && st.Action === 'sns:Publish');
  assert.deepEqual(publish.Principal, { Service: 'events.amazonaws.com' });
  assert.equal(publish.Condition.ArnEquals['aws:SourceArn'].length, 2);

  // Narrowed by the rule's own parameter: the pattern follows it exactly.
  const narrowed = synth({
    'atrest:alerts': 'on',
    'atrest:parameters': { ...TAGS, 'kms-critical-calls-monitored': { criticalActions: 'kms:DisableKey, ScheduleKeyDeletion,kms:DisableKey' } },
  });
  const pattern = byName(resources(narrowed.json, 'AWS::Events::Rule'), 'atrest-kms-critical-calls', 'Name').Properties.EventPattern;
  assert.deepEqual(pattern.detail.eventName, ['DisableKey', 'ScheduleKeyDeletion']);
});

test('bad settings are errors naming the setting', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ 'atrest:architecture': 'sparc' }, /atrest:architecture .*arm64 or x86_64/],
    [{ 'atrest:scheduleFrequency': 'Daily' }, /atrest:scheduleFrequency/],
    [{ 'atrest:logRetentionDays': 42 }, /atrest:logRetentionDays/],
    [{ 'atrest:parameters': { 'no-such-rule': {} } }, /unknown rule "no-such-rule"/],
    [{ 'atrest:parameters': { ...TAGS, 'kms-alias-naming': { aliasPatern: 'x' } } }, /kms-alias-naming has no parameter "aliasPatern"/],
    [{ 'atrest:parameters': { ...TAGS, 'ebs-volume-encrypted': { allowAwsManagedKeys: 'maybe' } } }, /ebs-volume-encrypted.allowAwsManagedKeys .*true or false/],
    [{ 'atrest:parameters': {} }, /kms-key-tags-aligned needs parameter tagKeys/],
    [{ 'atrest:invokerAccountIds': ['12345'] }, /atrest:invokerAccountIds .*twelve-digit/],
    [{ 'atrest:deployAs': 'stackset' }, /atrest:deployAs/],
    [{ 'atrest:remediation': 'auto' }, /atrest:remediation .*none, manual or automatic/],
    [{ 'atrest:remediationKeyArn': 'alias/payments' }, /atrest:remediationKeyArn .*a KMS key ARN/],
    [{ 'atrest:alerts': 'yes' }, /atrest:alerts .*none or on/],
  ];
  for (const [context, message] of cases) {
    assert.throws(() => buildApp({ ...BASE, ...context }), message, JSON.stringify(context));
  }
  // Leaving a rule out is the way around its required parameter.
  const { json } = synth({ 'atrest:parameters': {}, 'atrest:rules': manifest.filter((r) => r.id !== 'kms-key-tags-aligned').map((r) => r.id) });
  assert.equal(resources(json, 'AWS::Config::ConfigRule').length, manifest.length - 1);
});

test('cdk-nag AwsSolutions and PCI DSS 3.2.1 report no unacknowledged finding', () => {
  for (const context of [
    {},
    { 'atrest:encryptionKey': true },
    { 'atrest:deployAs': 'organization-conformance-pack', 'atrest:organizationAccounts': ORG_ACCOUNTS },
    { 'atrest:invokerAccountIds': '111122223333', 'atrest:encryptionKey': true },
    { 'atrest:remediation': 'automatic', 'atrest:remediationKeyArn': 'arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1' },
    { 'atrest:deployAs': 'organization-conformance-pack', 'atrest:organizationAccounts': ORG_ACCOUNTS, 'atrest:remediation': 'manual' },
    { 'atrest:alerts': 'on' },
  ]) {
    const { app } = buildApp({ ...BASE, ...context });
    assert.doesNotThrow(() => app.synth(), JSON.stringify(context));
  }
  // The checks do run: an unencrypted, unlogged bucket fails the synthesis.
  const { app, stack } = buildApp(BASE);
  new s3.Bucket(stack, 'Unchecked');
  assert.throws(() => app.synth());
});
