// `atrest pack` (Rust) and the CDK app's conformance pack (TypeScript) write
// the same rules: this test holds the two generators together.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { conformancePackTemplate } from '../lib/config-rule';
import { loadManifest } from '../lib/manifest';
import { inputParameters } from '../lib/settings';
import { REMEDIATION_ROLE_PREFIX } from '../lib/remediation';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = loadManifest(path.join(ROOT, 'rules', 'manifest.json'));

/** The debug `atrest` binary of `cargo test --workspace` (or ATREST_BIN). */
function atrestBin(): string {
  const target = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
  const bin = process.env.ATREST_BIN ?? path.join(target, 'debug', 'atrest');
  if (!fs.existsSync(bin)) {
    throw new Error(`no atrest binary at ${bin}: run \`cargo build --workspace\` first (or set ATREST_BIN)`);
  }
  return bin;
}

function pack(args: string[]): unknown {
  return parse(execFileSync(atrestBin(), ['pack', ...args], { encoding: 'utf8' }));
}

const PREFIX = 'arn:aws:lambda:eu-west-1:111122223333:function:atrest-';
const PARAMS = {
  'kms-key-tags-aligned': { tagKeys: 'CostCenter,Application' },
  'ebs-volume-encrypted': { allowAwsManagedKeys: 'true' },
};

test('atrest pack writes exactly the conformance pack the CDK app deploys', () => {
  const fromCli = pack([
    '--function-arn-prefix', PREFIX,
    '--schedule-frequency', 'Six_Hours',
    '--param', 'kms-key-tags-aligned.tagKeys=CostCenter,Application',
    '--param', 'ebs-volume-encrypted.allowAwsManagedKeys=true',
  ]);
  const fromCdk = conformancePackTemplate(
    manifest.map((rule) => ({
      rule,
      name: `atrest-${rule.id}`,
      functionArn: `${PREFIX}${rule.id}`,
      inputParameters: inputParameters(rule, (PARAMS as Record<string, Record<string, string>>)[rule.id] ?? {}),
      frequency: 'Six_Hours' as const,
    })),
  );
  assert.deepEqual(fromCli, fromCdk);
});

test('atrest pack with account placeholders resolves the function in each account (Fn::Sub)', () => {
  const template = pack([
    '--function-arn-prefix', 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:atrest-',
    '--rule', 'kms-key-rotation-enabled',
  ]) as any;
  assert.deepEqual(Object.keys(template.Resources), ['KmsKeyRotationEnabled']);
  assert.deepEqual(template.Resources.KmsKeyRotationEnabled.Properties.Source.SourceIdentifier, {
    'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:atrest-kms-key-rotation-enabled',
  });
});

test('atrest pack refuses what is not a function ARN prefix', () => {
  assert.throws(
    () => execFileSync(atrestBin(), ['pack', '--function-arn-prefix', 'atrest-'], { encoding: 'utf8', stdio: 'pipe' }),
    (e: any) => e.status === 2 && /--function-arn-prefix: `atrest-` is not a Lambda function ARN prefix/.test(e.stderr),
  );
});

test('atrest pack --remediation writes exactly the runbooks the CDK app deploys, manual and automatic', () => {
  const key = 'arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1';
  for (const mode of ['manual', 'automatic'] as const) {
    const fromCli = pack([
      '--function-arn-prefix', PREFIX,
      '--param', 'kms-key-tags-aligned.tagKeys=CostCenter,Application',
      '--remediation', mode,
      '--remediation-key-arn', key,
    ]) as any;
    const fromCdk = conformancePackTemplate(
      manifest.map((rule) => ({
        rule,
        name: `atrest-${rule.id}`,
        functionArn: `${PREFIX}${rule.id}`,
        inputParameters: inputParameters(rule, rule.id === 'kms-key-tags-aligned' ? PARAMS['kms-key-tags-aligned'] : {}),
        frequency: 'TwentyFour_Hours' as const,
      })),
      { mode, rolePrefix: REMEDIATION_ROLE_PREFIX, keyArn: key },
    );
    assert.deepEqual(fromCli, fromCdk, mode);
    const runbooks = Object.values(fromCli.Resources as Record<string, any>)
      .filter((r: any) => r.Type === 'AWS::Config::RemediationConfiguration')
      .map((r: any) => r.Properties.TargetId)
      .sort();
    assert.deepEqual(runbooks, [
      'AWSConfigRemediation-CancelKeyDeletion',
      'AWSConfigRemediation-EnableEbsEncryptionByDefault',
      'AWSConfigRemediation-EnableKeyRotation',
      'AWSConfigRemediation-EncryptSNSTopic',
    ]);
  }
});
