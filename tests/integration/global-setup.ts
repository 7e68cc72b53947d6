import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import {
  chooseTestDatabase,
  describeTarget,
  dropStaleDatabases,
  prepareTemplate,
  type TTestDatabaseTarget,
} from '../fixtures/test-database';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TTestDatabaseTarget;
  }
}

export default async function setup(project: TestProject) {
  const target = await chooseTestDatabase();
  if (target.kind === 'postgresql') {
    target.template = await prepareTemplate(target.adminUrl);
    const dropped = await dropStaleDatabases(target.adminUrl, target.template);
    if (dropped.length) console.log(`dropped stale test databases: ${dropped.join(', ')}`);
  }
  console.log(`integration database: ${describeTarget(target)}`);
  project.provide('testDatabase', target);
}
