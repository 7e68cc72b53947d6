import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128075432 } from './Migration20261128075432';
import { Migration20261128082150 } from './Migration20261128082150';
import { Migration20261128084134 } from './Migration20261128084134';
import { Migration20261128085017 } from './Migration20261128085017';
import { Migration20261128111500 } from './Migration20261128111500';
import { Migration20261128123117 } from './Migration20261128123117';
import { Migration20261128190000 } from './Migration20261128190000';
import { Migration20261128191000 } from './Migration20261128191000';
import { Migration20261201100000 } from './Migration20261201100000';
import { Migration20261201110000 } from './Migration20261201110000';
import { Migration20261201120000 } from './Migration20261201120000';
import { Migration20261202100000 } from './Migration20261202100000';
import { Migration20261203100000 } from './Migration20261203100000';
import { Migration20261204100000 } from './Migration20261204100000';
import { Migration20261205100000 } from './Migration20261205100000';
import { Migration20261205200000 } from './Migration20261205200000';
import { Migration20261205300000 } from './Migration20261205300000';
import { Migration20261206100000 } from './Migration20261206100000';
import { Migration20261206200000 } from './Migration20261206200000';
import { Migration20261207100000 } from './Migration20261207100000';
import { Migration20261207200000 } from './Migration20261207200000';
import { Migration20261207400000 } from './Migration20261207400000';
import { Migration20261208100000 } from './Migration20261208100000';
import { Migration20261208130500 } from './Migration20261208130500';
import { Migration20261209100000 } from './Migration20261209100000';
import { Migration20261210100000 } from './Migration20261210100000';
import { Migration20261211100000 } from './Migration20261211100000';
import { Migration20261213100000 } from './Migration20261213100000';
import { Migration20261214100000 } from './Migration20261214100000';
import { Migration20261214200000 } from './Migration20261214200000';
import { Migration20261215100000 } from './Migration20261215100000';
import { Migration20261216200000 } from './Migration20261216200000';
import { Migration20261216300000 } from './Migration20261216300000';
import { Migration20261217100000 } from './Migration20261217100000';
import { Migration20261218100000 } from './Migration20261218100000';

/**
 * Every migration, in order, listed explicitly (no folder scan: the same list runs from
 * the server, the CLI and the tests). Add each new migration here after creating it.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261128075432', class: Migration20261128075432 },
  { name: 'Migration20261128082150', class: Migration20261128082150 },
  { name: 'Migration20261128084134', class: Migration20261128084134 },
  { name: 'Migration20261128085017', class: Migration20261128085017 },
  { name: 'Migration20261128111500', class: Migration20261128111500 },
  { name: 'Migration20261128123117', class: Migration20261128123117 },
  { name: 'Migration20261128190000', class: Migration20261128190000 },
  { name: 'Migration20261128191000', class: Migration20261128191000 },
  { name: 'Migration20261201100000', class: Migration20261201100000 },
  { name: 'Migration20261201110000', class: Migration20261201110000 },
  { name: 'Migration20261201120000', class: Migration20261201120000 },
  { name: 'Migration20261202100000', class: Migration20261202100000 },
  { name: 'Migration20261203100000', class: Migration20261203100000 },
  { name: 'Migration20261204100000', class: Migration20261204100000 },
  { name: 'Migration20261205100000', class: Migration20261205100000 },
  { name: 'Migration20261205200000', class: Migration20261205200000 },
  { name: 'Migration20261205300000', class: Migration20261205300000 },
  { name: 'Migration20261206100000', class: Migration20261206100000 },
  { name: 'Migration20261206200000', class: Migration20261206200000 },
  { name: 'Migration20261207100000', class: Migration20261207100000 },
  { name: 'Migration20261207200000', class: Migration20261207200000 },
  { name: 'Migration20261207400000', class: Migration20261207400000 },
  { name: 'Migration20261208100000', class: Migration20261208100000 },
  { name: 'Migration20261208130500', class: Migration20261208130500 },
  { name: 'Migration20261209100000', class: Migration20261209100000 },
  { name: 'Migration20261210100000', class: Migration20261210100000 },
  { name: 'Migration20261211100000', class: Migration20261211100000 },
  { name: 'Migration20261213100000', class: Migration20261213100000 },
  { name: 'Migration20261214100000', class: Migration20261214100000 },
  { name: 'Migration20261214200000', class: Migration20261214200000 },
  { name: 'Migration20261215100000', class: Migration20261215100000 },
  { name: 'Migration20261216200000', class: Migration20261216200000 },
  { name: 'Migration20261216300000', class: Migration20261216300000 },
  { name: 'Migration20261217100000', class: Migration20261217100000 },
  { name: 'Migration20261218100000', class: Migration20261218100000 },
];
