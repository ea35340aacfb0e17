#!/usr/bin/env node
// The atrest CDK app: reads rules/manifest.json and the packages of
// `make package`, and checks itself with cdk-nag (AwsSolutions, PCI DSS 3.2.1).
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import { loadManifest } from '../lib/manifest';
import { RulesPackStack } from '../lib/rules-pack-stack';
import { readSettings } from '../lib/settings';

/** The app of `cdk synth`; tests build it with their own context. */
export function buildApp(context: Record<string, unknown> = {}): { app: App; stack: RulesPackStack } {
  const app = new App({ context });
  const appDir = path.resolve(__dirname, '..', '..');
  const settings = readSettings((key) => app.node.tryGetContext(key), appDir);
  const stack = new RulesPackStack(app, app.node.tryGetContext('atrest:stackName') ?? 'AtrestRules', {
    manifest: loadManifest(settings.manifestPath),
    settings,
    description: 'atrest: AWS Config custom rules proving data at rest is encrypted with customer-managed KMS keys',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new PCIDSS321Checks(app));
  return { app, stack };
}

if (require.main === module) {
  try {
    buildApp().app.synth();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
