// The synthesised RulesPackStack against the manifest: one function and one
// Config rule per rule, their triggers, scope, parameters and permissions,
// least privilege, and cdk-nag (AwsSolutions, PCI DSS 3.2.1) clean.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { aws_s3 as s3 } from 'aws-cdk-lib';
import { buildApp } from '../bin/app';
import { loadManifest, recordedScope } from '../lib/manifest';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = loadManifest(path.join(ROOT, 'rules', 'manifest.json'));
const TAGS = { 'kms-key-tags-aligned': { tagKeys: 'CostCenter,Application' } };
const BASE = { 'atrest:parameters': TAGS };

function synth(context: Record<string, unknown> = {}) {
  const { app, stack } = buildApp({ ...BASE, ...context });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as { Resources: Record<string, any> } };
}

function resources(json: { Resources: Record<string, any> }, type: string): any[] {
  return Object.values(json.Resources).filter((r) => r.Type === type);
}

const byName = (items: any[], name: string, key: string) => items.find((i) => i.Properties[key] === name);

test('one function per manifest rule, provided.al2023 on arm64, handler bootstrap, 128 MB, the spec timeout', () => {
  const { json } = synth();
  const functions = resources(json, 'AWS::Lambda::Function');
  assert.equal(functions.length, manifest.length);
  for (const rule of manifest) {
    const fn = byName(functions, `atrest-${rule.id}`, 'FunctionName');
    assert.ok(fn, `no function for ${rule.id}`);
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.equal(fn.Properties.Handler, 'bootstrap');
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    assert.equal(fn.Properties.MemorySize, 128);
    assert.equal(fn.Properties.Timeout, rule.timeoutSeconds);
    assert.ok(fn.Properties.LoggingConfig.LogGroup, `${rule.id} logs to its own log group`);
  }
  for (const lg of resources(json, 'AWS::Logs::LogGroup')) {
    assert.equal(lg.Properties.RetentionInDays, 365);
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
      [...rule.iamActions, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
      rule.id,
    );
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
  const accounts = resources(central.json, 'AWS::Lambda::Permission').map((p) => JSON.stringify(p.Properties.SourceAccount));
  assert.equal(accounts.length, manifest.length * 3);
  assert.equal(accounts.filter((a) => a === '"444455556666"').length, manifest.length);
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

  const org = synth({ 'atrest:deployAs': 'organization-conformance-pack', 'atrest:excludedAccounts': '111122223333' });
  const [orgPack] = resources(org.json, 'AWS::Config::OrganizationConformancePack');
  assert.deepEqual(orgPack.Properties.ExcludedAccounts, ['111122223333']);
  assert.equal(resources(org.json, 'AWS::Config::ConfigRule').length, 0);

  // Functions only: an organization pack from `atrest pack` calls them in each account.
  const functions = synth({ 'atrest:deployAs': 'functions' });
  assert.equal(resources(functions.json, 'AWS::Lambda::Function').length, manifest.length);
  assert.equal(resources(functions.json, 'AWS::Lambda::Permission').length, manifest.length);
  for (const type of ['AWS::Config::ConfigRule', 'AWS::Config::ConformancePack', 'AWS::Config::OrganizationConformancePack']) {
    assert.equal(resources(functions.json, type).length, 0, type);
  }
});

test('a rule that assumes the execution role may assume only the named roles', () => {
  const params = { ...TAGS, 'ebs-volume-encrypted': { assumeExecutionRole: 'true' } };
  assert.throws(() => synth({ 'atrest:parameters': params }), /atrest:executionRoleArns/);
  const { json } = synth({
    'atrest:parameters': params,
    'atrest:executionRoleArns': ['arn:aws:iam::*:role/atrest-execution'],
  });
  const assumes = resources(json, 'AWS::IAM::ManagedPolicy').filter((p) =>
    JSON.stringify(p.Properties.PolicyDocument).includes('sts:AssumeRole'),
  );
  assert.equal(assumes.length, 1);
  assert.ok(JSON.stringify(assumes[0].Properties.PolicyDocument).includes('arn:aws:iam::*:role/atrest-execution'));
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
  ];
  for (const [context, message] of cases) {
    assert.throws(() => buildApp({ ...BASE, ...context }), message, JSON.stringify(context));
  }
  // Leaving a rule out is the way around its required parameter.
  const { json } = synth({ 'atrest:parameters': {}, 'atrest:rules': manifest.filter((r) => r.id !== 'kms-key-tags-aligned').map((r) => r.id) });
  assert.equal(resources(json, 'AWS::Config::ConfigRule').length, manifest.length - 1);
});

test('cdk-nag AwsSolutions and PCI DSS 3.2.1 report no unacknowledged finding', () => {
  for (const context of [{}, { 'atrest:encryptionKey': true }, { 'atrest:deployAs': 'organization-conformance-pack' }]) {
    const { app } = buildApp({ ...BASE, ...context });
    assert.doesNotThrow(() => app.synth(), JSON.stringify(context));
  }
  // The checks do run: an unencrypted, unlogged bucket fails the synthesis.
  const { app, stack } = buildApp(BASE);
  new s3.Bucket(stack, 'Unchecked');
  assert.throws(() => app.synth());
});
