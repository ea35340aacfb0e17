#!/usr/bin/env node
// The atrest CDK app: reads rules/manifest.json and the packages of
// `make package`, and checks itself with cdk-nag (AwsSolutions, PCI DSS 3.2.1).
import * as path from 'node:path';
import { App, CliCredentialsStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import { ExecutionRoleStack } from '../lib/execution-role-stack';
import { loadManifest } from '../lib/manifest';
import { remediableRules, remediationDeployment } from '../lib/remediation';
import { RulesPackStack } from '../lib/rules-pack-stack';
import { readSettings, selectRules } from '../lib/settings';

/**
 * The app of `cdk synth`; tests build it with their own context. In the
 * central-account pattern (other accounts invoke the functions) it also
 * synthesises the member-account template, `<stack>ExecutionRole`.
 */
export function buildApp(context: Record<string, unknown> = {}): {
  app: App;
  stack: RulesPackStack;
  memberStack?: ExecutionRoleStack;
} {
  const app = new App({ context });
  const appDir = path.resolve(__dirname, '..', '..');
  const settings = readSettings((key) => app.node.tryGetContext(key), appDir);
  const manifest = loadManifest(settings.manifestPath);
  const stackName = app.node.tryGetContext('atrest:stackName') ?? 'AtrestRules';
  const stack = new RulesPackStack(app, stackName, {
    manifest,
    settings,
    // StackSet-ready: assets in the organization's buckets, no bootstrap rule.
    synthesizer:
      settings.stackSetAssets === undefined
        ? undefined
        : new CliCredentialsStackSynthesizer({
            fileAssetsBucketName: `${settings.stackSetAssets}-\${AWS::Region}`,
            bucketPrefix: 'atrest/',
          }),
    description: 'atrest: AWS Config custom rules proving data at rest is encrypted with customer-managed KMS keys',
  });
  const memberStack =
    settings.invokerAccountIds.length === 0
      ? undefined
      : new ExecutionRoleStack(app, `${stackName}ExecutionRole`, {
          rules: selectRules(manifest, settings).map((s) => s.rule),
          roleName: settings.executionRoleName,
          remediable: remediableRules(
            selectRules(manifest, settings).map((s) => s.rule),
            remediationDeployment(settings),
          ),
          description: 'atrest: the role the central atrest functions assume in this member account (deploy as a StackSet)',
        });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new PCIDSS321Checks(app));
  return { app, stack, memberStack };
}

if (require.main === module) {
  try {
    buildApp().app.synth();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
